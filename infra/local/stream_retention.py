"""DynamoDB Streams' retention on moto: old stream records are trimmed, old shard iterators expire.

moto keeps every stream record of a table forever (`StreamShard.items`, numbered `len(items) + start`) and
every shard iterator it ever issued (`DynamoDBStreamsBackend.shard_iterators`, one new iterator per
GetRecords, ~2 KB each, even when the read returned nothing). The local stack's memory therefore grew with
the traffic seen and with the time spent polling, whatever the tables held. DynamoDB Streams does neither:
- records older than 24 hours are trimmed, and a GetShardIterator with a sequence number before the trim
  point, or a GetRecords through an iterator that points at a trimmed record, fails with
  TrimmedDataAccessException (DynamoDB Streams API reference, GetRecords and GetShardIterator);
- a shard iterator expires 15 minutes after it is returned; GetRecords with it then fails with
  ExpiredIteratorException.

`install(retention_seconds, clock)` makes moto do the same. Sequence numbers stay those moto would have given
(start + records ever written), so trimming moves no reader. The retention is configurable for the local
stack because 24 h of records at 150 transactions/s is tens of GB in moto's in-memory form; 24 h is the cap
(AWS's own), `DEFAULT_RETENTION` the local default (see its comment). One change of behaviour is not AWS's
by documentation but is invisible to a reader: a GetRecords that returns nothing hands back the same iterator
(same position, its 15 minutes renewed) instead of a fresh one, so an idle poller no longer mints ~20
iterators a second. Records are kept pickled (KeptRecord), which changes nothing a reader sees. `trim()` is called by the stack's housekeeping thread; tests call it with their clock.

moto's internals patched (moto 5.2): `StreamShard.add` and `.get`, `ShardIterator.__init__` and `.get`,
`DynamoDBStreamsBackend.get_records`; `uninstall()` restores them.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models.table import StreamRecord, StreamShard
from moto.dynamodbstreams import models as streams_models
from moto.dynamodbstreams.models import DynamoDBStreamsBackend, ShardIterator

RETENTION_CAP = 24 * 3600  # DynamoDB Streams keeps records 24 hours
# Locally 1 hour by default: the template's stream mappings give up on a record after
# MaximumRecordAgeInSeconds = 3600 (Lambda sends it to the on-failure queue instead), so no consumer of the
# local stack ever reads a record older than that. A reader outside Lambda (stream_reader, a person with the
# AWS CLI) who needs AWS's full day sets SHOPWATCH_STREAM_RETENTION=86400.
DEFAULT_RETENTION = 3600
ITERATOR_LIFETIME = 15 * 60  # a shard iterator expires 15 minutes after it is returned


class TrimmedDataAccessException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException",
            "The operation attempted to read past the oldest stream record in a shard.",
        )


class ExpiredIteratorException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__(
            "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException",
            "The shard iterator has expired and can no longer be used to retrieve stream records.",
        )


class _Settings:
    retention: float = DEFAULT_RETENTION
    clock: Callable[[], float] = time.time


_SETTINGS = _Settings()
_LOCK = threading.RLock()  # one shard's records: appended, read by offset and trimmed by three threads
_ORIGINALS: dict[tuple[type, str], Any] = {
    (StreamShard, "add"): StreamShard.add,
    (StreamShard, "get"): StreamShard.get,
    (ShardIterator, "__init__"): ShardIterator.__init__,
    (ShardIterator, "get"): ShardIterator.get,
    (DynamoDBStreamsBackend, "get_records"): DynamoDBStreamsBackend.get_records,
}


def _trimmed(shard: StreamShard) -> int:
    """How many records were ever trimmed from the front of this shard."""
    return getattr(shard, "_shopwatch_trimmed", 0)


def first_sequence_number(shard: StreamShard) -> int:
    """The sequence number of the oldest record still kept (or of the next one written, when none is)."""
    return shard.starting_sequence_number + _trimmed(shard)


class KeptRecord:
    """One stream record as kept: pickled (moto's record holds datetimes and bytes, which JSON cannot carry).
    moto keeps each record as nested dicts of the item's image (~5 KB for a transaction); the pickle is under
    1 KB, and unpickles into exactly moto's record when read. Not compressed: zlib's per-call setup costs
    ~180 µs, ten times the pickling, to save a third of the bytes."""

    __slots__ = ("at", "blob")

    def __init__(self, record: dict[str, Any], at: float) -> None:
        self.at = at  # the retention clock's time of writing: what trimming compares
        self.blob = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)

    def to_json(self) -> dict[str, Any]:
        return pickle.loads(self.blob)  # noqa: S301 - our own record, pickled just above


def add_record(shard: StreamShard, old: Any, new: Any, user_identity: dict[str, str] | None = None) -> int:
    """Write one stream record as moto would, numbered by how many were ever written rather than by how many
    are kept; `user_identity` marks a service's deletion (TTL). Its sequence number."""
    if shard.table.lambda_event_source_mappings:  # moto's own Lambda mappings: never used by the local stack
        raise NotImplementedError("stream_retention does not support moto's Lambda event source mappings")
    view = shard.table.stream_specification["StreamViewType"]  # type: ignore[index]
    event_name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    with _LOCK:
        seq = first_sequence_number(shard) + len(shard.items)
        record = StreamRecord(shard.table, view, event_name, old, new, seq).to_json()
        if user_identity is not None:
            record["userIdentity"] = dict(user_identity)
        shard.items.append(KeptRecord(record, _SETTINGS.clock()))  # type: ignore[arg-type]
    return seq


def _add(self: StreamShard, old: Any, new: Any) -> None:
    add_record(self, old, new)


def _get(self: StreamShard, start: int, quantity: int) -> list[dict[str, Any]]:
    with _LOCK:
        offset = start - first_sequence_number(self)
        if offset < 0:
            raise TrimmedDataAccessException()
        return [record.to_json() for record in self.items[offset : offset + quantity]]


def _iterator_init(
    self: ShardIterator, backend: Any, shard: StreamShard, kind: str, sequence_number: int | None = None
) -> None:
    _ORIGINALS[(ShardIterator, "__init__")](self, backend, shard, kind, sequence_number)
    with _LOCK:
        if kind == "TRIM_HORIZON":
            self.sequence_number = first_sequence_number(shard)
        elif kind == "LATEST":
            self.sequence_number = first_sequence_number(shard) + len(shard.items)
        elif int(self.sequence_number) < first_sequence_number(shard):
            raise TrimmedDataAccessException()
    self.issued_at = _SETTINGS.clock()


def _iterator_get(self: ShardIterator, limit: int = 1000) -> dict[str, Any]:
    records = self.stream_shard.get(self.sequence_number, limit)
    if not records:  # same position: hand back this iterator, renewed, rather than mint another
        self.issued_at = _SETTINGS.clock()
        return {"NextShardIterator": self.arn, "Records": []}
    last = max(int(r["dynamodb"]["SequenceNumber"]) for r in records)
    following = ShardIterator(self.streams_backend, self.stream_shard, "AFTER_SEQUENCE_NUMBER", last)
    self.streams_backend.shard_iterators[following.arn] = following
    return {"NextShardIterator": following.arn, "Records": records}


def _get_records(self: DynamoDBStreamsBackend, iterator_arn: str, limit: int) -> dict[str, Any]:
    iterator = self.shard_iterators.get(iterator_arn)
    if iterator is None or _SETTINGS.clock() - iterator.issued_at > ITERATOR_LIFETIME:
        raise ExpiredIteratorException()  # pruned by trim() (or never issued: AWS would say so differently)
    return iterator.get(limit)


def trim_shard(shard: StreamShard, now: float | None = None) -> int:
    """Drop the records older than the retention from the front of one shard; how many were dropped."""
    horizon = (_SETTINGS.clock() if now is None else now) - _SETTINGS.retention
    with _LOCK:
        items = shard.items
        count = 0
        while count < len(items) and items[count].at < horizon:
            count += 1
        if count:
            del items[:count]
            shard._shopwatch_trimmed = _trimmed(shard) + count  # type: ignore[attr-defined]
    return count


def trim(dynamodb_backend: Any, streams_backend: Any | None = None) -> tuple[int, int]:
    """Trim every table's stream and forget the expired shard iterators: (records trimmed, iterators dropped)."""
    now = _SETTINGS.clock()
    records = sum(
        trim_shard(table.stream_shard, now)
        for table in list(dynamodb_backend.tables.values())
        if table.stream_shard is not None
    )
    dropped = 0
    if streams_backend is not None:
        iterators = streams_backend.shard_iterators
        for arn, iterator in list(iterators.items()):
            if now - getattr(iterator, "issued_at", now) > ITERATOR_LIFETIME:
                iterators.pop(arn, None)
                dropped += 1
    return records, dropped


def configure(retention_seconds: float = DEFAULT_RETENTION, clock: Callable[[], float] = time.time) -> None:
    """Retain stream records `retention_seconds` (at most 24 h), by `clock`."""
    if not 0 < retention_seconds <= RETENTION_CAP:
        raise ValueError(f"stream retention must be more than 0 and at most {RETENTION_CAP} s (24 h), "
                         f"got {retention_seconds}")  # fmt: skip
    _SETTINGS.retention, _SETTINGS.clock = float(retention_seconds), clock


def install(retention_seconds: float = DEFAULT_RETENTION, clock: Callable[[], float] = time.time) -> None:
    """Retain stream records `retention_seconds` (at most 24 h), expire iterators after 15 minutes."""
    configure(retention_seconds, clock)
    StreamShard.add = _add  # type: ignore[method-assign]
    StreamShard.get = _get  # type: ignore[method-assign]
    ShardIterator.__init__ = _iterator_init  # type: ignore[method-assign]
    ShardIterator.get = _iterator_get  # type: ignore[method-assign]
    DynamoDBStreamsBackend.get_records = _get_records  # type: ignore[method-assign]


def uninstall() -> None:
    for (owner, name), original in _ORIGINALS.items():
        setattr(owner, name, original)
    _SETTINGS.retention, _SETTINGS.clock = DEFAULT_RETENTION, time.time


def streams_backend(account_id: str, region: str) -> DynamoDBStreamsBackend:
    return streams_models.dynamodbstreams_backends[account_id][region]


__all__ = [
    "DEFAULT_RETENTION",
    "ITERATOR_LIFETIME",
    "RETENTION_CAP",
    "ExpiredIteratorException",
    "KeptRecord",
    "TrimmedDataAccessException",
    "add_record",
    "first_sequence_number",
    "install",
    "streams_backend",
    "trim",
    "trim_shard",
    "uninstall",
]
