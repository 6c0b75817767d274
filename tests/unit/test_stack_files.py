"""How the CLI finds the local stack it talks to, and what happens to a stack.json whose process is gone
(stack_files; the real two-stack and SIGKILL runs are in tests/e2e/test_stack_isolation.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from infra.cli import _local_state, build_parser, main
from infra.local import stack_files
from infra.local.stack_files import AmbiguousStack, NoStack, StackRunning


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("SHOPWATCH_STACKS_DIR", str(tmp_path))
    monkeypatch.delenv("SHOPWATCH_STATE_DIR", raising=False)
    return tmp_path


@pytest.fixture(scope="module")
def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def write(root, port, **identity):
    directory = root / str(port)
    directory.mkdir(parents=True, exist_ok=True)
    state = (identity or stack_files.identity()) | {"url": f"http://127.0.0.1:{port}", "port": port}
    (directory / "stack.json").write_text(json.dumps(state))
    return directory


def test_each_port_gets_its_own_directory_unless_one_is_named(root, monkeypatch):
    assert stack_files.default_state_dir(3000) == root / "3000"
    assert stack_files.default_state_dir(3001) == root / "3001"
    monkeypatch.setenv("SHOPWATCH_STATE_DIR", str(root / "mine"))
    assert stack_files.default_state_dir(3000) == root / "mine"


def test_the_only_running_stack_is_found_and_a_stale_one_beside_it_is_removed(root, dead_pid):
    live = write(root, 3001)
    stale = write(root, 3000, pid=dead_pid)
    found, notes = stack_files.find()
    assert found.directory == live and found.state["url"] == "http://127.0.0.1:3001"
    assert not (stale / "stack.json").exists()
    assert notes == [f"removed a stale {stale / 'stack.json'} (pid {dead_pid} is no longer running)"]


def test_port_picks_among_several_and_without_it_the_choice_is_refused_naming_them(root):
    write(root, 3000)
    write(root, 3001)
    assert stack_files.find(port=3001)[0].state["url"] == "http://127.0.0.1:3001"
    assert stack_files.find(port=3000)[0].state["url"] == "http://127.0.0.1:3000"
    with pytest.raises(AmbiguousStack, match="2 local stacks are running") as refused:
        stack_files.find()
    assert "http://127.0.0.1:3000, http://127.0.0.1:3001" in str(refused.value)
    assert "--port" in str(refused.value)
    with pytest.raises(NoStack, match="no local stack is running on port 3002"):
        stack_files.find(port=3002)


def test_no_stack_at_all_is_said_plainly(root, dead_pid):
    with pytest.raises(NoStack, match="no local stack is running"):
        stack_files.find()
    write(root, 3000, pid=dead_pid)
    with pytest.raises(NoStack, match="removed a stale"):
        stack_files.find(port=3000)


def test_a_reused_pid_is_not_the_old_stack(root):
    started = stack_files.process_started(os.getpid())
    if started is None:
        pytest.skip("no /proc here: the start time is unknown, only the pid is checked")
    write(root, 3000, pid=os.getpid(), pid_started=str(int(started) + 1))
    assert not stack_files.alive(json.loads((root / "3000" / "stack.json").read_text()))
    with pytest.raises(NoStack):
        stack_files.find()


def test_a_damaged_stack_json_counts_as_stale(root):
    (root / "3000").mkdir()
    (root / "3000" / "stack.json").write_text('{"pid": ')
    with pytest.raises(NoStack):
        stack_files.find()
    assert not (root / "3000" / "stack.json").exists()


def test_a_starting_stack_cleans_a_stale_file_and_refuses_a_directory_in_use(root, dead_pid):
    stale = write(root, 3000, pid=dead_pid)
    assert "removed a stale" in stack_files.claim(stale, "http://127.0.0.1:3000")
    assert stack_files.claim(stale, "http://127.0.0.1:3000") is None
    live = write(root, 3001)
    with pytest.raises(StackRunning, match=f"already keeps its files in {live}"):
        stack_files.claim(live, "http://127.0.0.1:3002")


def test_the_cli_says_which_stack_it_uses_and_refuses_an_ambiguous_choice(root, capsys):
    write(root, 3000)
    write(root, 3001)
    assert main(["alerts"]) == 2
    assert "2 local stacks are running" in capsys.readouterr().err
    assert main(["evaluate", "--truth", str(root / "none.jsonl")]) == 2
    assert "choose one with --port" in capsys.readouterr().err
    args = build_parser().parse_args(["alerts", "--port", "3001"])
    assert _local_state(args)["url"] == "http://127.0.0.1:3001"
    err = capsys.readouterr().err
    assert f"using the local stack at http://127.0.0.1:3001 (pid {os.getpid()}, files in {root / '3001'})" in err
