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

The autoencoder likewise (`fit_autoencoder` vs MLPRegressor((8, 3, 8), tanh, max_iter 300), on the features
standardized as `shopwatch train` standardizes them): ROC AUC of the reconstruction error, and the share of
positives above the 98th percentile of the training errors (the threshold the model detector uses), with
the same |AUC difference| <= 0.01 bar printed beside the difference's standard error (reported, not gated:
at 5 seeds the seeds' spread alone is about 0.01), and its fit at 300,000 rows (time, epochs, peak RSS).
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
from rich.table import Table
from shopwatch_model import AutoencoderScorer, fit_isolation_forest
from shopwatch_model.autoencoder_fit import fit_autoencoder_run
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
AUTOENCODER_PERCENTILE = 98.0  # TrainingOptions.autoencoder_percentile: the detector's threshold


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
class AutoencoderParity:
    name: str
    numpy_auc: tuple[float, ...]  # per seed
    sklearn_auc: tuple[float, ...]
    numpy_caught: tuple[float, ...]  # share of positives above the 98th percentile training error
    sklearn_caught: tuple[float, ...]
    numpy_seconds: tuple[float, ...]
    sklearn_seconds: tuple[float, ...]
    numpy_epochs: tuple[int, ...]
    sklearn_epochs: tuple[int, ...]

    @property
    def difference(self) -> float:
        return statistics.fmean(self.numpy_auc) - statistics.fmean(self.sklearn_auc)

    @property
    def standard_error(self) -> float:
        """Of the difference of the means, from the seeds' spread: a network's AUC varies a lot by seed
        (a 3-unit bottleneck lands in different minima), and the numpy fit takes scikit-learn's very steps
        from the same weights (tests/unit/test_autoencoder_fit.py), so what differs is only the draws."""
        n = len(self.numpy_auc)
        if n < 2:
            return math.nan
        return math.sqrt((statistics.variance(self.numpy_auc) + statistics.variance(self.sklearn_auc)) / n)

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
    model: str = "forest"
    epochs: int = 0  # the autoencoder's


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


def standardized(X: np.ndarray) -> np.ndarray:
    """As `shopwatch train` feeds the autoencoder: zero mean, unit scale (constant columns left at scale 1)."""
    scale = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)


def compare_autoencoder(data: LabelledSet, seeds: int = 5) -> AutoencoderParity:
    """Both networks on the same standardized rows, seeds 0 .. seeds-1, scikit-learn as `shopwatch train`."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPRegressor

    S = standardized(data.X)
    positives = data.y == 1
    ours: dict[str, list[float]] = {key: [] for key in ("auc", "caught", "seconds", "epochs")}
    theirs: dict[str, list[float]] = {key: [] for key in ("auc", "caught", "seconds", "epochs")}

    def record(into: dict[str, list[float]], errors: np.ndarray, seconds: float, epochs: int) -> None:
        into["auc"].append(roc_auc(data.y, errors))
        into["caught"].append(float((errors[positives] > np.percentile(errors, AUTOENCODER_PERCENTILE)).mean()))
        into["seconds"].append(seconds)
        into["epochs"].append(epochs)

    for seed in range(seeds):
        started = time.perf_counter()
        run = fit_autoencoder_run(S, seed=seed)
        record(ours, run.scorer.reconstruction_error(S), time.perf_counter() - started, run.epochs)
        started = time.perf_counter()
        network = MLPRegressor(hidden_layer_sizes=(8, 3, 8), activation="tanh", max_iter=300, random_state=seed)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # 300 epochs is the budget, as in training
            network.fit(S, S)
        seconds = time.perf_counter() - started
        record(theirs, AutoencoderScorer.from_sklearn(network).reconstruction_error(S), seconds, network.n_iter_)
    return AutoencoderParity(
        data.name,
        tuple(ours["auc"]), tuple(theirs["auc"]), tuple(ours["caught"]), tuple(theirs["caught"]),
        tuple(ours["seconds"]), tuple(theirs["seconds"]),
        tuple(int(e) for e in ours["epochs"]), tuple(int(e) for e in theirs["epochs"]),
    )  # fmt: skip


_SCALE_CHILD = """
import json, resource, sys, time
import numpy as np
from shopwatch_model.autoencoder_fit import fit_autoencoder_run
from shopwatch_model.forest_fit import fit_isolation_forest
def peak_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
X = np.load(sys.argv[1])
loaded = peak_kb()
started = time.perf_counter()
epochs = 0
if sys.argv[2] == "forest":
    fit_isolation_forest(X, trees=int(sys.argv[3]), contamination=float(sys.argv[4]), seed=0)
else:
    scale = X.std(axis=0)
    epochs = fit_autoencoder_run((X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0), seed=0).epochs
