"""The local stack's background upkeep of moto's DynamoDB: TTL deletions and stream trimming, every interval.

One thread does both because both walk moto's tables and both bound what the stack keeps in memory: without
them every expired item and every stream record ever written stayed (issue 20). What each job does, and
which AWS behaviour it follows, is in ttl_sweeper and stream_retention.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from infra.local import stream_retention
from infra.local.ttl_sweeper import SWEEP_INTERVAL, TtlSweeper

log = logging.getLogger(__name__)


class Housekeeping(threading.Thread):
    def __init__(
        self, dynamodb_backend: Any, streams_backend: Any, stop: threading.Event, interval: float = SWEEP_INTERVAL
    ) -> None:
        super().__init__(name="housekeeping", daemon=True)
        self.dynamodb = dynamodb_backend
        self.streams = streams_backend
        self.stop_event = stop
        self.interval = interval
        self.sweeper = TtlSweeper(dynamodb_backend)
        self.trimmed = 0
        self.iterators_dropped = 0
        self.failures = 0

    def run_once(self) -> None:
        self.sweeper.sweep()
        records, iterators = stream_retention.trim(self.dynamodb, self.streams)
        self.trimmed += records
        self.iterators_dropped += iterators

    def run(self) -> None:
        while not self.stop_event.wait(self.interval):
            try:
                self.run_once()
            except Exception:  # a failed pass is logged and tried again next interval; the stack goes on
                self.failures += 1
                log.exception("housekeeping pass failed")


__all__ = ["Housekeeping"]
