"""`make bench`, model section: the numpy scorer against scikit-learn, side by side in one run.

1. score_samples on the same fitted forest at batch sizes 1, 100 and 1000 (best of several repeats);
2. a fresh interpreter's time to import the model package and load the artifact, against importing
   scikit-learn and unpickling the same forest (what a Lambda cold start would pay);
3. training time on the full Online Retail data (skipped when ../shared is absent).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.table import Table
from shopwatch_model import IsolationForestScorer, ModelArtifact
from sklearn.ensemble import IsolationForest

from infra.template import ROOT

RETAIL = ROOT.parent / "shared" / "data" / "online_retail" / "online_retail.csv.gz"
SPEEDUP_TARGET = 20.0
COLD_TARGET_SECONDS = 0.3
COLD_RATIO_TARGET = 3.0


def _best(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return min(times)


def _fresh_python(code: str, cwd: Path) -> float:
    """Seconds a new interpreter takes to run `code` (its own clock, so start-up of Python itself is out)."""
    timed = f"import time; t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", timed], cwd=cwd, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


# the detect handler imported as Lambda would: its layers on the path, the template's environment
DETECT_HANDLER_IMPORT = """
import os, sys
os.environ.update(STATE_TABLE='state', ALERTS_TABLE='alerts', CASES_TABLE='cases', AWS_DEFAULT_REGION='us-east-1',
                  POWERTOOLS_SERVICE_NAME='shopwatch', MODEL_ARTIFACT='default', MODEL_BUCKET='models')
sys.path[:0] = ['layers/core/python', 'layers/model/python', 'functions/detect']
from shopwatch.storage import models as registry
registry.ModelRegistry.pointers = lambda self: registry.NO_POINTERS  # a registry with no champion: the fallback
import app
assert (app.service.models().champion is None) == (os.environ['MODEL_ARTIFACT'] == 'off')
"""


def scoring_table(features: int = 15, trees: int = 200) -> Table:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, features))
    forest = IsolationForest(n_estimators=trees, random_state=0).fit(X)
    scorer = IsolationForestScorer.from_sklearn(forest)
    table = Table(title=f"Isolation Forest scoring, {trees} trees, {features} features (best of repeats)")
    for column in ("batch", "scikit-learn ms", "numpy scorer ms", "speed-up", "max |difference|"):
        table.add_column(column, justify="right")
    for batch in (1, 100, 1000):
        rows = X[:batch]
        sk = _best(lambda rows=rows: forest.score_samples(rows), 50)
        ours = _best(lambda rows=rows: scorer.score_samples(rows), 50)
        diff = float(np.max(np.abs(scorer.score_samples(rows) - forest.score_samples(rows))))
        table.add_row(str(batch), f"{sk * 1000:.2f}", f"{ours * 1000:.2f}", f"{sk / ours:.1f}x", f"{diff:.1e}")
    table.caption = f"target at batch 100: ≥ {SPEEDUP_TARGET:.0f}x"
    return table


def cold_start_table(features: int = 15, trees: int = 200) -> Table:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, features))
    forest = IsolationForest(n_estimators=trees, random_state=0).fit(X)
    layer = ROOT / "layers" / "model" / "python"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "forest.pkl").write_bytes(pickle.dumps(forest))
        ModelArtifact(
            feature_names=tuple(f"f{i}" for i in range(features)),
            scaler_mean=X.mean(axis=0),
            scaler_scale=X.std(axis=0),
            forest=IsolationForestScorer.from_sklearn(forest),
        ).save(folder / "artifact")
        ours = min(
            _fresh_python(
                "from pathlib import Path\nimport shopwatch_model\n"
                f"shopwatch_model.ModelArtifact.load(Path({str(folder / 'artifact')!r}))",
                layer,
            )
            for _ in range(3)
        )
        theirs = min(
            _fresh_python(
                f"import pickle, sklearn.ensemble\npickle.loads(open({str(folder / 'forest.pkl')!r}, 'rb').read())",
                layer,
            )
            for _ in range(3)
        )
    handler = min(_fresh_python(DETECT_HANDLER_IMPORT, ROOT) for _ in range(3))
    without_model = min(
        _fresh_python(DETECT_HANDLER_IMPORT.replace("MODEL_ARTIFACT='default'", "MODEL_ARTIFACT='off'"), ROOT)
        for _ in range(3)
    )
    table = Table(title="Cold start: a fresh interpreter imports and loads the model (best of 3)")
    for column in ("path", "seconds", "ratio"):
        table.add_column(column, justify="right")
    table.add_row("numpy scorer: import shopwatch_model + load artifact", f"{ours:.3f}", "1.0")
    table.add_row("scikit-learn: import sklearn.ensemble + unpickle forest", f"{theirs:.3f}", f"{theirs / ours:.1f}x")
    table.add_row("DetectFunction handler import, default model loaded", f"{handler:.3f}", "")
    table.add_row("DetectFunction handler import, MODEL_ARTIFACT=off", f"{without_model:.3f}", "")
    table.add_row("  the model's share of the handler's cold start", f"{handler - without_model:.3f}", "")
    table.caption = f"targets: ≤ {COLD_TARGET_SECONDS} s and ≥ {COLD_RATIO_TARGET:.0f}x faster than scikit-learn"
    return table


def evaluation_table() -> Table:
    from infra.training.evaluation import evaluate_on_simulated, simulated_table
    from shopwatch.detection.model_scoring import load_model

    model = load_model("default")
    if model is None:
        raise RuntimeError("load_model('default') returned no model")
    return simulated_table(evaluate_on_simulated(model), model.version)


def training_tables() -> list[Table]:
    """Training time on the full Online Retail data, and seed 001's figures beside ours (none without the data)."""
    if not RETAIL.exists():
        return []
    from infra.training.evaluation import retail_comparison, retail_table
    from infra.training.loading import load_online_retail
    from infra.training.train import TrainingOptions, train

    started = time.perf_counter()
    transactions, report = load_online_retail(RETAIL)
    loaded = time.perf_counter()
    result = train(transactions, TrainingOptions())
    done = time.perf_counter()
    table = Table(title="Training on the full Online Retail data")
    for column in ("rows read", "transactions", "load + clean s", "features + fit s", "total s"):
        table.add_column(column, justify="right")
    table.add_row(
        f"{report.rows_read:,}",
        f"{len(result.transactions):,}",
        f"{loaded - started:.1f}",
        f"{done - loaded:.1f}",
        f"{done - started:.1f}",
    )
    table.caption = "target: under 60 s"
    return [table, retail_table(retail_comparison(result, report.rows_read - sum(report.dropped.values())))]
