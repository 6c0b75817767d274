"""Repositories: the only code that talks to DynamoDB and SNS. Handlers and services call these."""
