"""`shopwatch replay --wait`: wait until DetectFunction has judged every accepted transaction, and measure it.

Why: ingest answers 202 once a transaction is stored; detection runs later, from the stream. A replay that
returns when the last POST is answered says how fast the API took the data, not how fast it was judged, and
a person reading alerts right after it sees a half-finished picture. A transaction is judged when its
detection marker exists (DetectFunction commits it with the verdict and any alert); its `processed_at` is when.

Throughput is reported separately for the two: ingest is accepted transactions over the time the POSTs
took; detection is judged transactions over the time from the first POST to the last verdict (so a detector
that keeps up with ingest shows the same rate, one that falls behind a lower one).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

CHUNK = 500  # markers asked for per round, oldest pending first (detection follows arrival order)


@dataclass
class Judged:
    expected: int
    verdicts: dict[str, datetime]  # transaction id → its marker's processed_at
    timed_out: bool = False

    @property
    def judged(self) -> int:
        return len(self.verdicts)

    @property
    def last_verdict(self) -> datetime | None:
        return max(self.verdicts.values(), default=None)


def wait_until_judged(
    read_verdicts: Callable[[list[str]], dict[str, datetime]],
    transaction_ids: Sequence[str],
    *,
    timeout: float,
    poll: float = 0.5,
    show_progress: bool = True,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Judged:
    """Poll `read_verdicts` (id → processed_at of those judged) until every id has a verdict, or until
    `timeout` seconds pass without a new one (a record dead-lettered or a stopped stack never gets one).
    The progress bar goes to stderr: stdout keeps the summary."""
    result = Judged(len(transaction_ids), {})
    pending = list(dict.fromkeys(transaction_ids))
    result.expected = len(pending)
    last_progress = clock()
    progress = Progress(
        TextColumn("judging"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(file=sys.stderr), disable=not show_progress,
    )  # fmt: skip
    with progress:
        task = progress.add_task("judging", total=len(pending))
        while pending:
            chunk = pending[:CHUNK]
            found = read_verdicts(chunk)
            if found:
                result.verdicts.update(found)
                pending = [t for t in pending if t not in found]
                progress.update(task, completed=result.judged)
                last_progress = clock()
            if len(found) == len(chunk):
                continue  # that chunk is done: look at the next one at once
            if clock() - last_progress > timeout:
                result.timed_out = True
                break
            sleep(poll)
    return result


def throughput_lines(accepted: int, ingest_seconds: float, judged: Judged, started: datetime) -> list[str]:
    """Ingest and detection throughput, each on its own line."""
    lines = [f"ingest: {accepted} accepted in {ingest_seconds:.1f} s ({_rate(accepted, ingest_seconds)})"]
    last = judged.last_verdict
    if last is None:
        lines.append(f"detection: none of {judged.expected} judged")
    else:
        span = max((last - started).total_seconds(), 0.0)
        lines.append(
            f"detection: {judged.judged} judged, the last {span:.1f} s after the first POST ({_rate(judged.judged, span)})"
        )
    if judged.timed_out:
        lines.append(
            f"stopped waiting: {judged.expected - judged.judged} accepted transactions have no verdict yet and none "
            "came for the wait timeout (dead-lettered? see `shopwatch dlq replay --dry-run`)"
        )
    return lines


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:.0f}/s" if seconds > 0 else "-/s"
