"""The SMS budget's verdict for one alert: whether it may page by SMS now, and what was held back since the
last SMS (to be summarised in this one). Pure: the budget itself lives in StateTable (`storage.sms_budget`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


def held_entry(detector: str, event_key: str) -> str:
    """How a held-back alert is remembered: its detector (for the summary) and its event (so a retry of the
    same stream record holds nothing twice)."""
    return f"{detector}#{event_key}"


@dataclass(frozen=True)
class SmsTurn:
    granted: bool
    held: tuple[str, ...] = ()  # entries held back since the last SMS, summarised in this one when granted

    @property
    def attribute(self) -> str:
        """The `sms` message attribute the SMS subscription filters on."""
        return "send" if self.granted else "held"

    def summary(self) -> str:
        """ " (+3 held: 2 velocity, 1 price)", or "" when nothing was held back."""
        if not self.granted or not self.held:
            return ""
        detectors = Counter(entry.split("#", 1)[0] for entry in self.held)
        parts = ", ".join(f"{n} {detector}" for detector, n in detectors.most_common())
        return f" (+{len(self.held)} held: {parts})"
