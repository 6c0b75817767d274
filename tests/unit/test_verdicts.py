"""`replay --wait`: polling detection markers until every accepted transaction is judged, and the two rates."""

from __future__ import annotations

from datetime import timedelta

from infra.verdicts import CHUNK, Judged, throughput_lines, wait_until_judged
from tests.builders import T0
from tests.clocks import ManualClock


def detector(ids: list[str], per_poll: int, clock: ManualClock, never: frozenset[str] = frozenset()):
    """Judges `per_poll` more transactions, in arrival order, each time the clock has moved on."""
    asked: list[list[str]] = []
    state = {"done": 0, "at": None}

    def read(chunk: list[str]) -> dict:
        asked.append(chunk)
        if state["at"] != clock.now:
            state["at"], state["done"] = clock.now, state["done"] + per_poll
        judged = {t for t in ids[: state["done"]] if t not in never}
        return {t: T0 + timedelta(seconds=ids.index(t)) for t in chunk if t in judged}

    return read, asked


def test_it_returns_once_every_accepted_transaction_is_judged_reading_the_oldest_first(capsys):
    ids = [f"t{i}" for i in range(1200)]
    clock = ManualClock()
    read, asked = detector(ids, 300, clock)
    judged = wait_until_judged(read, ids + ids[:5], timeout=30, clock=clock, sleep=clock.sleep)
    assert (judged.expected, judged.judged, judged.timed_out) == (1200, 1200, False)
    assert judged.last_verdict == T0 + timedelta(seconds=1199)
    assert all(len(chunk) <= CHUNK for chunk in asked) and asked[0][0] == "t0"
    assert clock.now == 1.5  # four rounds of 300: three waits of 0.5 s, none after the last
    captured = capsys.readouterr()
    assert captured.out == "" and "judging" in captured.err  # the progress bar is on stderr


def test_it_gives_up_when_no_verdict_comes_for_the_timeout():
    ids = [f"t{i}" for i in range(50)]
    clock = ManualClock()
    read, _ = detector(ids, 50, clock, never=frozenset({"t7"}))
    judged = wait_until_judged(read, ids, timeout=10, clock=clock, sleep=clock.sleep, show_progress=False)
    assert judged.timed_out and judged.judged == 49 and "t7" not in judged.verdicts
    assert 10 < clock.now <= 11


def test_ingest_and_detection_throughput_are_reported_apart():
    judged = Judged(100, {f"t{i}": T0 + timedelta(seconds=4) for i in range(100)})
    lines = throughput_lines(100, 2.0, judged, T0)
    assert lines == [
        "ingest: 100 accepted in 2.0 s (50/s)",
        "detection: 100 judged, the last 4.0 s after the first POST (25/s)",
    ]
    stalled = Judged(100, {"t1": T0 + timedelta(seconds=1)}, timed_out=True)
    assert "99 accepted transactions have no verdict yet" in throughput_lines(100, 2.0, stalled, T0)[2]
    assert throughput_lines(0, 0.5, Judged(0, {}), T0)[1] == "detection: none of 0 judged"
