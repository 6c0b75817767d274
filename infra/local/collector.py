"""Python's cycle collector and the local stack's heap of stored items.

Why: moto keeps every stored item as Python objects (an Item, a DynamoType per attribute, their dicts and
lists): hundreds of thousands of containers after a few thousand transactions. CPython's full collection
walks every tracked object and holds the GIL while it does; it runs each time the objects that survived the
last one grow by a quarter, which a stack that keeps data does all the time. Measured in the load bench at
250 transactions/s: 7 full passes took 2.2 s of the run's 24 (320 ms each: every function stalls meanwhile),
and each pass grows with the data kept. The stored items are trees of dicts and lists without cycles:
reference counting frees them the moment moto drops them; they never need the cycle collector.

So every `interval` (a second) the objects that survived so far move to the permanent generation (gc.freeze,
which splices lists: no walk): the collector then walks only what was allocated since. With it, the same run
had 1 full pass (0.16 s) instead of 7 (2.2 s), and 300 transactions/s held with a p95 of 0.45 s. What the freeze keeps from the collector is a cycle that
was alive at a freeze and dies later (an exception with its traceback caught at that instant, say): such
garbage waits for `reclaim`, which unfreezes, collects everything once and freezes again, every
`reclaim_every` freezes (by default hourly: one full pass, instead of one per quarter of growth; a pass over
a stack holding 200,000 transactions stalls it for seconds, and what it finds is a few stray cycles).
"""

from __future__ import annotations

import gc
import logging
import threading

log = logging.getLogger(__name__)


class CollectorTuning(threading.Thread):
    def __init__(self, stop: threading.Event, interval: float = 1.0, reclaim_every: int = 3600) -> None:
        super().__init__(name="collector", daemon=True)
        self.stop_event = stop
        self.interval = interval
        self.reclaim_every = reclaim_every
        self.freezes = 0
        self.reclaimed = 0  # unreachable objects found by the full passes

    def freeze(self) -> None:
        """Move every object alive now out of the collector's reach (reference counting still frees them)."""
        gc.freeze()
        self.freezes += 1

    def reclaim(self) -> int:
        """One full pass over everything, frozen or not, then a freeze; returns the unreachable objects found."""
        gc.unfreeze()
        found = gc.collect()
        self.reclaimed += found
        self.freeze()
        return found

    def tick(self) -> None:
        if self.freezes % self.reclaim_every == 0:
            self.reclaim()
        else:
            self.freeze()

    def run(self) -> None:
        self.freeze()  # the stack just started: modules, the template, functions' code
        while not self.stop_event.wait(self.interval):
            try:
                self.tick()
            except Exception:  # never expected; logged, and the stack goes on with the collector as it is
                log.exception("collector tuning failed")

    def release(self) -> None:
        """Give the frozen objects back to the collector (the stack stopped: what it held is garbage now)."""
        gc.unfreeze()


__all__ = ["CollectorTuning"]
