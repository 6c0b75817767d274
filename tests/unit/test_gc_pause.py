"""The collector pause: off for the walk, back on when the last overlapping walk ends (also on an error), and a
collector the process had turned off stays off."""

import gc

import pytest

from shopwatch.gc_pause import collector_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if was:
        gc.enable()
    else:
        gc.disable()


def test_the_collector_is_off_during_the_walk_and_on_after():
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_walks_resume_it_only_when_the_last_ends():
    outer = collector_paused()
    outer.__enter__()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled(), "the first walk is still running"
    outer.__exit__(None, None, None)
    assert gc.isenabled()


def test_an_error_in_the_walk_still_resumes_it():
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("the walk failed")
    assert gc.isenabled()


def test_a_collector_the_process_turned_off_stays_off():
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_as_a_decorator_it_pauses_each_call():
    @collector_paused()
    def walk():
        return gc.isenabled()

    assert walk() is False and walk() is False and gc.isenabled()
