"""boto3 clients, built once per container with timeouts and standard retries.

Endpoints come from the standard AWS_ENDPOINT_URL variables, which is how the local stack and
`sam local invoke` point the very same code at moto.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

TRANSIENT_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
     "InternalServerError", "ServiceUnavailable", "TransactionConflictException"}
)  # fmt: skip

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


def with_retries[T](call: Callable[[], T], attempts: int = 8, base_seconds: float = 0.05) -> T:
    """`call()`, retried with jittered backoff (at most ~6 s in all) while AWS answers with a transient error.
    For the writes that must not fail once something irreversible happened before them (a message was
    published): the SDK's own retries may be spent by a burst of throttling."""
    for attempt in range(attempts):
        try:
            return call()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in TRANSIENT_ERRORS or attempt == attempts - 1:
                raise
            time.sleep(min(2.0, base_seconds * 2**attempt) * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
    raise AssertionError("unreachable")
