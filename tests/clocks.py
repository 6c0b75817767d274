"""A clock tests set by hand: code that takes `clock: Callable[[], float]` reads it; `sleep` moves it on."""

from __future__ import annotations


class ManualClock:
    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
