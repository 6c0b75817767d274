"""The local stack's collector tuning: survivors leave the collector's reach, reference counting still frees
them, and the periodic full pass reclaims cycles that died after a freeze."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from infra.local.collector import CollectorTuning


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


@pytest.fixture
def tuning():
    collector = CollectorTuning(threading.Event(), interval=3600, reclaim_every=3)
    yield collector
    collector.release()


def test_a_freeze_moves_survivors_out_of_the_collectors_reach(tuning):
    kept = [Node() for _ in range(1000)]
    before = gc.get_freeze_count()
    tuning.freeze()
    assert gc.get_freeze_count() >= before + len(kept)


def test_frozen_objects_are_still_freed_when_dropped(tuning):
    probe = Node()  # like moto's stored items: no cycle
    watched = weakref.ref(probe)
    tuning.freeze()
    del probe
    assert watched() is None  # reference counting, no collection needed


def test_a_cycle_that_dies_after_a_freeze_waits_for_the_full_pass(tuning):
    a, b = Node(), Node()
    a.other, b.other = b, a
    watched = weakref.ref(a)
    tuning.freeze()
    del a, b
    gc.collect()
    assert watched() is not None  # frozen: the ordinary collections leave it
    assert tuning.reclaim() >= 2
    assert watched() is None


def test_every_few_ticks_one_is_a_full_pass(tuning, monkeypatch):
    passes = []
    monkeypatch.setattr(tuning, "reclaim", lambda: passes.append(tuning.freezes) or tuning.freeze())
    for _ in range(7):
        tuning.tick()
    assert passes == [0, 3, 6]
