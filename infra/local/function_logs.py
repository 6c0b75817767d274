"""Function output goes to a log file, as Lambda's goes to CloudWatch Logs, not over the CLI's own output.

Powertools writes logs and EMF metrics to stdout. A routing stdout sends what a thread writes while it runs a
function to its stack's `functions.log` (`.shopwatch/stacks/<port>/`), and everything else to the terminal as before.
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
    def __init__(self, terminal: TextIO) -> None:
        self.terminal = terminal
        self.log: TextIO | None = None
        self._lock = threading.Lock()

    def _target(self) -> TextIO:
        """Function threads write to the current stack's log, everything else to the terminal."""
        log = self.log
        return log if log is not None and getattr(_state, "in_function", False) else self.terminal

    def write(self, text: str) -> int:
        target = self._target()
        if target is self.log:
            with self._lock:
                return target.write(text)
        return target.write(text)

    def flush(self) -> None:
        for stream in (self.terminal, self.log):
            if stream is not None and not getattr(stream, "closed", False):
                stream.flush()

    def isatty(self) -> bool:
        return self.terminal.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.terminal, "encoding", "utf-8")


_router: _RoutingStdout | None = None


def install(path: Path) -> None:
    """Route function output to `path`. The router stays installed for the life of the process, because
    Powertools loggers keep the stream they were created with; a later stack re-points it to its own log."""
    global _router
    if _router is None:
        _router = _RoutingStdout(sys.stdout)
    if sys.stdout is not _router:  # first install, or someone (a test runner) swapped stdout since
        _router.terminal = sys.stdout
        sys.stdout = _router
    path.parent.mkdir(parents=True, exist_ok=True)
    with _router._lock:
        previous, _router.log = _router.log, path.open("a", buffering=1, encoding="utf-8")
    if previous is not None:
        previous.close()


def uninstall() -> None:
    """Close the current log; function output goes to the terminal until a stack installs a new one."""
    if _router is not None and _router.log is not None:
        with _router._lock:
            log, _router.log = _router.log, None
        log.close()


@contextmanager
def function_output() -> Iterator[None]:
    previous = getattr(_state, "in_function", False)
    _state.in_function = True
    try:
        yield
    finally:
        _state.in_function = previous
