"""Before and after in one run: the load bench alternated between another revision and this tree.

    python -m infra.bench_compare --before f6fe710 --rounds 2 --rates 350,400,450,500

Why: issue 16 asks that entity aggregates cost the local stack no throughput, stated before and after in one
run. On a shared 2-core machine a sustained rate moves by ±15% with whatever else runs, so one run of each side
proves little. Here both sides run the same load driver (this tree's `infra/bench.py` is copied over the other
revision's: same traffic, same definition of "sustained"), in alternating rounds, so they share the
machine's conditions; and each step also reports the process's CPU per accepted transaction, which sets a
GIL-bound stack's ceiling and barely moves with the machine's load.

The other revision is exported with `git archive` into `.shopwatch/compare/<rev>/` (kept for the next run) and
run with its own code first on PYTHONPATH, in this tree's virtualenv.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from rich.table import Table

from infra.report import console

ROOT = Path(__file__).resolve().parent.parent
BENCH_FLAGS = ["--no-replay", "--no-retail-benchmark", "--no-model", "--no-nab", "--no-fraud-data"]


@dataclass(frozen=True)
class Step:
    offered: float
    ingested: float
    p95: float
    cpu_ms_per_tx: float | None
    sustained: bool


def parse_steps(output: str) -> list[Step]:
    """The rows of the load bench's table, as `python -m infra.bench` prints them."""
    steps = []
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if not line.lstrip().startswith("│") or len(cells) < 9 or not cells[0].replace(".", "").isdigit():
            continue
        cpu = cells[8] if len(cells) >= 10 else None
        steps.append(Step(float(cells[0]), float(cells[1]), float(cells[6]), float(cpu) if cpu else None,
                          cells[-1] == "yes"))  # fmt: skip
    return steps


def highest_sustained(steps: list[Step]) -> float:
    return max((s.ingested for s in steps if s.sustained), default=0.0)


def mean_cpu(steps: list[Step]) -> float | None:
    values = [s.cpu_ms_per_tx for s in steps if s.cpu_ms_per_tx is not None]
    return statistics.fmean(values) if values else None


def _mean(values: list[float | None]) -> float:
    known = [v for v in values if v is not None]
    return statistics.fmean(known) if known else float("nan")


def export(revision: str) -> Path:
    """The revision's files in .shopwatch/compare/<rev>/, with this tree's load driver."""
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout.strip()  # fmt: skip
    target = ROOT / ".shopwatch" / "compare" / commit
    if not (target / "infra").is_dir():
        target.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "archive", commit], cwd=ROOT, check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    (target / "infra" / "bench.py").write_bytes((ROOT / "infra" / "bench.py").read_bytes())
    return target


def run_side(tree: Path, rates: str, seconds: float) -> tuple[list[Step], str]:
    paths = [str(tree), str(tree / "layers" / "core" / "python"), str(tree / "layers" / "model" / "python")]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")]), COLUMNS="200")
    command = [sys.executable, "-m", "infra.bench", "--rates", rates, "--seconds", str(seconds), *BENCH_FLAGS]
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, timeout=3600, check=False)
    steps = parse_steps(done.stdout)
    if done.returncode != 0 or not steps:
        raise RuntimeError(
            f"the load bench failed in {tree} (exit {done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
        )
    return steps, done.stdout


def load() -> str:
    with open("/proc/loadavg", encoding="ascii") as f:
        return " ".join(f.read().split()[:3])


def compare(before: str, rounds: int, rates: str, seconds: float) -> Table:
    trees = {f"before ({before})": export(before), "after (this tree)": ROOT}
    table = Table(
        title=f"Load bench, before and after in one run ({rounds} alternating rounds, {seconds:.0f} s per step)"
    )
    for column in ("round", "side", "load before", "highest sustained/s", "p95 there s", "CPU ms/tx (mean of steps)",
                   "per step: offered→ingested (sustained?)"):  # fmt: skip
        table.add_column(column, justify="right")
    results: dict[str, list[tuple[float, float | None]]] = {side: [] for side in trees}
    for number in range(1, rounds + 1):
        for side, tree in trees.items():
            machine = load()
            steps, _ = run_side(tree, rates, seconds)
            best = highest_sustained(steps)
            p95 = next((s.p95 for s in steps if s.sustained and s.ingested == best), float("nan"))
            cpu = mean_cpu(steps)
            results[side].append((best, cpu))
            table.add_row(str(number), side, machine, f"{best:.0f}", f"{p95:.2f}", f"{cpu:.2f}" if cpu else "n/a",
                          ", ".join(f"{s.offered:g}→{s.ingested:.0f}{'' if s.sustained else ' (no)'}" for s in steps))  # fmt: skip
    b, a = results.values()
    b_rate, a_rate = statistics.median(r for r, _ in b), statistics.median(r for r, _ in a)
    b_cpu, a_cpu = _mean([c for _, c in b]), _mean([c for _, c in a])
    table.caption = (
        f"median highest sustained: before {b_rate:.0f}/s, after {a_rate:.0f}/s (after/before "
        f"{a_rate / b_rate if b_rate else float('nan'):.2f}); CPU per transaction: before {b_cpu:.2f} ms, after "
        f"{a_cpu:.2f} ms (after/before {a_cpu / b_cpu:.2f}, below 1 is cheaper)"
    )
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench-compare")
    parser.add_argument("--before", required=True, help="the revision to compare with (a commit, tag or branch)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--rates", default="350,400,450,500")
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    console.print(compare(args.before, args.rounds, args.rates, args.seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
