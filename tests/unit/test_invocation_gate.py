"""durable_state's InvocationGate: a commit waits for the invocations already running and holds new ones back,
so a journal commit never falls inside an invocation that publishes (between a publish and its ledger mark)."""

from __future__ import annotations

import threading

from infra.local.durable_state import InvocationGate


def test_a_commit_waits_for_running_invocations_and_holds_new_ones_back():
    gate = InvocationGate()
    events: list[str] = []
    inside, release, committing = threading.Event(), threading.Event(), threading.Event()

    def invocation(name: str, hold: threading.Event | None) -> None:
        with gate.invocation():
            events.append(f"{name} in")
            inside.set()
            if hold is not None:
                hold.wait(5)
            events.append(f"{name} out")

    def commit() -> None:
        committing.set()
        with gate.exclusive():
            events.append("commit")

    running = threading.Thread(target=invocation, args=("first", release))
    running.start()
    inside.wait(5)
    committer = threading.Thread(target=commit)
    committer.start()
    committing.wait(5)
    committer.join(0.2)
    assert committer.is_alive() and "commit" not in events  # waits for the running invocation
    later = threading.Thread(target=invocation, args=("second", None))
    later.start()
    later.join(0.2)
    assert "second in" not in events  # a commit is waiting: a new invocation waits behind it
    release.set()
    for thread in (running, committer, later):
        thread.join(5)
    assert events == ["first in", "first out", "commit", "second in", "second out"]


def test_invocations_run_side_by_side_without_a_commit():
    gate = InvocationGate()
    both = threading.Barrier(2, timeout=5)

    def invocation() -> None:
        with gate.invocation():
            both.wait()  # would time out if the gate let only one in

    threads = [threading.Thread(target=invocation) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert not both.broken
