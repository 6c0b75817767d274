"""boto3 clients, built once per container with timeouts and standard retries.

Endpoints come from the standard AWS_ENDPOINT_URL variables, which is how the local stack and
`sam local invoke` point the very same code at moto.
"""

from __future__ import annotations

import threading
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


_BUILDING = threading.Lock()


@cache
def _client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CONFIG)


def client(service: str) -> Any:
    """The container's client for `service`. The lock makes threads that ask at once (ingest's parallel
    puts on a cold start) share one client instead of each building its own (~50 ms each)."""
    with _BUILDING:
        return _client(service)


def reset_clients() -> None:
    """Forget cached clients (tests that switch endpoints or credentials call this)."""
    _client.cache_clear()
