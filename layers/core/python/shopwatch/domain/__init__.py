"""Domain model: what a transaction and an alert are, independent of storage and transport."""
