"""The repository's security scans, run by `make test` (and `make lint`): checkov over template.yaml with the
checks left out and their reasons in .checkov.yaml, and a secret scan of every tracked file against the audited
baseline of known false positives (.secrets.baseline)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from infra.template import ROOT

CHECKOV = os.environ.get("CHECKOV") or str(ROOT / ".tools" / "checkov" / "bin" / "checkov")
DETECT_SECRETS = str(Path(sys.executable).with_name("detect-secrets-hook"))


def tracked_files() -> list[str]:
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [n for n in listed.stdout.splitlines() if (ROOT / n).is_file() and n != ".secrets.baseline"]


@pytest.mark.skipif(not Path(CHECKOV).exists(), reason="checkov is not installed here; `make tools` installs it")
def test_checkov_finds_nothing_beyond_the_documented_skips():
    run = subprocess.run([CHECKOV, "--config-file", ".checkov.yaml"], cwd=ROOT, capture_output=True, text=True)
    summary = [line for line in run.stdout.splitlines() if "checks:" in line]
    print(summary)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert summary and "Failed checks: 0" in summary[0]


def test_every_checkov_skip_has_a_written_reason():
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    skips = [i for i, line in enumerate(lines) if line.strip().startswith("- CKV_")]
    assert skips
    for index in skips:
        assert lines[index - 1].strip().startswith("#"), f"{lines[index].strip()} has no reason above it"


@pytest.mark.skipif(shutil.which(DETECT_SECRETS) is None, reason="detect-secrets is installed with the dev tools")
def test_no_secret_in_any_tracked_file(tmp_path):
    baseline = tmp_path / "baseline.json"
    shutil.copy(ROOT / ".secrets.baseline", baseline)  # the hook may rewrite line numbers; never in the repo
    run = subprocess.run([DETECT_SECRETS, "--baseline", str(baseline), *tracked_files()], cwd=ROOT,
                         capture_output=True, text=True)  # fmt: skip
    # exit 3 alone means the audited findings moved to other lines (an edit above them): still the same ones
    moved_only = run.returncode == 3 and audited(baseline) == audited(ROOT / ".secrets.baseline")
    assert run.returncode == 0 or moved_only, (
        "a possible secret outside the audited baseline; remove it, or after checking it is not one run "
        "`git ls-files -z | grep -zv secrets.baseline | xargs -0 .venv/bin/detect-secrets scan > .secrets.baseline`:\n"
        + run.stdout[-4000:]
    )


def audited(baseline: Path) -> set[tuple[str, str, str]]:
    """The findings a baseline accepts, by file, hash and type (not line: lines move with every edit)."""
    results = json.loads(baseline.read_text())["results"]
    return {(name, found["hashed_secret"], found["type"]) for name, items in results.items() for found in items}


@pytest.mark.skipif(shutil.which(DETECT_SECRETS) is None, reason="detect-secrets is installed with the dev tools")
def test_the_secret_scan_would_catch_an_access_key(tmp_path):
    leak = tmp_path / "settings.py"
    leak.write_text('aws_access_key_id = "AKIAZ7QJQXJQXJQXJQX1"\n')  # pragma: allowlist secret
    run = subprocess.run([DETECT_SECRETS, "--baseline", str(ROOT / ".secrets.baseline"), str(leak)],
                         capture_output=True, text=True)  # fmt: skip
    assert run.returncode != 0
