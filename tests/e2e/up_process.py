"""`shopwatch up` as a real process, for the end-to-end tests that start, kill and restart stacks."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.template import ROOT


@pytest.fixture
def stacks_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPWATCH_", "AWS_"))}
    return env | {"SHOPWATCH_STACKS_DIR": str(tmp_path / "stacks"), "SAM_CLI_TELEMETRY": "0", "PYTHONUNBUFFERED": "1"}


class Up:
    """One `shopwatch up --port PORT [extra...]` process, started and waited for until it serves."""

    def __init__(self, port: int, env: dict[str, str], *extra: str) -> None:
        self.port, self.env = port, env
        self.directory = Path(env["SHOPWATCH_STACKS_DIR"]) / str(port)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "infra.cli", "up", "--port", str(port), *extra],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.printed = ""
        while "running at" not in self.printed:  # printed once the stack serves (notes and errors come before)
            line = self.process.stdout.readline()
            if not line:
                self.process.wait(timeout=30)
                raise AssertionError(f"`shopwatch up --port {port}` did not start: {self.printed}")
            self.printed += line

    @property
    def state(self) -> dict:
        return json.loads((self.directory / "stack.json").read_text())

    def open_files(self) -> set[Path]:
        found = set()
        for fd in Path(f"/proc/{self.process.pid}/fd").iterdir():
            try:
                found.add(Path(os.readlink(fd)))
            except OSError:
                continue
        return found

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process.stdout.close()


@pytest.fixture
def started() -> Iterator[list[Up]]:
    running: list[Up] = []
    yield running
    for up in running:
        up.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "infra.cli", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
