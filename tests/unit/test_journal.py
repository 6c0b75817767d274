"""The journal's framing: whole records come back in order; a torn or damaged tail (a SIGKILL mid-write) ends the
replay cleanly and is cut off before anything is appended; a gap between segments ends it too."""

from __future__ import annotations

import pytest

from infra.local.journal import HEADER, Journal, frame, parse, read_records, write_atomically


def journal_with(tmp_path, *payloads: bytes, segment: int = 1) -> Journal:
    journal = Journal(tmp_path)
    journal.open(segment)
    for payload in payloads:
        journal.append(payload)
    journal.sync()
    return journal


def test_records_come_back_in_order_across_segments(tmp_path):
    journal = journal_with(tmp_path, b"one", b"two")
    journal.rotate()
    journal.append(b"three")
    journal.close()
    assert list(Journal(tmp_path).replay(1)) == [b"one", b"two", b"three"]
    assert list(Journal(tmp_path).replay(2)) == [b"three"]
    assert Journal(tmp_path).segments() == [1, 2]


@pytest.mark.parametrize("cut", [1, HEADER.size - 1, HEADER.size, HEADER.size + 3])
def test_a_torn_last_record_is_ignored(tmp_path, cut):
    journal = journal_with(tmp_path, b"kept", b"torn-record")
    journal.close()
    path = journal.path(1)
    data = path.read_bytes()
    path.write_bytes(data[: len(frame(b"kept")) + cut])
    result = read_records(path)
    assert result.records == [b"kept"] and result.torn and result.good_bytes == len(frame(b"kept"))
    assert list(Journal(tmp_path).replay(1)) == [b"kept"]


def test_a_damaged_record_ends_the_replay_and_nothing_after_it_is_read(tmp_path):
    journal = journal_with(tmp_path, b"first", b"second", b"third")
    journal.close()
    path = journal.path(1)
    data = bytearray(path.read_bytes())
    data[len(frame(b"first")) + HEADER.size] ^= 0xFF  # one flipped bit in the second payload: its crc fails
    path.write_bytes(bytes(data))
    assert list(Journal(tmp_path).replay(1)) == [b"first"]


def test_a_length_beyond_the_file_is_a_torn_header_not_a_huge_read(tmp_path):
    assert parse(HEADER.pack(1 << 31, 0) + b"x").records == []
    assert parse(HEADER.pack(10, 0) + b"short").torn


def test_opening_a_torn_segment_cuts_the_tail_before_appending(tmp_path):
    journal = journal_with(tmp_path, b"kept")
    journal.close()
    path = journal.path(1)
    path.write_bytes(path.read_bytes() + frame(b"lost")[:5])
    reopened = Journal(tmp_path)
    reopened.open(1)
    reopened.append(b"after")
    reopened.close()
    assert list(Journal(tmp_path).replay(1)) == [b"kept", b"after"]  # "after" is not hidden behind garbage


def test_a_missing_segment_ends_the_replay(tmp_path):
    journal = journal_with(tmp_path, b"a")
    journal.rotate()
    journal.append(b"b")
    journal.rotate()
    journal.append(b"c")
    journal.close()
    journal.path(2).unlink()
    assert list(Journal(tmp_path).replay(1)) == [b"a"]  # "c" without "b" would not be a prefix of the history


def test_a_torn_segment_ends_the_replay_even_if_a_later_one_exists(tmp_path):
    journal = journal_with(tmp_path, b"a", b"b")
    journal.rotate()
    journal.append(b"c")
    journal.close()
    first = journal.path(1)
    first.write_bytes(first.read_bytes()[:-2])
    assert list(Journal(tmp_path).replay(1)) == [b"a"]


def test_remove_before_keeps_the_newer_segments(tmp_path):
    journal = journal_with(tmp_path, b"a")
    journal.rotate()
    journal.rotate()
    journal.remove_before(3)
    assert journal.segments() == [3]
    journal.close()


def test_write_atomically_replaces_the_file_whole(tmp_path):
    target = tmp_path / "snapshot.bin"
    write_atomically(target, [b"old"])
    size = write_atomically(target, iter([b"new", b"er"]))
    assert read_records(target).records == [b"new", b"er"] and size == target.stat().st_size
    assert not (tmp_path / "snapshot.bin.new").exists()


def test_appending_to_a_closed_journal_is_an_error(tmp_path):
    with pytest.raises(RuntimeError, match="not open"):
        Journal(tmp_path).append(b"x")
