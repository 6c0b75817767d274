"""`shopwatch benchmark model-parity`: the numpy Isolation Forest fit against scikit-learn's, on real data.

Why: TrainFunction (issue 17) retrains a shop's forest in a Lambda with numpy alone (`fit_isolation_forest`);
it may only replace the offline scikit-learn training if it detects as well. Both fit the same features with
the same settings (200 trees, psi auto, contamination 0.01) over 5 seeds each, and each fitted forest ranks
the rows it was trained on against their labels (ROC AUC of -score_samples). The targets:

(a) Fraud_Data dev (../shared/data/fraud_ecommerce/fraud_data_dev.csv): the purchases as the fraud-data
    benchmark sends them, labels = class;
(b) Online Retail, the first `months` months of invoices with the injector's amount and basket outliers
    (deep discount, markup, quantity spike) among them: positives = the injected transactions.

A target passes when |mean AUC numpy - mean AUC scikit-learn| <= 0.01. Also measured: fit time per
implementation (the fit includes scoring the training rows for the offset, in both), and the numpy fit on
300,000 rows (the retail features resampled with replacement) in a child process that imports numpy and
the model layer only, as TrainFunction would: its time and peak RSS (resource.getrusage), next to the child's
peak before fitting (numpy and the rows loaded). Features: `infra.training.train.feature_matrix`, the code
DetectFunction runs. Targets whose file is absent (a fresh clone has no ../shared) are skipped.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from rich.table import Table
from shopwatch_model import fit_isolation_forest
from shopwatch_model.forest_fit import chunked_scores

from infra.benchmarks.fraud_data import purchases, roc_auc
from infra.benchmarks.injection import Injector
from infra.replay import online_retail_transactions
from infra.template import ROOT
from infra.training.loading import validated_records
from infra.training.train import feature_matrix
from shopwatch.domain.clock import parse_iso

FRAUD_DATA = ROOT.parent / "shared" / "data" / "fraud_ecommerce" / "fraud_data_dev.csv"
RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
MAX_DIFFERENCE = 0.01
TREES, CONTAMINATION = 200, 0.01
OUTLIER_KINDS = ("deep_discount", "markup", "quantity_spike")  # amount and basket outliers, one row each
SCALE_ROWS = 300_000


@dataclass(frozen=True)
class LabelledSet:
    name: str
    X: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class ParityResult:
    name: str
    rows: int
    positives: int
    features: int
    numpy_auc: tuple[float, ...]  # per seed
    sklearn_auc: tuple[float, ...]
    numpy_seconds: tuple[float, ...]
    sklearn_seconds: tuple[float, ...]

    @property
    def difference(self) -> float:
        return statistics.fmean(self.numpy_auc) - statistics.fmean(self.sklearn_auc)

    @property
    def passed(self) -> bool:
        return abs(self.difference) <= MAX_DIFFERENCE


@dataclass(frozen=True)
class ScaleResult:
    rows: int
    features: int
    fit_seconds: float
    peak_rss_mb: float
    loaded_rss_mb: float  # the child's peak before fitting: interpreter, numpy, the rows


def fraud_data_set(path: Path) -> LabelledSet:
    """The dev purchases as `shopwatch benchmark fraud-data` builds them, through the ingest contract."""
    rows = purchases(path)
    labels = {tx["transaction_id"]: label for tx, label in rows}
    transactions, _ = validated_records([tx for tx, _ in rows])
    ordered, X = feature_matrix(transactions)
    return LabelledSet("Fraud_Data dev", X, np.array([labels[tx.transaction_id] for tx in ordered]))


def retail_set(path: Path, months: int = 6, seed: int = 16) -> LabelledSet:
    """The first `months` months of invoices (30.5 days a month) with the amount and basket outliers injected
    among them, as `shopwatch benchmark retail --inject` injects them (one per 100 invoices after 1,000)."""
    invoices = online_retail_transactions(path)
    first = next(invoices)
    end = parse_iso(first["timestamp"]) + timedelta(days=30.5 * months)
    real = itertools.takewhile(lambda tx: parse_iso(tx["timestamp"]) < end, itertools.chain([first], invoices))
    injector = Injector(kinds=OUTLIER_KINDS, seed=seed)
    records = list(injector.inject(real))
    injected = {t for anomaly in injector.truth for t in anomaly["transaction_ids"]}
    transactions, _ = validated_records(records)
    ordered, X = feature_matrix(transactions)
    y = np.array([int(tx.transaction_id in injected) for tx in ordered])
    return LabelledSet(f"Online Retail {months} months + injected", X, y)


def compare(data: LabelledSet, seeds: int = 5) -> ParityResult:
    """Both implementations on the same rows and settings, seeds 0 .. seeds-1."""
    from sklearn.ensemble import IsolationForest  # offline only: the model layer never imports it

    ours, theirs, our_time, their_time = [], [], [], []
    for seed in range(seeds):
        started = time.perf_counter()
        forest = fit_isolation_forest(data.X, trees=TREES, contamination=CONTAMINATION, seed=seed)
        our_time.append(time.perf_counter() - started)
        ours.append(roc_auc(data.y, -chunked_scores(forest, data.X)))
        started = time.perf_counter()
        reference = IsolationForest(n_estimators=TREES, contamination=CONTAMINATION, random_state=seed).fit(data.X)
        their_time.append(time.perf_counter() - started)
        theirs.append(roc_auc(data.y, -reference.score_samples(data.X)))
    return ParityResult(data.name, len(data.y), int(data.y.sum()), data.X.shape[1], tuple(ours), tuple(theirs),
                        tuple(our_time), tuple(their_time))  # fmt: skip


_SCALE_CHILD = """
import json, resource, sys, time
import numpy as np
from shopwatch_model import fit_isolation_forest
def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
X = np.load(sys.argv[1])
loaded = peak_kb()
started = time.perf_counter()
fit_isolation_forest(X, trees=int(sys.argv[2]), contamination=float(sys.argv[3]), seed=0)
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_kb": peak_kb(), "loaded_kb": loaded}))
"""


def scale(X: np.ndarray, rows: int = SCALE_ROWS, seed: int = 0) -> ScaleResult:
    """The numpy fit on `rows` rows resampled from X, in a child holding numpy and the model layer only.

    The child is started by a shell that forks it: Linux keeps the RSS high-water mark across exec, so a
    python exec'd straight from this process (which holds scikit-learn and the data sets) would report this
    process's peak as its own; the shell's fork starts the count afresh from the shell's few MB.
    """
    big = X[np.random.default_rng(seed).integers(len(X), size=rows)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        np.save(path, big)
        command = [sys.executable, "-c", _SCALE_CHILD, str(path), str(TREES), str(CONTAMINATION)]
        done = subprocess.run(
            ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command], capture_output=True, text=True, check=True
        )
    figures = json.loads(done.stdout)
    return ScaleResult(rows, X.shape[1], figures["seconds"], figures["peak_kb"] / 1024, figures["loaded_kb"] / 1024)


def _mean_sd(values: tuple[float, ...], digits: int = 4) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.fmean(values):.{digits}f} ± {sd:.{digits}f}"


def parity_table(results: list[ParityResult]) -> Table:
    seeds = len(results[0].numpy_auc) if results else 0
    table = Table(title=f"Isolation Forest, numpy fit vs scikit-learn ({TREES} trees, psi auto, "
                        f"contamination {CONTAMINATION}, {seeds} seeds: mean ± sd)")  # fmt: skip
    for column in ("target", "rows", "positives", "features", "ROC AUC numpy", "ROC AUC scikit-learn",
                   "difference", "fit s numpy", "fit s scikit-learn"):  # fmt: skip
        table.add_column(column, justify="left" if column == "target" else "right")
    for r in results:
        table.add_row(r.name, f"{r.rows:,}", f"{r.positives:,}", str(r.features), _mean_sd(r.numpy_auc),
                      _mean_sd(r.sklearn_auc), f"{r.difference:+.4f}", _mean_sd(r.numpy_seconds, 2),
                      _mean_sd(r.sklearn_seconds, 2))  # fmt: skip
    return table


def verdict_lines(results: list[ParityResult]) -> list[str]:
    return [
        f"{'PASS' if r.passed else 'FAIL'} {r.name}: |difference| {abs(r.difference):.4f} "
        f"{'<=' if r.passed else '>'} {MAX_DIFFERENCE}"
        for r in results
    ]


def scale_line(result: ScaleResult) -> str:
    return (f"numpy fit on {result.rows:,} rows x {result.features} features ({TREES} trees, offset over every "
            f"row): {result.fit_seconds:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB "
            f"({result.loaded_rss_mb:.0f} MB before fitting: interpreter, numpy, the rows)")  # fmt: skip


def run(
    *,
    fraud_file: Path = FRAUD_DATA,
    retail_file: Path = RETAIL,
    seeds: int = 5,
    months: int = 6,
    scale_rows: int = SCALE_ROWS,
) -> tuple[list[ParityResult], ScaleResult | None, list[str]]:
    """(parity per target, the numpy fit at scale, what was skipped and why)."""
    results, skipped, retail = [], [], None
    if fraud_file.exists():
        results.append(compare(fraud_data_set(fraud_file), seeds))
    else:
        skipped.append(f"Fraud_Data skipped: {fraud_file} is not here (it lives in ../shared beside the clone)")
    if retail_file.exists():
        retail = retail_set(retail_file, months)
        results.append(compare(retail, seeds))
    else:
        skipped.append(f"Online Retail skipped: {retail_file} is not here (it lives in ../shared beside the clone)")
    at_scale = scale(retail.X, scale_rows) if retail is not None and scale_rows else None
    return results, at_scale, skipped
