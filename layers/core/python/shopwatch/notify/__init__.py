"""Telling people: which alert changes deserve a message, what the message says, and how often."""
