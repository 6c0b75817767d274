"""The local stack's data on disk: a logical redo journal of moto's state below its API, plus snapshots.

What is kept (in the stack's state directory, `<state_dir>/data/`): every item of every table; each table's
stream records with their original sequence numbers, times and images, and the stream's trim point; the
stream pollers' checkpoints (per mapping and shard, the last sequence number fully handled); every SNS
publish (`sent_notifications`, which the outbox turns into deliveries); the SQS queues' messages; the Cognito
user pool (its id, app clients, users, passwords, groups) so that tokens already issued stay valid; the S3
buckets' objects (the ModelBucket's artifacts, which the registry in StateTable names). The API key
and admin password live beside it in `identity.json` (stack_identity).

Design, and why:
- **A logical journal of after-images, below moto's API.** moto_dirty_items notes the key of every item put,
  updated or deleted, whichever path wrote it (in-process calls, the ThreadedMotoServer, transactions and
  their rollback, the TTL sweeper). Every `interval` (200 ms) one commit takes moto_item_lock's WRITE_LOCK,
  reads the current value of each noted key, the stream records written since the last commit (already
  pickled by stream_retention: copied as they are), the checkpoints, new SNS publishes, and the queues and
  user pool when they changed, and appends them as one framed record (journal), then fsyncs. Replaying
  stores items and records straight into moto's backends: no request runs again, so no id, timestamp or
  sequence number changes, and a restart costs unpickling, not re-execution. A request-level journal would
  re-run conditions, mint new ids and publish again.
- **Each commit is a consistent cut.** Every DynamoDB write and its stream record happen under WRITE_LOCK,
  which the commit holds while it reads, so a commit never has a record without its item or the reverse; a
  poller's checkpoint only moves after the writes it covers. Functions that publish to SNS (Notify, Digest)
  are invoked through `gate`, which a commit takes exclusively: a cut never falls between a publish and the
  ledger marker written after it, so after a restart an alert is never announced twice, nor marked sent
  without its message. Replay stops at the first torn record (a SIGKILL mid-write), so the state after a
  restart is the state of the last whole commit: a prefix of the history.
- **Group commit.** One fsync per 200 ms whatever the traffic: a 202 acknowledged at least 1 s before a kill
  is on disk. A key written fifty times between commits is written once.
- **Snapshots for compaction.** When the current journal segment passes `compact_bytes` (64 MB), and at a
  clean stop when it passes an eighth of that (a stop should not wait ~15 s to fold in a few commits), the
  commit rotates to a new segment and a snapshot of everything is written beside it (fuzzy: read in
  chunks under the lock while the stack runs). It is renamed into place only after a journal commit later
  than its last read is on disk, so snapshot + newer segments always replay to a whole commit; the older
  segments are then deleted. A restart reads the snapshot and the segments after it, keeping only the last
  image of each key. Frames are zlib-compressed (level 1: an eighth of the bytes for ~2 ms a MB), values are
  stored as plain tuples rather than moto's objects, and the cyclic GC is off while millions of objects are
  rebuilt: 200,000 transactions restart in ~9-13 s (infra/durability_bench.py).
- Alternatives not taken: pickling moto's backends whole needs the world stopped for seconds at 200,000
  transactions and still a journal for the tail; sqlite behind moto's table storage would rewrite moto's
  Table (query, scan, indexes) for every read.

Pickle is the payload format because moto's values (DynamoType trees, datetimes, bytes, stream records) are
Python objects that JSON cannot carry as they are, and pickle reads plain tuples back fastest; the files are
the stack's own, in the user's own clone, and are never read from anywhere else.
"""

from __future__ import annotations

import gc
import logging
import pickle
import shutil
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moto.dynamodb.models.dynamo_type import DynamoType, Item, LimitedSizeDict

from infra.local import stream_retention
from infra.local.journal import Journal, fsync_directory, read_records, write_atomically
from infra.local.moto_dirty_items import DIRTY
from infra.local.moto_item_lock import WRITE_LOCK

log = logging.getLogger(__name__)

