"""After a faulty run: where every accepted transaction ended up, and whether anything was counted twice.

- processed: DetectFunction's marker exists (its effects were applied once, atomically with the marker);
- in DLQ: the transaction's sequence number lies in a dead-letter record's batch range for that function;
- lost: accepted, neither processed nor dead-lettered, for DetectFunction or for AggregateFunction;
- duplicated: anything applied more than once, where a second application would show:
  customer profiles' transaction counts (ADD) against the processed count, each entity kind's transaction
  counts (ADD, most written outside the transaction with a token) against the processed transactions naming
  one (a difference either way counts: a lost entity write would show as a shortfall), the per-minute buckets (ADD)
  against AggregateFunction's markers, alert occurrences against the findings the markers record, and
  messages published twice for one alert event.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from infra.local.outbox import topic_notifications
from infra.local.stack import LocalStack
from infra.local.stream_reader import StreamCursor
from shopwatch.detection.service import alerting_detectors
from shopwatch.detectors.entities import entity_keys
from shopwatch.detectors.findings import Finding
from shopwatch.domain.transaction import Transaction
from shopwatch.storage.items import from_attributes

WINDOW_DETECTORS = {"volume", "status_mix"}  # their alerts come from WindowFunction, not from transactions
_FUNCTION = re.compile(r":function:([A-Za-z]+)$")


@dataclass(frozen=True)
class Row:
    fault: str
    transactions: int
    processed: int
    in_dlq: int
    lost: int
    duplicated: int
    injected: str = ""
    duplicates: tuple[tuple[str, int], ...] = ()  # where, when there are any

    def cells(self) -> list[str]:
        where = ", ".join(f"{name} {n}" for name, n in self.duplicates if n)
        return [self.fault, str(self.transactions), str(self.processed), str(self.in_dlq), str(self.lost),
                f"{self.duplicated} ({where})" if where else str(self.duplicated), self.injected]  # fmt: skip


def _scan(stack: LocalStack, table: str, **kwargs: Any) -> list[dict[str, Any]]:
    client, items, start = stack.client("dynamodb"), [], None
    while True:
        page = client.scan(TableName=stack.table(table), **kwargs, **({"ExclusiveStartKey": start} if start else {}))
        items.extend(from_attributes(i) for i in page.get("Items", []))
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def dead_lettered(stack: LocalStack) -> dict[str, set[str]]:
    """Transaction ids per function, from the dead-letter queue's batch ranges and the stream's records."""
    by_sequence = {
        int(r["dynamodb"]["SequenceNumber"]): r["dynamodb"]["Keys"]["transaction_id"]["S"]
        for r in StreamCursor(
            stack.client("dynamodbstreams"), stack.resources.stream_arns["TransactionsTable"]
        ).read_new()
    }
    sqs, url = stack.client("sqs"), stack.resources.queues["StreamDeadLetterQueue"]
    found: dict[str, set[str]] = {}
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300).get("Messages", [])
        if not messages:
            return found
        for message in messages:
            body = json.loads(message["Body"])
            info = body["DDBStreamBatchInfo"]
            if info["streamArn"] != stack.resources.stream_arns["TransactionsTable"]:
                continue
            function = _FUNCTION.search(body["requestContext"]["functionArn"]).group(1)
            low, high = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
            found.setdefault(function, set()).update(t for s, t in by_sequence.items() if low <= s <= high)


def _entity_count_mismatch(stack: LocalStack, state: list[dict[str, Any]], detected: set[str]) -> int:
    """How far each entity kind's summed transaction counts are from the processed transactions naming one."""
    expected: Counter[str] = Counter()
    for item in _scan(stack, "TransactionsTable"):
        if item["transaction_id"] in detected:
            expected.update(k for k in entity_keys(Transaction.from_item(item)) if k != "customer")
    counted: Counter[str] = Counter()
    for item in state:
        if item["pk"].startswith("ENT#") and item["sk"] == "AGG":
            counted[item["pk"].split("#")[1]] += int(item.get("transactions", 0))
    return sum(abs(counted[k] - expected[k]) for k in expected | counted)


def _case_count_mismatch(stack: LocalStack, alerts: list[dict]) -> int:
    """How far each case's alert count is from the alerts that name it: a case grows in the unit of work that
    opens its alert, so a retried or replayed record must count it once, or not at all."""
    named = Counter(a["case_id"] for a in alerts if a.get("case_id"))
    counted = Counter({c["case_id"]: int(c["alert_count"]) for c in _scan(stack, "CasesTable")})
    return sum(abs(counted[k] - named[k]) for k in named | counted)


def account(stack: LocalStack, fault: str, accepted: set[str], injected: str = "") -> Row:
    state = _scan(stack, "StateTable")
    markers = {(i["pk"][4:], i["sk"]) for i in state if i["pk"].startswith("TXN#")}
    detected = {t for t, sk in markers if sk == "DETECT#0"} & accepted
    aggregated = {t for t, sk in markers if sk == "AGG"} & accepted
    dlq = dead_lettered(stack)
    lost = len(accepted - detected - dlq.get("DetectFunction", set()))
    lost += len(accepted - aggregated - dlq.get("AggregateFunction", set()))

    profiled = sum(int(i.get("transactions", 0)) for i in state if i["pk"].startswith("CUST#") and i["sk"] == "PROFILE")
    bucketed = sum(int(i.get("transactions", 0)) for i in state if i["pk"].startswith("AGG#minute#"))
    findings = sum(
        len(alerting_detectors([Finding.from_dict(f) for f in json.loads(i.get("findings", "[]"))]))
        for i in state
        if i["pk"].startswith("TXN#") and i["sk"].startswith("DETECT#")
    )
    alerts = _scan(stack, "AlertsTable")
    occurrences = sum(int(a["occurrences"]) for a in alerts if a["detector"] not in WINDOW_DETECTORS)
    published = Counter()
    for _id, message, _subject, _attributes, _group in topic_notifications(stack.resources.topics["AlertsTopic"]):
        default = json.loads(json.loads(message)["default"])
        published[(default["alert_id"], default["severity"])] += 1
    duplicates = (
        ("profiles", profiled - len(detected)),
        ("entity counts", _entity_count_mismatch(stack, state, detected)),
        ("buckets", bucketed - len(aggregated)),
        ("alert occurrences", occurrences - findings),
        ("case alerts", _case_count_mismatch(stack, alerts)),
        ("messages", sum(n - 1 for n in published.values())),
    )
    # a dead-letter record names a batch's range; what in it was processed (before or after) is not in the DLQ
    unprocessed_in_dlq = (dlq.get("DetectFunction", set()) - detected) | (
        dlq.get("AggregateFunction", set()) - aggregated
    )
    duplicated = sum(n for _, n in duplicates)
    return Row(fault, len(accepted), len(detected), len(unprocessed_in_dlq), lost, duplicated, injected, duplicates)
