"""Append-only files of framed records that survive a crash at any byte: the local stack's journal and snapshot.

A record is `length (4 bytes) | crc32 (4 bytes) | payload`. A SIGKILL (or a power cut) can leave the last
record half written: a short header, a short payload or a payload whose checksum does not match. Reading
stops at the first such record and says where the good part ends; the writer cuts the file there before it
appends again, so a torn tail is dropped cleanly and never followed by good records (which would hide a gap).

The journal is a numbered series of segments (`journal-000001.log`, ...). Everything is replayed in order:
a snapshot names the first segment it does not contain, the segments from there on are replayed after it,
and a torn record ends the replay (a later segment after a torn one cannot exist unless the disk lied; it is
ignored too, so the state stays a prefix of the history).

Durability: `sync()` flushes and fsyncs; a new file's directory entry is fsynced once when it is created
or renamed into place (`write_atomically`), as POSIX requires for the name itself to survive a crash.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

HEADER = struct.Struct(">II")
MAX_RECORD = 1 << 30  # a length above this is a torn or foreign header, never a record of ours
_SEGMENT = re.compile(r"^journal-(\d{6,})\.log$")


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload), zlib.crc32(payload)) + payload


@dataclass
class ReadResult:
    records: list[bytes]
    good_bytes: int  # where the last whole record ends
    torn: bool  # something after good_bytes could not be read as a record


def read_records(path: Path) -> ReadResult:
    """Every whole record of the file, in order, up to the first torn or damaged one."""
    data = path.read_bytes() if path.exists() else b""
    return parse(data)


def parse(data: bytes) -> ReadResult:
    records: list[bytes] = []
    offset = 0
    view = memoryview(data)
    while offset < len(data):
        if offset + HEADER.size > len(data):
            return ReadResult(records, offset, True)
        length, crc = HEADER.unpack_from(data, offset)
        start, end = offset + HEADER.size, offset + HEADER.size + length
        if length > MAX_RECORD or end > len(data):
            return ReadResult(records, offset, True)
        payload = bytes(view[start:end])
        if zlib.crc32(payload) != crc:
            return ReadResult(records, offset, True)
        records.append(payload)
        offset = end
    return ReadResult(records, offset, False)


def fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, records: Iterable[bytes]) -> int:
    """Write the records to `path` as a whole: a draft, fsynced, then renamed over it. Bytes written."""
    draft = path.with_name(path.name + ".new")
    size = 0
    with draft.open("wb") as handle:
        for payload in records:
            chunk = frame(payload)
            handle.write(chunk)
            size += len(chunk)
        handle.flush()
        os.fsync(handle.fileno())
    draft.replace(path)
    fsync_directory(path.parent)
    return size


class Journal:
    """The segments of one directory; one writer appends to the newest."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._handle: BinaryIO | None = None
        self.segment = 0
        self.bytes_written = 0  # into the current segment

    def segments(self) -> list[int]:
        if not self.directory.is_dir():
            return []
        found = (_SEGMENT.match(p.name) for p in self.directory.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def path(self, segment: int) -> Path:
        return self.directory / f"journal-{segment:06d}.log"

    def replay(self, first: int) -> Iterator[bytes]:
        """The records of segments `first`, `first`+1, ... in order, ending at the first torn record or gap."""
        expected = first
        for segment in self.segments():
            if segment < first:
                continue
            if segment != expected:
                return  # a missing segment: what follows it is not a prefix of the history
            result = read_records(self.path(segment))
            yield from result.records
            if result.torn:
                return
            expected += 1

    def open(self, segment: int) -> None:
        """Append to `segment` from now on (created if absent; a torn tail of it is cut off first)."""
        self.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(segment)
        existed = path.exists()
        good = read_records(path).good_bytes if existed else 0
        handle = path.open("r+b" if existed else "wb")
        handle.truncate(good)
        handle.seek(good)
        self._handle, self.segment, self.bytes_written = handle, segment, good
        if not existed:
            fsync_directory(self.directory)

    def append(self, payload: bytes) -> None:
        if self._handle is None:
            raise RuntimeError("journal is not open")
        chunk = frame(payload)
        self._handle.write(chunk)
        self.bytes_written += len(chunk)

    def sync(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def rotate(self) -> int:
        """Sync the current segment and continue in the next one; the new segment's number."""
        self.sync()
        self.open(self.segment + 1)
        return self.segment

    def remove_before(self, segment: int) -> None:
        for number in self.segments():
            if number < segment:
                self.path(number).unlink(missing_ok=True)

    def close(self) -> None:
        if self._handle is not None:
            self.sync()
            self._handle.close()
            self._handle = None


__all__ = ["HEADER", "Journal", "ReadResult", "frame", "fsync_directory", "parse", "read_records", "write_atomically"]
