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


def test_simulate_injects_an_outage_and_a_failure_spike_with_their_windows_in_the_truth(
    local_stack, monkeypatch, tmp_path
):
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    truth = tmp_path / "truth.jsonl"
    assert main(["simulate", "--rate", "2", "--duration", "20", "--customers", "160", "--anomaly-rate", "0",
                 "--outage", "4:6", "--failure-spike", "12:6", "--truth", str(truth)]) == 0  # fmt: skip
    lines = {line["kind"]: line for line in map(json.loads, truth.read_text().splitlines())}
    assert set(lines) == {"outage", "failure_spike"}
    assert lines["outage"]["expected_detectors"] == ["volume"] and lines["outage"]["transaction_ids"] == []
    assert lines["failure_spike"]["expected_detectors"] == ["status_mix"]
    start, end = (lines["outage"]["window"][k] for k in ("start", "end"))
    assert start < end


def test_simulate_refuses_a_window_outside_the_live_traffic(local_stack, monkeypatch, tmp_path):
    import pytest

    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    with pytest.raises(SystemExit, match="must lie inside the 20 s"):
        main(["simulate", "--duration", "20", "--outage", "15:10", "--truth", str(tmp_path / "t.jsonl")])
    with pytest.raises(SystemExit, match="START:SECONDS"):
        main(["simulate", "--duration", "20", "--failure-spike", "soon", "--truth", str(tmp_path / "t.jsonl")])


def test_users_add_list_reset_and_remove_on_the_local_stack(local_stack, monkeypatch, capsys):
    from infra.client import ShopwatchClient

    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    assert main(["users", "add", "nina", "--group", "analysts"]) == 0
    password = capsys.readouterr().out.strip().rsplit("password: ", 1)[1]
    nina = ShopwatchClient(local_stack.url, retries=0)
    nina.sign_in("nina", password)
    assert nina.request("GET", "/alerts?limit=1")[0] == 200
    assert main(["users", "list"]) == 0
    listed = capsys.readouterr().out
    assert "nina" in listed and "analysts" in listed and "admin " in listed
    assert main(["users", "reset-password", "nina", "--password", "Another-pass-42!"]) == 0
    assert (
        ShopwatchClient(local_stack.url).request("POST", "/auth/login", {"username": "nina", "password": password})[0]
        == 401
    )
    assert main(["users", "add", "nina", "--group", "admins"]) == 2  # the name is taken
    assert main(["users", "remove", "nina"]) == 0
    assert (
        ShopwatchClient(local_stack.url).request(
            "POST",
            "/auth/login",
            {"username": "nina", "password": "Another-pass-42!"},  # pragma: allowlist secret
        )[0]
        == 401
    )


def test_replay_wait_returns_once_every_accepted_transaction_is_judged(local_stack, monkeypatch, tmp_path, capsys):
    import uuid
    from datetime import UTC, datetime, timedelta

    from infra.local.readers import verdict_times

    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    run = uuid.uuid4().hex[:8]
    start = datetime.now(UTC) - timedelta(minutes=5)
    lines = [
        {"transaction_id": f"wait-{run}-{i}", "customer_id": f"wait-{i % 7}", "currency": "USD", "country": "US",
         "timestamp": (start + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ"), "payment_method": "card",
         "items": [{"sku": f"SKU-{i % 5}", "name": "Mug", "quantity": 1, "unit_price": "12.50"}]}
        for i in range(60)
    ]  # fmt: skip
    file = tmp_path / "replay.jsonl"
    file.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert main(["replay", str(file), "--wait"]) == 0
    ids = [line["transaction_id"] for line in lines]
    assert set(verdict_times(json.loads((local_stack.state_dir / "stack.json").read_text()), ids)) == set(ids)
    captured = capsys.readouterr()
    assert "ingest: 60 accepted in" in captured.out and "detection: 60 judged, the last" in captured.out
    assert "judging" in captured.err  # the progress bar
    assert main(["replay", str(file), "--wait"]) == 0  # all duplicates now: nothing to wait for
    assert "0 accepted, 60 duplicates" in capsys.readouterr().out


def test_replay_wait_needs_the_local_stack(local_stack, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    file = tmp_path / "empty.jsonl"
    file.write_text("")
    assert main(["replay", str(file), "--wait", "--url", "http://127.0.0.1:9", "--api-key", "k"]) == 2
    assert "--wait reads the local stack's detection markers" in capsys.readouterr().err


def test_evaluate_on_an_empty_stack_says_there_is_nothing_to_measure(local_stack, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    truth = tmp_path / "truth.jsonl"
    truth.write_text("")
    assert (
        main(["evaluate", "--truth", str(truth), "--out", str(tmp_path / "e.json"), "--min-severity", "critical"]) == 0
    )
    printed = capsys.readouterr().out
    assert "lists no injected anomalies: recall is not measured" in printed
    assert "None s" not in printed and "recall 0.0%" not in printed
    assert main(["evaluate", "--truth", str(tmp_path / "missing.jsonl")]) == 2
    assert "no ground truth at" in capsys.readouterr().err


def test_lists_import_and_rules_add_talk_to_the_local_stack(local_stack, monkeypatch, tmp_path, capsys):
    """Over HTTP through the local gateway: the import names its bad row, a CIDR entry is removed through its
    percent-encoded slash, and a rule is added and published."""
    from infra.client import ShopwatchClient

    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(local_stack.state_dir))
    ips = tmp_path / "ips.csv"
    ips.write_text("value,reason\n203.0.113.0/24,botnet\n198.51.100.300,typo\n")
    assert main(["lists", "import", "e2e-ips", str(ips), "--kind", "ip", "--mode", "block"]) == 1
    out, err = capsys.readouterr()
    assert "1 added, 0 updated, 1 refused" in out and "line 3: value must be an IPv4" in err
    admin = ShopwatchClient(local_stack.url, retries=0)
    admin.sign_in("admin", local_stack.admin_password)
    status, body = admin.request("DELETE", "/lists/e2e-ips/items/203.0.113.0%2F24")
    assert (status, body["items_count"]) == (200, 0)
    added = ["rules", "add", "--name", "E2E big order", "--expression", "tx.amount > 500.0", "--decision", "review"]
    assert main(added) == 0
    assert main(["rules", "mode", "e2e-big-order", "active"]) == 0
    assert "e2e-big-order is at version 2, active" in capsys.readouterr().out
