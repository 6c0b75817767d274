"""Stop moto from keeping every DynamoDB, Streams, SNS and SQS model object it ever created.

moto's BaseModel appends each new instance to its class's `instances_tracked` list (moto/core/common_models.py)
so that moto's dashboard (/moto-api/data.json) can list them, and nothing removes them but a full reset. For
DynamoDB that is every `Item` ever built (each PutItem, each UpdateItem's new version, each transaction's
snapshot), every `StreamRecord` and every `ShardIterator`: the local stack's memory grew with the traffic seen,
~56 KB per simulated transaction, long after the items themselves were replaced, deleted by TTL or trimmed
from the stream. The local stack never uses the dashboard, so for these services' models the list becomes
one that keeps nothing. The objects a table, stream or queue holds stay exactly as they were: this changes
what moto remembers about the past, not what it answers.

A moto reset (reset_model_data, run by mock_aws on start and by /moto-api/reset) puts plain lists back, so
install() runs after the mock has started, as the local stack does.
"""

from __future__ import annotations

from typing import Any

from moto.core.model_instances import model_data

SERVICES = ("dynamodb", "dynamodbstreams", "sns", "sqs")


class Untracked(list):  # type: ignore[type-arg]
    """moto's per-model instance list, keeping nothing."""

    def append(self, _: Any) -> None:
        return None


def _models() -> list[Any]:
    # importing registers the models in model_data
    import moto.dynamodb.models
    import moto.dynamodbstreams.models
    import moto.sns.models
    import moto.sqs.models  # noqa: F401

    return [cls for service in SERVICES for cls in model_data[service].values()]


def install() -> None:
    """Keep no history of these services' model instances (idempotent); those tracked so far are let go."""
    for cls in _models():
        if not isinstance(cls.__dict__.get("instances_tracked"), Untracked):
            cls.instances_tracked = Untracked()


def uninstall() -> None:
    """Track again, from empty, as moto's own reset leaves it."""
    for cls in _models():
        cls.instances_tracked = []


def installed() -> bool:
    return all(isinstance(cls.__dict__.get("instances_tracked"), Untracked) for cls in _models())


__all__ = ["SERVICES", "Untracked", "install", "installed", "uninstall"]
