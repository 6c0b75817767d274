"""Lambda's DynamoDB stream event source mapping, on loopback.

Per shard, in sequence order: records are read through the DynamoDB Streams API, dropped when no
FilterCriteria pattern matches, batched up to BatchSize or MaximumBatchingWindowInSeconds, and delivered in
Lambda's exact event shape. Then, as Lambda does:
- a response with batchItemFailures (ReportBatchItemFailures) retries from the lowest failed sequence number;
- a function error retries the batch, split in two first when BisectBatchOnFunctionError is on (a split does
  not count as a retry);
- after MaximumRetryAttempts, or for records older than MaximumRecordAgeInSeconds, an on-failure record in
  Lambda's shape goes to the SQS destination and the shard moves on;
- a position the stream has trimmed (TrimmedDataAccessException, stream_retention) resumes at the oldest
  record kept (the trimmed ones are lost, counted in stats.trimmed_resumes); an expired iterator
  (ExpiredIteratorException, after 15 idle minutes) resumes after the last record read.

`wait_until_quiet` tells when every poller is done: nothing read, held or being delivered, checked by reads
that began after all were seen idle (the checks after a run, and the fault suite's accounting, read a
finished state only then).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from infra.local.functions import LocalFunction
from infra.local.stream_events import lambda_event, lambda_record, parse_filters, passes_filters
from infra.template import Resolver


@dataclass(frozen=True)
class StreamSource:
    function: str
    event_name: str
    stream_arn: str
    batch_size: int = 100
    window_seconds: float = 0.0
    filters: tuple[dict[str, Any], ...] = ()
    report_item_failures: bool = False
    max_retries: int = -1  # -1: until the record expires, as Lambda's default
    bisect: bool = False
    max_record_age: int = -1
    on_failure_queue_url: str | None = None
    starting_position: str = "TRIM_HORIZON"


def sources_from_template(
    template: dict[str, Any], resolver: Resolver, queue_urls_by_arn: dict[str, str]
) -> list[StreamSource]:
    sources = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] != "DynamoDB":
                continue
            p = event["Properties"]
            destination = p.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            sources.append(
                StreamSource(
                    function=name,
                    event_name=event_name,
                    stream_arn=resolver.resolve(p["Stream"]),
                    batch_size=int(resolver.resolve(p.get("BatchSize", 100))),
                    window_seconds=float(resolver.resolve(p.get("MaximumBatchingWindowInSeconds", 0))),
                    filters=tuple(parse_filters(p.get("FilterCriteria"))),
                    report_item_failures="ReportBatchItemFailures" in p.get("FunctionResponseTypes", []),
                    max_retries=int(resolver.resolve(p.get("MaximumRetryAttempts", -1))),
                    bisect=bool(p.get("BisectBatchOnFunctionError", False)),
                    max_record_age=int(resolver.resolve(p.get("MaximumRecordAgeInSeconds", -1))),
                    on_failure_queue_url=queue_urls_by_arn.get(resolver.resolve(destination)) if destination else None,
                    starting_position=p.get("StartingPosition", "TRIM_HORIZON"),
                )
            )
    return sources


@dataclass
class PollerStats:
    delivered: int = 0
    filtered_out: int = 0
    invocations: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    dead_lettered: int = 0
    trimmed_resumes: int = 0  # times the shard's position had been trimmed and reading resumed at the oldest
    lag_seconds: list[float] = field(default_factory=list)


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class StreamPoller(threading.Thread):
    def __init__(
        self,
        source: StreamSource,
        function: LocalFunction,
        streams_client: Any,
        sqs_client: Any,
        stop: threading.Event,
        *,
        poll_interval: float = 0.05,
        retry_base_seconds: float = 0.05,
        on_invoke: Callable[[StreamSource, dict[str, Any], Any], None] | None = None,
        resume_after: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name=f"poller-{source.function}-{source.event_name}", daemon=True)
        self.source = source
        self.function = function
        self.streams = streams_client
        self.sqs = sqs_client
        self.stop_event = stop
        self.poll_interval = poll_interval
        self.retry_base_seconds = retry_base_seconds
        self.on_invoke = on_invoke
        self.stats = PollerStats()
        self._iterators: dict[str, str | None] = {}
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._read_upto: dict[str, str] = dict(resume_after or {})  # per shard, the last sequence number read
        self._first_pending_at: dict[str, float] = {}
        self._shards_checked = 0.0
        # idle: the last poll cycle read nothing and held nothing; cleared as soon as a record is read, so it is
        # never set while a batch is being delivered (or retried). The counters let wait_until_quiet tell a
        # poller that stayed idle from one that did something in between.
        self.idle = threading.Event()
        self.quiet_polls = 0  # poll cycles that read nothing and had nothing to deliver
        self.activity = 0  # poll cycles, reads and failed polls that did or may have done something
        self.halt = threading.Event()  # this poller alone stops (a restart), the stack goes on
        # per shard, the last sequence number whose records are all handled: where a restarted mapping resumes
        self.checkpoints: dict[str, str] = dict(resume_after or {})

    def _stopped(self) -> bool:
        return self.stop_event.is_set() or self.halt.is_set()

    def _checkpoint(self, shard_id: str, batch: list[dict[str, Any]]) -> None:
        if batch:
            last = max(int(r["dynamodb"]["SequenceNumber"]) for r in batch)
            if int(self.checkpoints.get(shard_id, "0")) < last:
                self.checkpoints[shard_id] = str(last)

    # --- reading ------------------------------------------------------------------------------------------------
    def _refresh_shards(self) -> None:
        if time.monotonic() - self._shards_checked < 1.0 and self._iterators:
            return
        self._shards_checked = time.monotonic()
        description = self.streams.describe_stream(StreamArn=self.source.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            if shard["ShardId"] not in self._iterators:
                self._iterators[shard["ShardId"]] = self._iterator(shard["ShardId"], self.checkpoints)
                self._pending[shard["ShardId"]] = []

    def _iterator(self, shard_id: str, after: dict[str, str]) -> str:
        """An iterator after `after[shard_id]`, or at the mapping's starting position. A position the stream
        has trimmed (TrimmedDataAccessException) resumes at the oldest record kept, as Lambda does: the
        trimmed records are lost and counted."""
        kind = "LATEST" if self.source.starting_position == "LATEST" else "TRIM_HORIZON"
        position: dict[str, str] = {"ShardIteratorType": kind}
        if shard_id in after:
            position = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": after[shard_id]}
        try:
            return self.streams.get_shard_iterator(StreamArn=self.source.stream_arn, ShardId=shard_id, **position)[
                "ShardIterator"
            ]
        except ClientError as error:
            if error.response["Error"]["Code"] != "TrimmedDataAccessException":
                raise
            self.stats.trimmed_resumes += 1
            return self.streams.get_shard_iterator(
                StreamArn=self.source.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]

    def _read(self, shard_id: str) -> None:
        iterator = self._iterators.get(shard_id)
        if iterator is None:
            return
        try:
            response = self.streams.get_records(ShardIterator=iterator, Limit=1000)
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "ExpiredIteratorException":  # idle past 15 minutes: resume after what was read
                self._iterators[shard_id] = self._iterator(shard_id, self._read_upto)
                return
            if code == "TrimmedDataAccessException":  # the records under the iterator were trimmed meanwhile
                self.stats.trimmed_resumes += 1
                self._iterators[shard_id] = self.streams.get_shard_iterator(
                    StreamArn=self.source.stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
                return
            raise
        self._iterators[shard_id] = response.get("NextShardIterator")
        if response.get("Records"):
            self._read_upto[shard_id] = response["Records"][-1]["dynamodb"]["SequenceNumber"]
        if response.get("Records"):
            self._busy()  # before anything is held or delivered
        for raw in response.get("Records", []):
            record = lambda_record(raw, self.source.stream_arn)
            if passes_filters(record, list(self.source.filters)):
                if not self._pending[shard_id]:
                    self._first_pending_at[shard_id] = time.monotonic()
                self._pending[shard_id].append(record)
            else:
                self.stats.filtered_out += 1

    def poll_once(self) -> int:
        """Read what is new and deliver every batch that is due; the number of records delivered."""
        self._refresh_shards()
        delivered = 0
        for shard_id in list(self._iterators):
            self._read(shard_id)
            pending = self._pending[shard_id]
            while pending:
                waited = time.monotonic() - self._first_pending_at.get(shard_id, 0.0)
                if len(pending) < self.source.batch_size and waited < self.source.window_seconds:
                    break
                batch, self._pending[shard_id] = pending[: self.source.batch_size], pending[self.source.batch_size :]
                pending = self._pending[shard_id]
                self._first_pending_at[shard_id] = time.monotonic()
                self._deliver(shard_id, batch)
                delivered += len(batch)
        return delivered

    def pending(self) -> int:
        return sum(len(p) for p in self._pending.values())

    def _busy(self) -> None:
        self.idle.clear()
        self.activity += 1

    def run(self) -> None:
        while not self._stopped():
            activity = self.activity
            try:
                moved = self.poll_once()
            except Exception:  # noqa: BLE001 - a poller must outlive a passing read error; it retries
                moved = -1
            if moved == 0 and self.activity == activity and self.pending() == 0:
                self.quiet_polls += 1
                self.idle.set()
            else:
                self._busy()
            if moved <= 0:
                self._pause(self.poll_interval)

    # --- delivering ------------------------------------------------------------------------------------------
    def _invoke(self, batch: list[dict[str, Any]]) -> tuple[str, list[str]]:
        """("ok"|"partial"|"error", failed sequence numbers)."""
        self.stats.invocations += 1
        event = lambda_event(json.loads(json.dumps(batch)))
        try:
            response = self.function.invoke(event)
        except Exception:  # noqa: BLE001 - a function error, as Lambda sees it
            self.stats.function_errors += 1
            if self.on_invoke:
                self.on_invoke(self.source, event, None)
            return "error", []
        if self.on_invoke:
            self.on_invoke(self.source, event, response)
        failures = (response or {}).get("batchItemFailures", []) if self.source.report_item_failures else []
        if not failures:
            return "ok", []
        identifiers = [f.get("itemIdentifier") for f in failures]
        if any(i is None or i == "" for i in identifiers):  # Lambda treats a malformed report as a full failure
            return "error", []
        self.stats.partial_failures += 1
        return "partial", [str(i) for i in identifiers]

    def _deliver(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        work: list[tuple[list[dict[str, Any]], int]] = [(records, 0)]
        while work and not self._stopped():
            batch, retries = work.pop(0)
            batch = self._drop_expired(shard_id, batch, retries)
            if not batch:
                continue
            outcome, failed = self._invoke(batch)
            if outcome == "ok":
                self.stats.delivered += len(batch)
                self._record_lag(batch)
                self._checkpoint(shard_id, batch)
                continue
            if outcome == "partial":
                known = {r["dynamodb"]["SequenceNumber"] for r in batch}
                lowest = min((int(s) for s in failed if s in known), default=None)
                if lowest is None:  # identifiers that are not in the batch: a full failure
                    outcome = "error"
                else:
                    done = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) < lowest]
                    rest = [r for r in batch if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
                    self.stats.delivered += len(done)
                    self._record_lag(done)
                    self._checkpoint(shard_id, done)
                    if self._exhausted(retries):
                        self._dead_letter(shard_id, rest, retries + 1, "RetryAttemptsExhausted")
                    else:
                        self._backoff(retries)
                        work.insert(0, (rest, retries + 1))
                    continue
            if self.source.bisect and len(batch) > 1:
                middle = len(batch) // 2
                work[:0] = [(batch[:middle], retries), (batch[middle:], retries)]
            elif self._exhausted(retries):
                self._dead_letter(shard_id, batch, retries + 1, "RetryAttemptsExhausted")
            else:
                self._backoff(retries)
                work.insert(0, (batch, retries + 1))

    def _exhausted(self, retries: int) -> bool:
        return self.source.max_retries >= 0 and retries >= self.source.max_retries

    def _backoff(self, retries: int) -> None:
        self._pause(min(1.0, self.retry_base_seconds * 2**retries))

    def _pause(self, seconds: float) -> None:
        """Sleep, waking early when this poller is halted (a stack stop is seen when the pause ends)."""
        self.halt.wait(seconds)

    def _drop_expired(self, shard_id: str, batch: list[dict[str, Any]], retries: int) -> list[dict[str, Any]]:
        if self.source.max_record_age < 0:
            return batch
        now = time.time()
        expired = [r for r in batch if now - r["dynamodb"]["ApproximateCreationDateTime"] > self.source.max_record_age]
        if expired:
            self._dead_letter(shard_id, expired, retries, "RecordAgeExceeded")
        return [r for r in batch if r not in expired]

    def _record_lag(self, batch: list[dict[str, Any]]) -> None:
        now = time.time()
        self.stats.lag_seconds.extend(now - r["dynamodb"]["ApproximateCreationDateTime"] for r in batch)
        del self.stats.lag_seconds[:-10_000]

    def _dead_letter(self, shard_id: str, batch: list[dict[str, Any]], invokes: int, condition: str) -> None:
        self.stats.dead_lettered += len(batch)
        self._checkpoint(shard_id, batch)
        if self.source.on_failure_queue_url is None:
            return
        times = [r["dynamodb"]["ApproximateCreationDateTime"] for r in batch]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{self.source.function}",
                "condition": condition,
                "approximateInvokeCount": invokes,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": _iso(time.time()),
            "DDBStreamBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": batch[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": batch[-1]["dynamodb"]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": _iso(min(times)),
                "approximateArrivalOfLastRecord": _iso(max(times)),
                "batchSize": len(batch),
                "streamArn": self.source.stream_arn,
            },
        }
        self.sqs.send_message(QueueUrl=self.source.on_failure_queue_url, MessageBody=json.dumps(message))


def wait_until_quiet(pollers: Callable[[], list[StreamPoller]], timeout: float, settle: float = 0.3) -> bool:
    """True once every poller has been idle for `settle` seconds and has since read its shards and found nothing.

    A poller's idle flag alone is not enough: records written by one function reach another's stream after
    that poller last looked. So the moment every poller is seen idle is marked, and quiet means no poller did
    anything after it and each finished two more empty poll cycles, the second begun after the mark: any
    record a function wrote before the mark was there to be read, and after it no function ran.
    """
    deadline = time.monotonic() + timeout
    marks: dict[StreamPoller, tuple[int, int]] | None = None
    since = 0.0
    while time.monotonic() < deadline:
        current = list(pollers())
        seen = {p: (p.activity, p.quiet_polls) for p in current}  # read before the flags: a later change shows
        if any(not p.idle.is_set() or p.pending() for p in current):
            marks = None
        elif marks is None or set(marks) != set(seen) or any(seen[p][0] != marks[p][0] for p in current):
            marks, since = seen, time.monotonic()
        elif time.monotonic() - since >= settle and all(seen[p][1] >= marks[p][1] + 2 for p in current):
            return True
        time.sleep(0.05)
    return False
