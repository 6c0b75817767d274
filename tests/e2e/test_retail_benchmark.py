"""`shopwatch benchmark retail --inject` end to end on a small synthetic file in Online Retail's format: the
stack it starts catches the injected price and burst anomalies, and the figures add up."""

from __future__ import annotations

from pathlib import Path

from infra.benchmarks import retail
from tests.unit.test_retail_benchmark import synthetic_retail


def test_the_benchmark_runs_the_stack_and_scores_the_injected_anomalies(tmp_path: Path) -> None:
    result = retail.run(
        synthetic_retail(tmp_path / "retail.csv.gz", 300), every=25, warmup=150, state_dir=tmp_path / "stack",
        truth_path=tmp_path / "truth.jsonl",
    )  # fmt: skip
    assert result.accepted == result.sent == 300 + result.injected_transactions
    assert result.quiet.real == 300
    for kind in ("deep_discount", "markup", "bot_burst", "card_testing"):
        assert result.kinds[kind].recall == 1.0, (kind, result.kinds[kind].missed)
    assert result.messages["email"] >= 4  # at least one per kind above (quiet periods merge repeats)
    assert len((tmp_path / "truth.jsonl").read_text().splitlines()) == sum(k.injected for k in result.kinds.values())