FORMAT = 1
SNAPSHOT = "snapshot.bin"
COMMIT_INTERVAL = 0.2  # seconds between group commits: the most a 202 waits to be on disk
COMPACT_BYTES = 64 << 20  # a journal segment this large is folded into a new snapshot
_CHUNK = 2000  # items read per hold of WRITE_LOCK while a snapshot is taken
_PICKLE = pickle.HIGHEST_PROTOCOL


class InvocationGate:
    """Shared for invocations of functions with effects outside DynamoDB, exclusive for a commit.

    A commit waiting for the gate holds new invocations back (so it never starves), and waits only for the
    ones already running: a Notify batch, a few milliseconds."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._running = 0
        self._exclusive = False

    @contextmanager
    def invocation(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._running += 1
        try:
            yield
        finally:
            with self._condition:
                self._running -= 1
                self._condition.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._condition:
            while self._exclusive:
                self._condition.wait()
            self._exclusive = True
            while self._running:
                self._condition.wait()
        try:
            yield
        finally:
            with self._condition:
                self._exclusive = False
                self._condition.notify_all()


@dataclass
class Backends:
    """moto's backends of one account and region: what is kept."""

    dynamodb: Any
    sns: Any
    sqs: Any
    cognito: Any
    s3: Any = None  # the ModelBucket's artifacts (the registry in StateTable names them)

    @classmethod
    def of(cls, account_id: str, region: str) -> Backends:
        from moto.cognitoidp.models import cognitoidp_backends
        from moto.dynamodb.models import dynamodb_backends
        from moto.s3.models import s3_backends
        from moto.sns.models import sns_backends
        from moto.sqs.models import sqs_backends

        return cls(
            dynamodb_backends[account_id][region],
            sns_backends[account_id][region],
            sqs_backends[account_id][region],
            cognitoidp_backends[account_id][region],
            s3_backends[account_id]["global"],
        )


@dataclass
class Restored:
    """What a restart found: the pollers' checkpoints, and how much was read."""

    checkpoints: dict[str, dict[str, str]] = field(default_factory=dict)
    items: int = 0
    stream_records: int = 0
    notifications: int = 0
    commits: int = 0
    snapshot: bool = False
    torn_tail: bool = False
    seconds: float = 0.0
    user_pools: dict[str, str] = field(default_factory=dict)  # pool id created now -> the kept one
    user_pool_clients: dict[str, str] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.snapshot or self.commits)


_new = object.__new__


def encode_value(value: DynamoType) -> tuple[str, Any]:
    """A DynamoType as plain tuples, lists and dicts, exactly (bytes stay bytes): pickle reads these back three
    times faster than the objects themselves, which is most of a restart's time."""
    kind, inner = value.type, value.value
    if kind == "L":
        return kind, [encode_value(v) for v in inner]
    if kind == "M":
        return kind, {k: encode_value(v) for k, v in inner.items()}
    return kind, list(inner) if isinstance(inner, list) else inner  # a set's list: a copy, pickled after the lock


def decode_value(encoded: tuple[str, Any]) -> DynamoType:
    kind, inner = encoded
    value = _new(DynamoType)
    value.type = kind
    if kind == "L":
        inner = [decode_value(v) for v in inner]
    elif kind == "M":
        inner = {k: decode_value(v) for k, v in inner.items()}
    value.value = inner
    return value


def encode_attributes(item: Item) -> dict[str, tuple[str, Any]]:
    return {name: encode_value(value) for name, value in item.attrs.items()}


def decode_item(hash_key: Any, range_key: Any, attributes: dict[str, tuple[str, Any]]) -> Item:
    item = _new(Item)
    item.hash_key = decode_value(hash_key)
    item.range_key = None if range_key is None else decode_value(range_key)
    item.attrs = LimitedSizeDict({name: decode_value(value) for name, value in attributes.items()})
    return item


def _dumps(record: dict[str, Any]) -> bytes:
    """Pickled, then zlib level 1: an eighth of the bytes for ~2 ms a MB (moto's values repeat their type tags)."""
    return zlib.compress(pickle.dumps(record, _PICKLE), 1)


