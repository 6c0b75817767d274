"""Fault injection for the local stack: AWS calls that fail as they fail in production.

A botocore `before-call` handler, registered ahead of every other (so also ahead of the direct-call path),
answers a chosen share of calls with the error AWS would send: DynamoDB throttling
(ProvisionedThroughputExceededException) on the functions' reads and writes, SNS InternalError on publish.
botocore raises them as ClientError exactly as for a real answer. Stream reads (the pollers' GetRecords) are
left alone: the faults are the functions', not the event source mapping's.

Installed before the stack starts (botocore copies its built-in handlers into each new client); switched on
and off around the traffic, so the checks afterwards read the truth undisturbed.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

DYNAMODB_DATA_CALLS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "BatchGetItem", "BatchWriteItem",
     "TransactWriteItems", "TransactGetItems"}
)  # fmt: skip
_ERRORS = {
    "dynamodb": [
        (400, "ProvisionedThroughputExceededException", "The level of configured provisioned throughput for the "
         "table was exceeded (injected)"),
        (500, "InternalServerError", "Internal server error (injected)"),
    ],
    "sns": [(500, "InternalError", "Internal error (injected)")],
}  # fmt: skip


@dataclass
class FaultInjector:
    dynamodb_error_rate: float = 0.0
    sns_error_rate: float = 0.0
    seed: int = 7
    enabled: bool = False
    injected: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)  # noqa: S311 - which calls fail, not a secret
        self._lock = threading.Lock()
        self._handlers = [
            ("before-call.dynamodb", self._before_dynamodb),
            ("before-call.sns.Publish", self._before_sns),
        ]

    def install(self) -> FaultInjector:
        for handler in reversed(self._handlers):
            BUILTIN_HANDLERS.insert(0, handler)
        return self

    def uninstall(self) -> None:
        self.enabled = False
        for handler in self._handlers:
            if handler in BUILTIN_HANDLERS:
                BUILTIN_HANDLERS.remove(handler)

    def _roll(self, rate: float) -> bool:
        with self._lock:
            return self.enabled and rate > 0 and self._random.random() < rate

    def _before_dynamodb(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        if model.name in DYNAMODB_DATA_CALLS and self._roll(self.dynamodb_error_rate):
            return self._error("dynamodb", model.name)
        return None

    def _before_sns(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        return self._error("sns", model.name) if self._roll(self.sns_error_rate) else None

    def _error(self, service: str, operation: str) -> tuple[AWSResponse, dict[str, Any]]:
        with self._lock:
            status, code, message = self._random.choice(_ERRORS[service])
            self.injected[f"{service}.{operation}"] += 1
        response = AWSResponse(url="https://injected.local/", status_code=status, headers={}, raw=None)
        parsed = {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "injected", "HTTPHeaders": {}},
        }
        return response, parsed
