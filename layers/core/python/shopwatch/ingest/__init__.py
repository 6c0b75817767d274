"""Ingest: turn a request body into validated transactions and store each one exactly once."""
