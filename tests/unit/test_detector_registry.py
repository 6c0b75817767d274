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
