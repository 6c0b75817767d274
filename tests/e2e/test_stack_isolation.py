"""Real `shopwatch up` processes: two at once in one clone keep to their own files and the CLI picks between
them; a stack killed with SIGKILL leaves a stale stack.json that is cleaned, and its port is reusable at once."""

from __future__ import annotations

import json
import signal
import socket
import time
from pathlib import Path

import pytest

from infra.local.stack import free_port
from tests.e2e.up_process import Up, cli


def read_all(connection: socket.socket) -> bytes:
    """Everything the server sent on a kept-alive connection (until it pauses)."""
    connection.settimeout(1.0)
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except TimeoutError:
        pass
    return received


def time_wait_on(port: int) -> bool:
    """A socket with local port `port` in TIME_WAIT (state 06 in /proc/net/tcp)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(int(f.split()[1].split(":")[1], 16) == port and f.split()[3] == "06" for f in lines)


@pytest.mark.skipif(not Path("/proc/self/fd").exists(), reason="reads /proc to see which files each stack holds")
def test_two_stacks_keep_to_their_own_files_and_the_cli_picks_between_them(stacks_env, started):
    first = Up(free_port(), stacks_env)
    started.append(first)
    second = Up(free_port(), stacks_env)
    started.append(second)
    root = Path(stacks_env["SHOPWATCH_STACKS_DIR"])
    for up in (first, second):
        assert up.state["pid"] == up.process.pid and up.state["url"] == f"http://127.0.0.1:{up.port}"
        assert Path(up.state["outbox"]) == up.directory / "outbox.jsonl"
        held = {path for path in up.open_files() if root in path.parents}
        assert held and all(up.directory in path.parents for path in held), held  # its log and data, not the other's
        assert {"stack.json", "env.json", "outbox.jsonl", "functions.log"} <= {p.name for p in up.directory.iterdir()}
    assert json.loads((first.directory / "env.json").read_text()) != json.loads(
        (second.directory / "env.json").read_text()
    )  # each names its own moto endpoint

    ambiguous = cli(stacks_env, "alerts")
    assert ambiguous.returncode == 2 and "2 local stacks are running" in ambiguous.stderr
    assert "choose one with --port" in ambiguous.stderr
    for up in (first, second):
        chosen = cli(stacks_env, "alerts", "--port", str(up.port))
        assert chosen.returncode == 0, chosen.stderr
        assert f"using the local stack at http://127.0.0.1:{up.port} (pid {up.process.pid}" in chosen.stderr

    first.process.send_signal(signal.SIGKILL)
    first.process.wait()
    only = cli(stacks_env, "alerts")  # the first's stack.json is stale now: cleaned, the second is the only one
    assert only.returncode == 0, only.stderr
    assert f"removed a stale {first.directory / 'stack.json'} (pid {first.process.pid}" in only.stderr
    assert f"using the local stack at http://127.0.0.1:{second.port}" in only.stderr
    assert not (first.directory / "stack.json").exists()
    assert second.state["pid"] == second.process.pid


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads /proc/net/tcp to see the TIME_WAIT socket")
def test_a_stack_killed_with_sigkill_restarts_on_its_port_at_once(stacks_env, started):
    port = free_port()
    killed = Up(port, stacks_env)
    started.append(killed)
    # a connection the server has accepted when it dies: the kernel closes the server's end first, so the
    # port's socket waits in TIME_WAIT (about 60 s on Linux), as after a real SIGKILL under traffic
    held = socket.create_connection(("127.0.0.1", port))
    held.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    assert read_all(held).startswith(b"HTTP/1.1 200")  # read whole: closing with unread bytes would reset instead
    killed.process.send_signal(signal.SIGKILL)
    killed.process.wait()
    held.close()
    deadline = time.monotonic() + 5
    while not time_wait_on(port) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert time_wait_on(port), "no TIME_WAIT socket: this test would not show that the port is reused"
    assert (killed.directory / "stack.json").exists()  # stale: its process is gone

    restarted = Up(port, stacks_env)  # raises if refused ("port in use") or not serving
    started.append(restarted)
    assert f"removed a stale {killed.directory / 'stack.json'} (pid {killed.process.pid}" in restarted.printed
    assert restarted.state["pid"] == restarted.process.pid != killed.process.pid
    with socket.create_connection(("127.0.0.1", port)) as probe:
        probe.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
        assert probe.recv(64).startswith(b"HTTP/1.1 200")


def test_a_second_stack_is_refused_a_port_in_use_with_a_clear_message(stacks_env, started):
    up = Up(free_port(), stacks_env)
    started.append(up)
    refused = cli(stacks_env, "up", "--port", str(up.port))
    assert refused.returncode == 2
    assert f"already keeps its files in {up.directory}" in refused.stderr
    env = stacks_env | {"SHOPWATCH_STACKS_DIR": str(Path(stacks_env["SHOPWATCH_STACKS_DIR"]) / "elsewhere")}
    refused = cli(env, "up", "--port", str(up.port))  # its own directory is free, the port is not
    assert refused.returncode == 2 and f"port {up.port} on 127.0.0.1 is in use" in refused.stderr
