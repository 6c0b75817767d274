"""boto3 clients, built once per container with timeouts and standard retries.

Endpoints come from the standard AWS_ENDPOINT_URL variables, which is how the local stack and
`sam local invoke` point the very same code at moto.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 4},
    max_pool_connections=32,
)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or credentials call this)."""
    client.cache_clear()