seconds = time.perf_counter() - started
print(json.dumps({"seconds": seconds, "peak_kb": peak_kb(), "loaded_kb": loaded, "epochs": epochs}))
"""


def scale(X: np.ndarray, rows: int = SCALE_ROWS, seed: int = 0, model: str = "forest") -> ScaleResult:
    """The numpy fit of `model` ("forest" or "autoencoder") on `rows` rows resampled from X, in a child holding numpy and the model layer only.

    The child is started by a shell that forks it: Linux keeps the RSS high-water mark across exec, so a
    python exec'd straight from this process (which holds scikit-learn and the data sets) would report this
    process's peak as its own; the shell's fork starts the count afresh from the shell's few MB.
    """
    big = X[np.random.default_rng(seed).integers(len(X), size=rows)]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "rows.npy"
        np.save(path, big)
        command = [sys.executable, "-c", _SCALE_CHILD, str(path), model, str(TREES), str(CONTAMINATION)]
        done = subprocess.run(
            ["/bin/sh", "-c", '"$@"; exit $?', "sh", *command], capture_output=True, text=True, check=True
        )
    figures = json.loads(done.stdout)
    return ScaleResult(rows, X.shape[1], figures["seconds"], figures["peak_kb"] / 1024, figures["loaded_kb"] / 1024,
                       model, figures["epochs"])  # fmt: skip


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


def autoencoder_table(results: list[AutoencoderParity]) -> Table:
    seeds = len(results[0].numpy_auc) if results else 0
    table = Table(title=f"Autoencoder (8, 3, 8) tanh, numpy fit vs scikit-learn MLPRegressor ({seeds} seeds: "
                        f"mean ± sd; caught = positives above the {AUTOENCODER_PERCENTILE:g}th percentile error)")  # fmt: skip
    for column in ("target", "ROC AUC numpy", "ROC AUC scikit-learn", "difference", "caught numpy",
                   "caught scikit-learn", "epochs numpy", "epochs scikit-learn", "fit s numpy",
                   "fit s scikit-learn"):  # fmt: skip
        table.add_column(column, justify="left" if column == "target" else "right")
    for r in results:
        table.add_row(r.name, _mean_sd(r.numpy_auc), _mean_sd(r.sklearn_auc), f"{r.difference:+.4f}",
                      _mean_sd(r.numpy_caught, 3), _mean_sd(r.sklearn_caught, 3),
                      _mean_sd(tuple(float(e) for e in r.numpy_epochs), 0),
                      _mean_sd(tuple(float(e) for e in r.sklearn_epochs), 0),
                      _mean_sd(r.numpy_seconds, 1), _mean_sd(r.sklearn_seconds, 1))  # fmt: skip
    return table


def verdict_lines(results: list[ParityResult]) -> list[str]:
    return [
        f"{'PASS' if r.passed else 'FAIL'} forest {r.name}: |AUC difference| {abs(r.difference):.4f} "
        f"{'<=' if r.passed else '>'} {MAX_DIFFERENCE}"
        for r in results
    ]


def autoencoder_lines(results: list[AutoencoderParity]) -> list[str]:
    """The same bar, with the standard error beside it (not gated by --check: at 5 seeds the seeds' spread
    alone is about the size of the bar)."""
    return [
        f"{'PASS' if r.passed else 'FAIL'} autoencoder {r.name}: |AUC difference| {abs(r.difference):.4f} "
        f"{'<=' if r.passed else '>'} {MAX_DIFFERENCE} (standard error of the difference over "
        f"{len(r.numpy_auc)} seeds {r.standard_error:.4f}; not gated)"
        for r in results
    ]


def scale_line(result: ScaleResult) -> str:
    what = (f"{TREES} trees, offset over every row" if result.model == "forest"
            else f"{result.epochs} epochs, every row")  # fmt: skip
    return (f"numpy {result.model} fit on {result.rows:,} rows x {result.features} features ({what}): "
            f"{result.fit_seconds:.1f} s, peak RSS {result.peak_rss_mb:.0f} MB "
            f"({result.loaded_rss_mb:.0f} MB before fitting: interpreter, numpy, the rows)")  # fmt: skip


@dataclass(frozen=True)
class Report:
    forest: list[ParityResult]
    autoencoder: list[AutoencoderParity]
    at_scale: list[ScaleResult]
    skipped: list[str]

    def passed(self) -> bool:
        """The forest's targets (the autoencoder's lines are reported, not gated)."""
        return all(r.passed for r in self.forest)


def run(
    *,
    fraud_file: Path = FRAUD_DATA,
    retail_file: Path = RETAIL,
    seeds: int = 5,
    months: int = 6,
    scale_rows: int = SCALE_ROWS,
    autoencoder: bool = True,
) -> Report:
    """Parity per target for the forest (and the autoencoder), the numpy fits at scale, what was skipped."""
    sets, skipped = [], []
    for name, path, load in (
        ("Fraud_Data", fraud_file, fraud_data_set),
        ("Online Retail", retail_file, lambda p: retail_set(p, months)),
    ):
        if path.exists():
            sets.append(load(path))
        else:
            skipped.append(f"{name} skipped: {path} is not here (it lives in ../shared beside the clone)")
    forest = [compare(data, seeds) for data in sets]
    networks = [compare_autoencoder(data, seeds) for data in sets] if autoencoder else []
    retail = sets[-1] if retail_file.exists() else None
    at_scale = []
    if retail is not None and scale_rows:
        at_scale = [scale(retail.X, scale_rows, model=m) for m in ("forest", "autoencoder")[: 1 + autoencoder]]
    return Report(forest, networks, at_scale, skipped)
