"""EventBridge schedules of the template's functions, fired on a timer with the scheduled event's shape."""

from __future__ import annotations

import re
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra.local.functions import LocalFunction

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


@dataclass(frozen=True)
class Schedule:
    function: str
    event_name: str
    expression: str
    seconds: int


def parse_rate(expression: str) -> int:
    match = _RATE.match(expression.strip())
    if not match:
        raise ValueError(f"the local stack runs rate(...) schedules only; got {expression!r}")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def schedules_from_template(template: dict[str, Any]) -> list[Schedule]:
    found = []
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        for event_name, event in resource["Properties"].get("Events", {}).items():
            if event["Type"] in ("Schedule", "ScheduleV2"):
                expression = event["Properties"]["Schedule" if event["Type"] == "Schedule" else "ScheduleExpression"]
                found.append(Schedule(name, event_name, expression, parse_rate(expression)))
    return found


def scheduled_event(schedule: Schedule, moment: datetime) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [
            f"arn:aws:events:us-east-1:123456789012:rule/shopwatch-{schedule.function}-{schedule.event_name}"
        ],
        "detail": {},
    }


class Scheduler(threading.Thread):
    def __init__(
        self,
        schedules: list[Schedule],
        functions: dict[str, LocalFunction],
        stop: threading.Event,
        speedup: float = 1.0,
    ) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.schedules = schedules
        self.functions = functions
        self.stop_event = stop
        self.speedup = speedup
        self.paused = threading.Event()  # set: ticks pass without firing (the demo loads history first)
        self.fired: list[tuple[str, str]] = []
        self.failed: list[tuple[str, str, str]] = []  # function, time, error: shown by the stack, never hidden

    def run(self) -> None:
        if not self.schedules:
            return
        tick = min(s.seconds for s in self.schedules) / self.speedup / 10
        elapsed = 0.0
        while not self.stop_event.wait(tick):
            if not self.paused.is_set():
                self.advance(elapsed, elapsed + tick)
            elapsed += tick

    def advance(self, before: float, after: float) -> None:
        """Fire every schedule whose period boundary lies in (before, after] seconds since start (scaled)."""
        for schedule in self.schedules:
            interval = schedule.seconds / self.speedup
            for _ in range(int(after // interval) - int(before // interval)):
                event = scheduled_event(schedule, datetime.now(UTC))
                self.fired.append((schedule.function, event["time"]))
                try:
                    self.functions[schedule.function].invoke(event)
                except Exception as exc:  # noqa: BLE001 - recorded; the function logged its own error
                    self.failed.append((schedule.function, event["time"], repr(exc)))
