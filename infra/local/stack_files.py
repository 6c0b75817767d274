"""Where each local stack keeps its files, and how the CLI finds the running one.

Why: two `shopwatch up` in one clone used to share `.shopwatch/` and so one outbox, one stack.json, one
function log: the second truncated the first's outbox and took over stack.json, and stopping it left the CLI
saying nothing ran while the first still did. Each stack now has a directory of its own,
`.shopwatch/stacks/<port>/` (SHOPWATCH_STACKS_DIR moves the parent; SHOPWATCH_STATE_DIR names one stack's
directory outright), holding stack.json (URL, key, endpoints, pid), env.json, outbox.jsonl and functions.log, and what outlives the
process: identity.json (API key, admin password; stack_identity) and data/ (the journal and snapshot; durable_state).

A stack.json whose process is gone (SIGKILL, a crash, a reboot) is stale: whoever meets it (the CLI looking for
a stack, a stack starting in that directory) removes it and says so. A process is the same one when its pid
is alive and, where /proc tells, it started at the time recorded (a reused pid is not the old stack).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.template import ROOT

STATE_FILE = "stack.json"


class StackRunning(RuntimeError):
    """A live stack already owns the directory a new one would use."""


class NoStack(FileNotFoundError):
    """No running stack matches (the CLI turns this into `error: ...`, exit 2)."""


class AmbiguousStack(NoStack):
    """Several stacks run and nothing says which one is meant."""


def stacks_root() -> Path:
    return Path(os.environ.get("SHOPWATCH_STACKS_DIR") or ROOT / ".shopwatch" / "stacks")


def default_state_dir(port: int) -> Path:
    """SHOPWATCH_STATE_DIR when set (one stack's directory, by hand), else `<stacks root>/<port>/`."""
    explicit = os.environ.get("SHOPWATCH_STATE_DIR")
    return Path(explicit) if explicit else stacks_root() / str(port)


def process_started(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (/proc/<pid>/stat field 22), None where unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # fields after the command name, which may hold spaces


def identity() -> dict[str, Any]:
    """What stack.json records to tell this process from a later one with the same pid."""
    return {"pid": os.getpid(), "pid_started": process_started(os.getpid())}


def alive(state: dict[str, Any]) -> bool:
    pid = state.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    recorded, current = state.get("pid_started"), process_started(pid)
    return recorded is None or current is None or recorded == current


@dataclass(frozen=True)
class Found:
    state: dict[str, Any]
    directory: Path

    def describe(self) -> str:
        return f"the local stack at {self.state['url']} (pid {self.state['pid']}, files in {self.directory})"


def _read(directory: Path) -> dict[str, Any] | None:
    try:
        return json.loads((directory / STATE_FILE).read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        return {}  # half written or damaged: no process to trust, so stale


def remove_if_stale(directory: Path) -> str | None:
    """Remove the directory's stack.json when its process is gone; say what was removed (None: nothing)."""
    state = _read(directory)
    if state is None or alive(state):
        return None
    (directory / STATE_FILE).unlink(missing_ok=True)
    return f"removed a stale {directory / STATE_FILE} (pid {state.get('pid', '?')} is no longer running)"


def claim(directory: Path, url: str) -> str | None:
    """Called by a starting stack: refuse a directory a live stack uses; clean a stale one (returns the note)."""
    note = remove_if_stale(directory)
    state = _read(directory)
    if state:
        raise StackRunning(
            f"{state.get('url', 'a local stack')} (pid {state.get('pid')}) already keeps its files in {directory}; "
            f"stop it first, or start this one ({url}) on another port"
        )
    return note


def find(port: int | None = None, state_dir: Path | None = None) -> tuple[Found, list[str]]:
    """The running stack the CLI should talk to, and notes on stale files removed on the way.

    An explicit directory (argument or SHOPWATCH_STATE_DIR) wins, then --port, else the only stack running
    under the stacks root; several running is an error that lists them."""
    notes: list[str] = []
    explicit = state_dir or (Path(os.environ["SHOPWATCH_STATE_DIR"]) if os.environ.get("SHOPWATCH_STATE_DIR") else None)
    if explicit is not None or port is not None:
        directory = explicit if explicit is not None else stacks_root() / str(port)
        note = remove_if_stale(directory)
        notes += [note] if note else []
        state = _read(directory)
        if not state:
            where = f"on port {port}" if explicit is None else f"with files in {directory}"
            raise NoStack(f"no local stack is running {where}{'; ' + note if note else ''}: start one with "
                          f"`shopwatch up{f' --port {port}' if port is not None else ''}`")  # fmt: skip
        if port is not None and state.get("url", "").rsplit(":", 1)[-1] != str(port):
            raise NoStack(f"the stack with files in {directory} runs at {state.get('url')}, not on port {port}")
        return Found(state, directory), notes
    running = []
    root = stacks_root()
    for directory in sorted(root.iterdir() if root.is_dir() else [], key=lambda d: d.name):
        note = remove_if_stale(directory)
        notes += [note] if note else []
        state = _read(directory)
        if state:
            running.append(Found(state, directory))
    if not running:
        raise NoStack(
            f"no local stack is running (none under {root}): start one with `make up` (or `shopwatch up`)"
            + "".join(f"; {n}" for n in notes)
        )
    if len(running) > 1:
        listed = ", ".join(f.state["url"] for f in running)
        raise AmbiguousStack(f"{len(running)} local stacks are running ({listed}): choose one with --port")
    return running[0], notes
