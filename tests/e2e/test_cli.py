"""The CLI against a running local stack: simulate, evaluate, alerts."""

from __future__ import annotations

import json

from infra.cli import main


def test_simulate_then_evaluate_then_alerts(local_stack, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    truth = tmp_path / "truth.jsonl"
    assert main(["simulate", "--rate", "2", "--duration", "26", "--customers", "160", "--anomaly-rate", "0.2",
                 "--kinds", "deep_discount,markup", "--truth", str(truth)]) == 0  # fmt: skip
    lines = [json.loads(line) for line in truth.read_text().splitlines()]
    assert {line["kind"] for line in lines} == {"deep_discount", "markup"}
    assert local_stack.wait_until_idle(timeout=120)
    out = tmp_path / "evaluation.json"
    assert main(["evaluate", "--truth", str(truth), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["overall"]["recall"] == 1.0
    assert main(["alerts", "--limit", "5"]) == 0
    printed = capsys.readouterr().out
    assert "Recent alerts" in printed and "Notifications sent" in printed