def _loads(payload: bytes) -> dict[str, Any]:
    return pickle.loads(zlib.decompress(payload))  # noqa: S301 - the stack's own files


def _pool_state(pool: Any) -> bytes:
    """A user pool's fields, pickled; its signing key is moto's fixed one and is not picklable, so left out."""
    return pickle.dumps({k: v for k, v in vars(pool).items() if k != "json_web_key"}, _PICKLE)


def _client_name(client: Any) -> Any:
    return client.extended_config.get("ClientName")


def _queue_messages(queue: Any) -> list[Any]:
    return list(queue._messages)


def _bucket_objects(bucket: Any) -> dict[str, tuple[str, bytes]]:
    """A bucket's current objects: key -> (etag, bytes). Model artifacts: a few hundred KB each, written weekly."""
    return {name: (key.etag, key.value) for name, key in bucket.keys.items()}


def _queue_fingerprint(queue: Any) -> tuple[Any, ...]:
    return tuple((m.id, m.approximate_receive_count, m.visible_at) for m in queue._messages)


class DurableState:
    def __init__(
        self,
        directory: Path,
        backends: Backends,
        checkpoints: Callable[[], dict[str, dict[str, str]]] = dict,
        *,
        interval: float = COMMIT_INTERVAL,
        compact_bytes: int = COMPACT_BYTES,
    ) -> None:
        self.directory = Path(directory)
        self.backends = backends
        self.checkpoints = checkpoints
        self.interval = interval
        self.compact_bytes = compact_bytes
        self.stop_snapshot_bytes = compact_bytes // 8  # at a stop, a journal beyond this is folded in
        self.gate = InvocationGate()
        self.journal = Journal(self.directory)
        self._commit_lock = threading.Lock()  # one commit at a time, in order
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._compactor: threading.Thread | None = None
        # what the journal holds so far
        self._stream_next: dict[str, int] = {}  # per table: the next sequence number not yet journalled
        self._stream_first: dict[str, int] = {}  # per table: the trim point journalled
        self._sns_count: dict[str, int] = {}
        self._sqs_seen: dict[str, tuple[Any, ...]] = {}
        self._pool_seen: dict[str, bytes] = {}
        self._buckets_seen: dict[str, tuple[tuple[str, str], ...]] = {}
        self._checkpoints_seen: dict[str, dict[str, str]] = {}
        self.durable_notifications: dict[str, int] = {}  # per topic: publishes on disk (the outbox reads these)
        self.commits = 0
        self.commit_failures = 0
        self.snapshots = 0

    # --- restart ------------------------------------------------------------------------------------------------
    def restore(self) -> Restored:
        """Load the snapshot and replay the journal after it into moto's backends (which hold the template's
        resources, freshly created and empty). Returns the checkpoints to resume the pollers from."""
        started = time.perf_counter()
        # The cyclic GC would walk the growing heap again and again while millions of objects are made (half
        # of a restart's time); nothing restored is garbage. Afterwards the restored objects are frozen out of
        # the collector's generations, so later collections do not walk them either.
        collecting = gc.isenabled()
        gc.disable()
        try:
            result = self._restore()
        finally:
            if collecting:
                gc.enable()
        gc.freeze()
        result.seconds = time.perf_counter() - started
        return result

    def _restore(self) -> Restored:
        result = Restored()
        next_segment = 1
        for leftover in (SNAPSHOT + ".draft", SNAPSHOT + ".draft.new"):  # a compaction cut short
            (self.directory / leftover).unlink(missing_ok=True)
        snapshot = self.directory / SNAPSHOT
        if snapshot.exists():
            frames = read_records(snapshot).records
            if len(frames) < 2 or _loads(frames[-1]).get("kind") != "end":
                raise RuntimeError(f"{snapshot} is incomplete; it was renamed into place only when whole, so "
                                   "the disk lost data: move the directory away or start with --reset")  # fmt: skip
            result.snapshot = True
            next_segment = _loads(frames[0])["next_segment"]
            for frame in frames[1:-1]:  # one at a time: the decoded snapshot is never all in memory
                self._apply(_loads(frame), result)
        last = next_segment
        latest: dict[tuple[str, Any, Any], Any] = {}  # the journal's last image of each key: decoded once
        for payload in self.journal.replay(next_segment):
            record = _loads(payload)
            for name, hash_key, range_key, attrs in record.pop("items", ()):
                latest[(name, hash_key, range_key)] = attrs
            self._apply(record, result)
            result.commits += 1
        self._apply_items([(*key, attrs) for key, attrs in latest.items()], result)
        segments = [s for s in self.journal.segments() if s >= next_segment]
        replayed = self._replayed_segments(next_segment)
        if replayed:
            last = replayed[-1]
        for segment in segments:
            if segment > last:  # after a gap or a torn record: not part of the history kept
                self.journal.path(segment).unlink()
        result.torn_tail = any(read_records(self.journal.path(s)).torn for s in replayed)
        self.journal.open(last)  # cuts a torn tail off before anything is appended
        self.journal.remove_before(next_segment)
        for arn, topic in self.backends.sns.topics.items():
            self.durable_notifications[arn] = len(topic.sent_notifications)
        result.notifications = sum(self.durable_notifications.values())
        return result

    def _replayed_segments(self, first: int) -> list[int]:
        replayed, expected = [], first
        for segment in self.journal.segments():
            if segment < first:
                continue
            if segment != expected:
                break
            replayed.append(segment)
            if read_records(self.journal.path(segment)).torn:
                break
            expected += 1
        return replayed

    def _apply(self, record: dict[str, Any], result: Restored) -> None:
        kind = record.get("kind", "commit")
        if kind == "commit":
            self._apply_items(record.get("items", ()), result)
            for name, (first, rows) in record["streams"].items():
                self._apply_stream(name, first, rows, result)
            self._apply_others(record, result)
        elif kind == "items":
            self._apply_items(record["items"], result)
        elif kind == "stream":
            self._apply_stream(record["table"], record["first"], record["rows"], result)
        else:
            self._apply_others(record, result)

    def _apply_items(self, rows: list[tuple[str, Any, Any, dict[str, Any] | None]], result: Restored) -> None:
        tables = self.backends.dynamodb.tables
        for name, hash_key, range_key, attrs in rows:
            table = tables.get(name)
            if table is None:
                continue  # a table the template no longer has
            if attrs is None:
                hash_value = decode_value(hash_key)
                if range_key is None:
                    table.items.pop(hash_value, None)
                else:
                    partition = table.items.get(hash_value)
                    if partition is not None:
                        partition.pop(decode_value(range_key), None)
                        if not partition:
                            del table.items[hash_value]
                continue
            item = decode_item(hash_key, range_key, attrs)
            if range_key is None:
                table.items[item.hash_key] = item
            else:
                table.items[item.hash_key][item.range_key] = item
            result.items += 1

    def _apply_stream(self, name: str, first: int, rows: list[tuple[int, float, bytes]], result: Restored) -> None:
        """Append the rows that continue the shard, then trim it to `first`. The trim point only moves
        forward, and rows already there (a snapshot read after the commit that wrote them) are skipped."""
        table = self.backends.dynamodb.tables.get(name)
        if table is None or table.stream_shard is None:
            return
        shard = table.stream_shard
        kept_first = stream_retention.first_sequence_number(shard)
        rows = [row for row in rows if row[0] >= kept_first + len(shard.items)]
        if not shard.items:
            # nothing kept: numbering resumes at the later of the trim point and the first row still to come
            start = max(kept_first, min(first, rows[0][0]) if rows else first)
            shard._shopwatch_trimmed = start - shard.starting_sequence_number
        next_seq = stream_retention.first_sequence_number(shard) + len(shard.items)
        for seq, at, blob in rows:
            if seq != next_seq:
                raise RuntimeError(f"the journal of {name}'s stream jumps from {next_seq} to {seq}")
            kept = stream_retention.KeptRecord.__new__(stream_retention.KeptRecord)
            kept.at, kept.blob = at, blob
            shard.items.append(kept)
            next_seq += 1
            result.stream_records += 1
        trim = first - stream_retention.first_sequence_number(shard)
        if trim > 0:  # (records written and trimmed between two commits were never journalled: all go)
            del shard.items[:trim]
            shard._shopwatch_trimmed = first - shard.starting_sequence_number

    def _apply_others(self, record: dict[str, Any], result: Restored) -> None:
        for name, label in (record.get("stream_labels") or {}).items():
            table = self.backends.dynamodb.tables.get(name)
            if table is not None:
                table.latest_stream_label = label
        if record.get("checkpoints") is not None:
            result.checkpoints = record["checkpoints"]
        for arn, (start, notifications) in (record.get("sns") or {}).items():
            topic = self.backends.sns.topics.get(arn)
            if topic is not None:
                sent = topic.sent_notifications
                sent.extend(notifications[len(sent) - start :] if len(sent) > start else notifications)
        for name, messages in (record.get("sqs") or {}).items():
            queue = self.backends.sqs.queues.get(name)
            if queue is not None:
                queue._messages[:] = messages
        for kept_id, blob in (record.get("pools") or {}).items():
            self._restore_pool(kept_id, blob, result)
        for name, objects in (record.get("buckets") or {}).items():
            if self.backends.s3 is not None and name in self.backends.s3.buckets:
                for key, value in objects.items():  # a bucket's whole content each time it changed: latest wins
                    self.backends.s3.put_object(name, key, value)

    def _restore_pool(self, kept_id: str, blob: bytes, result: Restored) -> None:
        """Put the kept user pool (its id, clients, users) in place of the one just created from the template."""
        pools = self.backends.cognito.user_pools
        state = pickle.loads(blob)  # noqa: S301 - the stack's own files
        current = pools.get(kept_id) or next(
            (p for p in pools.values() if p.name == state["name"] and p.id not in result.user_pools.values()), None
        )
        if current is None:
            return
        created_id = current.id
        created_clients = {client_id: _client_name(client) for client_id, client in current.clients.items()}
        key = current.json_web_key
        current.__dict__.clear()
        current.__dict__.update(state)
        current.json_web_key = key
        pools.pop(created_id, None)
        pools[kept_id] = current
        if created_id == kept_id:
            return  # a later image of a pool already put back
        result.user_pools[created_id] = kept_id
        for client_id, client_name in created_clients.items():
            kept = next((c for c in current.clients.values() if _client_name(c) == client_name), None)
            if kept is not None:
                result.user_pool_clients[client_id] = kept.id

    # --- running ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Journal from now on: every change after this call is in the next commits."""
        tables = self.backends.dynamodb.tables
        for name, table in tables.items():
            if table.stream_shard is not None:
                first = stream_retention.first_sequence_number(table.stream_shard)
                self._stream_first[name] = first
                self._stream_next[name] = first + len(table.stream_shard.items)
        for arn, topic in self.backends.sns.topics.items():
            self._sns_count[arn] = len(topic.sent_notifications)
        DIRTY.start()
        self._commit(everything=True)  # the resources as they are now, whether restored or new
        self._thread = threading.Thread(target=self._run, name="durable-state", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.commit()
                if self.journal.bytes_written > self.compact_bytes and not self._compacting():
                    self._compactor = threading.Thread(target=self.compact, name="durable-compact", daemon=True)
                    self._compactor.start()
            except Exception:  # a failed commit is retried at the next tick; its keys are retaken then
                self.commit_failures += 1
                log.exception("journal commit failed")

    def _compacting(self) -> bool:
        return self._compactor is not None and self._compactor.is_alive()

    def commit(self) -> bool:
        """Append everything changed since the last commit as one record and fsync it; False when nothing did."""
        return self._commit()

    def _commit(self, everything: bool = False, rotate: bool = False) -> bool:
        with self._commit_lock:
            with self.gate.exclusive(), WRITE_LOCK:
                record = self._capture(everything)
                encoded = pickle.dumps(record, _PICKLE) if record is not None else None
                sns_counts = dict(self._sns_count)
            payload = zlib.compress(encoded, 1) if encoded is not None else None  # outside the lock
            if payload is not None:
                self.journal.append(payload)
            if rotate:
                self.journal.rotate()
            elif payload is not None:
                self.journal.sync()
            self.durable_notifications.update(sns_counts)
            if payload is not None:
                self.commits += 1
            return payload is not None

    def _capture(self, everything: bool) -> dict[str, Any] | None:
        """What changed since the last capture; called under WRITE_LOCK with the gate held."""
        tables = self.backends.dynamodb.tables
        keys = DIRTY.take()
        items = []
        for name, hash_key, range_key in keys:
            table = tables.get(name)
            stored = None if table is None else table.items.get(hash_key)
            if stored is not None and range_key is not None:
                stored = stored.get(range_key)
            items.append((
                name, encode_value(hash_key), None if range_key is None else encode_value(range_key),
                encode_attributes(stored) if stored is not None else None,
            ))  # fmt: skip
        streams = {}
        for name, table in tables.items():
            shard = table.stream_shard
            if shard is None:
                continue
            first = stream_retention.first_sequence_number(shard)
            end = first + len(shard.items)
            start = max(self._stream_next.get(name, first), first)
            if start < end or first != self._stream_first.get(name):
                rows = [
                    (seq, kept.at, kept.blob)
                    for seq, kept in zip(range(start, end), shard.items[start - first :], strict=True)
                ]
                streams[name] = (first, rows)
                self._stream_next[name], self._stream_first[name] = end, first
        record: dict[str, Any] = {"kind": "commit", "at": time.time(), "items": items, "streams": streams}
        checkpoints = self.checkpoints()
        if everything or checkpoints != self._checkpoints_seen:
            record["checkpoints"] = checkpoints
            self._checkpoints_seen = {k: dict(v) for k, v in checkpoints.items()}
        sns = {}
        for arn, topic in self.backends.sns.topics.items():
            sent = topic.sent_notifications
            start = self._sns_count.get(arn, 0)
            if len(sent) > start:
                sns[arn] = (start, list(sent[start:]))
                self._sns_count[arn] = len(sent)
        if sns:
            record["sns"] = sns
        sqs = {}
        for name, queue in self.backends.sqs.queues.items():
            fingerprint = _queue_fingerprint(queue)
            if everything or fingerprint != self._sqs_seen.get(name):
                sqs[name] = _queue_messages(queue)
                self._sqs_seen[name] = fingerprint
        if sqs:
            record["sqs"] = sqs
        pools = {}
        for pool_id, pool in self.backends.cognito.user_pools.items():
            blob = _pool_state(pool)
            if everything or blob != self._pool_seen.get(pool_id):
                pools[pool_id] = self._pool_seen[pool_id] = blob
        if pools:
            record["pools"] = pools
        buckets = {}
        for name, bucket in self.backends.s3.buckets.items() if self.backends.s3 is not None else ():
            objects = _bucket_objects(bucket)
            fingerprint = tuple(sorted((key, etag) for key, (etag, _) in objects.items()))
            if everything or fingerprint != self._buckets_seen.get(name):
                buckets[name] = {key: value for key, (_, value) in objects.items()}
                self._buckets_seen[name] = fingerprint
        if buckets:
            record["buckets"] = buckets
        if everything:
            record["stream_labels"] = {n: t.latest_stream_label for n, t in tables.items() if t.latest_stream_label}
        if not (everything or items or streams or len(record) > 4):
            return None
        return record

    # --- compaction ---------------------------------------------------------------------------------------------
    def compact(self) -> int:
        """Write a snapshot of everything, then drop the journal segments it makes redundant. Bytes written."""
        started = time.perf_counter()
        self._commit(rotate=True)
        next_segment = self.journal.segment
        path = self.directory / SNAPSHOT
        size = write_atomically(path.with_name(SNAPSHOT + ".draft"), self._snapshot_records(next_segment))
        self.commit()  # a commit later than every read of the snapshot, on disk before the snapshot counts
        with self._commit_lock:  # no commit between: nothing appended to a segment about to be removed
            path.with_name(SNAPSHOT + ".draft").replace(path)
            fsync_directory(self.directory)
            self.journal.remove_before(next_segment)
        self.snapshots += 1
        log.info("snapshot of %d bytes in %.1f s", size, time.perf_counter() - started)
        return size

    def _snapshot_records(self, next_segment: int) -> Iterator[bytes]:
        yield _dumps({"kind": "header", "format": FORMAT, "next_segment": next_segment})
        tables = self.backends.dynamodb.tables
        for name, table in list(tables.items()):
            with WRITE_LOCK:
                partitions = list(table.items.keys())
            for start in range(0, len(partitions), _CHUNK):
                with WRITE_LOCK:
                    rows = []
                    for hash_key in partitions[start : start + _CHUNK]:
                        stored = table.items.get(hash_key)
                        if stored is None:
                            continue
                        encoded = encode_value(hash_key)
                        if table.range_key_attr is None:
                            rows.append((name, encoded, None, encode_attributes(stored)))
                        else:
                            rows.extend(
                                (name, encoded, encode_value(r), encode_attributes(i)) for r, i in list(stored.items())
                            )
                payload = _dumps({"kind": "items", "items": rows})
                yield payload
            shard = table.stream_shard
            if shard is not None:
                with WRITE_LOCK:
                    first = stream_retention.first_sequence_number(shard)
                    kept = list(shard.items)
                for offset in range(0, max(len(kept), 1), _CHUNK * 10):
                    rows = [
                        (first + offset + i, k.at, k.blob) for i, k in enumerate(kept[offset : offset + _CHUNK * 10])
                    ]
                    yield _dumps({"kind": "stream", "table": name, "first": first, "rows": rows})
        with self.gate.exclusive(), WRITE_LOCK:
            others = {
                "kind": "others",
                "checkpoints": self.checkpoints(),
                "stream_labels": {n: t.latest_stream_label for n, t in tables.items() if t.latest_stream_label},
                "sns": {arn: (0, list(t.sent_notifications)) for arn, t in self.backends.sns.topics.items()},
                "sqs": {name: _queue_messages(q) for name, q in self.backends.sqs.queues.items()},
                "pools": {pid: _pool_state(p) for pid, p in self.backends.cognito.user_pools.items()},
                "buckets": {
                    name: {key: value for key, (_, value) in _bucket_objects(bucket).items()}
                    for name, bucket in (self.backends.s3.buckets.items() if self.backends.s3 is not None else ())
                },
            }
            payload = pickle.dumps(others, _PICKLE)
        yield zlib.compress(payload, 1)
        yield _dumps({"kind": "end"})

    # --- stopping -----------------------------------------------------------------------------------------------
    def stop(self, snapshot: bool = True) -> None:
        """Stop committing: a last commit, then a snapshot when the journal since the last one is long enough to
        slow the next start (a snapshot of 200,000 transactions takes ~20 s; a Ctrl-C should not wait for one
        to fold in a few commits)."""
        self._stop.set()
        if self._thread is None:  # never started (the stack failed on its way up): nothing to commit
            self.journal.close()
            return
        self._thread.join(timeout=30)
        if self._compactor is not None:
            self._compactor.join(timeout=300)
        try:
            self.commit()
            if snapshot and self.journal.bytes_written > self.stop_snapshot_bytes:
                self.compact()
        finally:
            DIRTY.stop()
            self.journal.close()

    def disk_bytes(self) -> int:
        return sum(p.stat().st_size for p in self.directory.iterdir() if p.is_file()) if self.directory.is_dir() else 0


def reset(directory: Path) -> None:
    """Forget everything kept (`shopwatch up --reset`)."""
    shutil.rmtree(directory, ignore_errors=True)


__all__ = ["COMMIT_INTERVAL", "Backends", "DurableState", "InvocationGate", "Restored", "reset"]
