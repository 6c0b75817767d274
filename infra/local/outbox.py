"""Where notifications land locally: what SNS would have delivered to each of the template's subscriptions.

The local stack runs moto in this process; every publish (to AlertsTopic, DigestTopic) is recorded on moto's topic with its
per-protocol structure and attributes. The outbox applies each subscription's FilterPolicy (as SNS does) and
keeps the body that protocol would get: the full e-mail text with its subject, or the SMS text. It is a list in
memory and a JSONL file that the CLI reads. (It reads moto's topic record, `sent_notifications`: a test pins
that this is where moto keeps it.)
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from infra.local.stream_events import passes_filters


@dataclass(frozen=True)
class Subscription:
    logical_id: str
    protocol: str
    endpoint: str
    filter_policy: dict[str, Any]
    topic_arn: str


def _attribute_values(attributes: dict[str, Any] | None) -> dict[str, Any]:
    values = {}
    for name, attribute in (attributes or {}).items():
        values[name] = (
            attribute.get("StringValue", attribute.get("Value")) if isinstance(attribute, dict) else attribute
        )
    return values


def topic_notifications(topic_arn: str) -> list[tuple[Any, ...]]:
    from moto.sns.models import sns_backends

    account, region = topic_arn.split(":")[4], topic_arn.split(":")[3]
    return sns_backends[account][region].topics[topic_arn].sent_notifications


class Outbox:
    """`published_on_disk(topic_arn)`, when given (a durable stack), says how many of a topic's publishes the
    journal holds: only those are delivered, so a delivery in the file is never undone by a crash, and the
    file can be rebuilt from the kept publishes at start without losing or repeating one (see `_rebuild`)."""

    def __init__(
        self,
        subscriptions: list[Subscription],
        path: Path | None = None,
        published_on_disk: Callable[[str], int] | None = None,
    ) -> None:
        self.subscriptions = subscriptions
        self.path = path
        self.published_on_disk = published_on_disk
        self.deliveries: list[dict[str, Any]] = []
        self._seen = {s.topic_arn: 0 for s in subscriptions}
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            if published_on_disk is None:
                path.write_text("")  # nothing is kept: the file starts empty, as moto's topics do
            else:
                self._rebuild(path)

    def _rebuild(self, path: Path) -> None:
        """Start the file from what moto's topics hold now: nothing on a new stack; on a restored one, one
        delivery per kept publish and subscription, keeping the time of those the old file already had (a
        line torn by a kill is read as missing and written again). Written whole, then renamed."""
        earlier: dict[tuple[str, str], str] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    old = json.loads(line)
                    earlier[(old["message_id"], old["subscription"])] = old["at"]
                except (ValueError, KeyError, TypeError):
                    continue
        for topic_arn in self._seen:
            for delivery in self._deliveries(topic_arn):
                delivery["at"] = earlier.get((delivery["message_id"], delivery["subscription"]), delivery["at"])
                self.deliveries.append(delivery)
        self.deliveries.sort(key=lambda d: d["at"])
        draft = path.with_name(path.name + ".new")
        draft.write_text("".join(json.dumps(d) + "\n" for d in self.deliveries))
        draft.replace(path)

    def collect(self) -> list[dict[str, Any]]:
        """Turn new publishes into deliveries; returns the new ones."""
        with self._lock:
            new: list[dict[str, Any]] = []
            for topic_arn in self._seen:
                new.extend(self._deliveries(topic_arn))
            self.deliveries.extend(new)
            if self.path is not None and new:
                with self.path.open("a") as handle:
                    for delivery in new:
                        handle.write(json.dumps(delivery) + "\n")
            return new

    def _deliveries(self, topic_arn: str) -> list[dict[str, Any]]:
        published = topic_notifications(topic_arn)
        end = len(published) if self.published_on_disk is None else self.published_on_disk(topic_arn)
        fresh = published[self._seen[topic_arn] : end]
        self._seen[topic_arn] += len(fresh)
        new: list[dict[str, Any]] = []
        for message_id, message, subject, attributes, _group in fresh:
            values = _attribute_values(attributes)
            try:
                structure = json.loads(message)
            except ValueError:
                structure = {"default": message}
            for subscription in self.subscriptions:
                if subscription.topic_arn != topic_arn:
                    continue
                if subscription.filter_policy and not passes_filters(values, [subscription.filter_policy]):
                    continue
                new.append(
                    {
                        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                        "subscription": subscription.logical_id,
                        "protocol": subscription.protocol,
                        "endpoint": subscription.endpoint,
                        "message_id": message_id,
                        "subject": subject if subscription.protocol == "email" else None,
                        "body": structure.get(subscription.protocol, structure.get("default", message)),
                        "attributes": values,
                    }
                )
        return new
