"""Reading a DynamoDB stream through the DynamoDB Streams API, shard by shard, remembering where it stopped.

A cursor that falls behind the stream's retention (stream_retention trims records older than it) gets
TrimmedDataAccessException as a ClientError and does not skip ahead: its readers count every record (the
fault suite's accounting), and a count with a hole must fail, not pass.
"""

from __future__ import annotations

from typing import Any


class StreamOrderError(RuntimeError):
    """A shard returned a record numbered at or below one already read."""


class StreamCursor:
    def __init__(self, streams_client: Any, stream_arn: str) -> None:
        self.client = streams_client
        self.stream_arn = stream_arn
        self._positions: dict[str, str] = {}  # shard id -> last sequence number read

    def read_new(self) -> list[dict[str, Any]]:
        """Every record written since the last call, in sequence order within each shard."""
        records: list[dict[str, Any]] = []
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._positions:
                iterator_args = {
                    "ShardIteratorType": "AFTER_SEQUENCE_NUMBER",
                    "SequenceNumber": self._positions[shard_id],
                }
            else:
                iterator_args = {"ShardIteratorType": "TRIM_HORIZON"}
            iterator = self.client.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id, **iterator_args)[
                "ShardIterator"
            ]
            while iterator:
                response = self.client.get_records(ShardIterator=iterator, Limit=1000)
                batch = response.get("Records", [])
                if not batch:
                    break
                last = batch[-1]["dynamodb"]["SequenceNumber"]
                if shard_id in self._positions and int(last) <= int(self._positions[shard_id]):
                    # Sequence numbers only grow; reading on would return the same records forever.
                    raise StreamOrderError(f"{shard_id}: record {last} after {self._positions[shard_id]}")
                records.extend(batch)
                self._positions[shard_id] = last
                iterator = response.get("NextShardIterator")
        return records
