"""The registry's names and which detectors read entity aggregates: a backtest that runs only the detectors a
rule reads, and learns no entity for those that do not read them, must judge as DetectFunction does."""

from dataclasses import replace

from shopwatch.config import DetectionSettings
from shopwatch.detectors.registry import DETECTORS_BY_NAME, PER_TRANSACTION_DETECTORS, READ_ENTITIES, run_detectors
from shopwatch.rules.variables import FINDING_DETECTORS
from shopwatch.training.replay import replay_steps
from tests.rules.test_reads import varied_shop


def test_every_detector_has_its_findings_name():
    assert list(DETECTORS_BY_NAME.values()) == list(PER_TRANSACTION_DETECTORS)
    assert set(DETECTORS_BY_NAME) == set(FINDING_DETECTORS) - {"model"}


def test_only_the_detectors_named_run_and_find_what_they_find_among_all():
    settings = DetectionSettings()
    found = 0
    for step in replay_steps(varied_shop(), settings):
        every = run_detectors(step.data, settings)
        assert run_detectors(step.data, settings, None) == every
        assert run_detectors(step.data, settings, frozenset({"price", "velocity"})) == [
            f for f in every if f.detector in ("price", "velocity")
        ]
        assert run_detectors(step.data, settings, frozenset()) == []
        found += len(every)
    assert found


def test_the_detectors_not_said_to_read_entities_judge_the_same_without_them():
    """Over a shop with shared devices and cards, bursts and new accounts: a detector outside READ_ENTITIES
    finds the same with the entity aggregates taken away; each one inside finds differently at least once."""
    settings = DetectionSettings()
    changed = set()
    for step in replay_steps(varied_shop(), settings):
        blind = replace(step.data, entities={})
        for name, detect in DETECTORS_BY_NAME.items():
            if detect(step.data, settings) != detect(blind, settings):
                changed.add(name)
    assert changed == READ_ENTITIES


def _window_by_walking(mapping, prefix, current, keep):
    """The reference: every name of the item parsed, those of the window kept."""
    return [v for name, v in mapping.items() if name.startswith(prefix) and name[len(prefix) :].lstrip("-").isdigit()
            and current - keep < int(name[len(prefix) :]) <= current]  # fmt: skip


def test_windows_looked_up_by_name_hold_what_walking_every_name_finds():
    """Every entity's every window, at each transaction of the varied shop and an hour and a month later."""
    from datetime import timedelta

    from shopwatch.detectors.entities import KIND_CODES, LINK_WINDOWS, METRICS, WINDOWS

    settings, checked = DetectionSettings(), 0
    for step in replay_steps(varied_shop(), settings):
        for history in step.data.entities.values():
            for at in (
                step.tx.timestamp,
                step.tx.timestamp + timedelta(hours=1),
                step.tx.timestamp + timedelta(days=30),
            ):
                for window, g in WINDOWS.items():
                    for metric in (m for m, kept in METRICS.items() if g.code in {k.code for k in kept}):
                        expected = sum(_window_by_walking(history.buckets, f"{metric}{g.code}", g.index(at), g.keep))
                        assert history.total(metric, window, at) == expected
                        checked += expected > 0
                for window, g in LINK_WINDOWS.items():
                    for kind, code in KIND_CODES.items():
                        walked = _window_by_walking(history.links, f"L{code}{g.code}", g.index(at), g.keep)
                        assert history.linked(kind, window, at) == frozenset().union(*walked)
    assert checked
