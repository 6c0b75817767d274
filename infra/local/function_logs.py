"""Function output goes to a log file, as Lambda's goes to CloudWatch Logs, not over the CLI's own output.

Powertools writes logs and EMF metrics to stdout. A routing stdout sends what a thread writes while it runs a
function to `.shopwatch/functions.log`, and everything else to the terminal as before.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

_state = threading.local()


class _RoutingStdout(io.TextIOBase):
    def __init__(self, terminal: TextIO, log: TextIO) -> None:
        self.terminal = terminal
        self.log = log
        self._lock = threading.Lock()

    def _target(self) -> TextIO:
        """Function threads write to the log, others to the terminal; once the stack stopped (log closed),
        loggers that still hold this stream write to the terminal."""
        in_function = getattr(_state, "in_function", False)
        return self.log if in_function and not self.log.closed else self.terminal

    def write(self, text: str) -> int:
        target = self._target()
        if target is self.log:
            with self._lock:
                return target.write(text)
        return target.write(text)

    def flush(self) -> None:
        for stream in (self.terminal, self.log):
            if not getattr(stream, "closed", False):
                stream.flush()

    def isatty(self) -> bool:
        return self.terminal.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.terminal, "encoding", "utf-8")


def install(path: Path) -> None:
    if isinstance(sys.stdout, _RoutingStdout):
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout = _RoutingStdout(sys.stdout, path.open("a", buffering=1, encoding="utf-8"))


def uninstall() -> None:
    if isinstance(sys.stdout, _RoutingStdout):
        router = sys.stdout
        sys.stdout = router.terminal
        router.log.close()


@contextmanager
def function_output() -> Iterator[None]:
    previous = getattr(_state, "in_function", False)
    _state.in_function = True
    try:
        yield
    finally:
        _state.in_function = previous
