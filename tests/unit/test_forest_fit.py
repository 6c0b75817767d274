"""The numpy Isolation Forest fit: trees shaped as Liu, Ting & Zhou (2008) and scikit-learn grow them, rows routed
at scoring time exactly where they went while the tree grew, the offset at the contamination percentile, and
detection as good as scikit-learn's IsolationForest on a labelled set."""

from __future__ import annotations

import math

import numpy as np
import pytest
from shopwatch_model import (
    IsolationForestScorer,
    ModelArtifact,
    average_path_length,
    fit_isolation_forest,
    forest_fit,
)
from sklearn.ensemble import IsolationForest

from infra.benchmarks.fraud_data import roc_auc

LEAF = -1


def _mixed(rng: np.random.Generator, rows: int, features: int = 5) -> np.ndarray:
    """Mixed scales, values float32 cannot hold exactly (so float32 routing matters), repeated values, one
    constant column."""
    X = rng.normal(size=(rows, features)) * np.geomspace(0.001, 1e5, features) + 123456.789012345
    X[:, 1] = np.round(X[:, 1], 1)  # many ties
    X[:, -1] = 7.25  # constant: never split on
    return X


def _labelled(seed: int, rows: int = 3000, features: int = 6) -> tuple[np.ndarray, np.ndarray]:
    """Correlated normal rows with 2% outliers: half a little out in every feature (2.5 sd), half inside every
    marginal range but off the correlation of the first two features (only splits on both isolate those)."""
    rng = np.random.default_rng(seed)
    base = rng.normal(size=(rows, 2))
    X = np.column_stack([base[:, 0], base[:, 0] + 0.2 * base[:, 1], *rng.normal(size=(features - 2, rows))])
    y = np.zeros(rows, dtype=int)
    outliers = rng.choice(rows, size=rows // 50, replace=False)
    half = len(outliers) // 2
    X[outliers[:half]] = rng.choice([-2.5, 2.5], size=(half, features)) + rng.normal(0, 0.3, size=(half, features))
    X[outliers[half:], 0] = rng.uniform(-1.5, 1.5, size=len(outliers) - half)
    X[outliers[half:], 1] = -X[outliers[half:], 0]
    y[outliers] = 1
    return X, y


def _reaching(forest: IsolationForestScorer, t: int, X: np.ndarray) -> dict[int, np.ndarray]:
    """The float32 rows of X that reach each node of tree t, by a plain per-node partition."""
    X32 = X.astype(np.float32).astype(np.float64)
    out, stack = {}, [(0, np.arange(len(X)))]
    while stack:
        node, rows = stack.pop()
        out[node] = rows
        if forest.left[t, node] != LEAF:
            values = X32[rows, forest.feature[t, node]]
            go_left = np.where(np.isnan(values), forest.missing_left[t, node], values <= forest.threshold[t, node])
            stack += [(forest.left[t, node], rows[go_left]), (forest.right[t, node], rows[~go_left])]
    return out


def _recursive_score(forest: IsolationForestScorer, row: np.ndarray) -> float:
    """scikit-learn's score of one row, by walking each tree recursively from its root."""
    row32 = row.astype(np.float32).astype(np.float64)

    def path(t: int, node: int, depth: int) -> float:
        if forest.left[t, node] == LEAF:
            return depth + float(average_path_length(np.array([forest.samples[t, node]]))[0]) - 1.0
        value = row32[forest.feature[t, node]]
        left = forest.missing_left[t, node] if np.isnan(value) else value <= forest.threshold[t, node]
        return path(t, forest.left[t, node] if left else forest.right[t, node], depth + 1)

    mean = np.mean([path(t, 0, 1) for t in range(forest.n_trees)])
    return -(2.0 ** (-mean / float(average_path_length(np.array([forest.max_samples]))[0])))


def test_every_tree_holds_its_subsample_within_the_height_limit_children_after_parents():
    rng = np.random.default_rng(3)
    X = _mixed(rng, 5000)
    forest = fit_isolation_forest(X, trees=30, seed=1)
    assert forest.max_samples == 256 and forest.n_features == X.shape[1] and forest.n_trees == 30
    height_limit = math.ceil(math.log2(256))
    for t in range(forest.n_trees):
        internal = np.flatnonzero(forest.left[t] != LEAF)
        nodes = np.union1d(internal, np.concatenate([[0], forest.left[t, internal], forest.right[t, internal]]))
        assert (forest.left[t, internal] > internal).all() and (forest.right[t, internal] > internal).all()
        assert (forest.samples[t, internal] == forest.samples[t, forest.left[t, internal]] + forest.samples[t, forest.right[t, internal]]).all()  # fmt: skip
        assert (forest.node_depth[t, forest.left[t, internal]] == forest.node_depth[t, internal] + 1).all()
        leaves = np.setdiff1d(nodes, internal)
        assert forest.samples[t, leaves].sum() == 256 == forest.samples[t, 0]
        assert forest.node_depth[t, nodes].max() <= height_limit + 1  # root counts 1: at most 8 edges
        assert (forest.feature[t, internal] != X.shape[1] - 1).all()  # the constant column is never split on
        expected = forest.node_depth[t, leaves] + average_path_length(forest.samples[t, leaves]) - 1
        assert np.array_equal(forest.leaf_length[t, leaves], expected)


def test_splits_fall_inside_the_node_range_and_leaves_stop_where_isolation_does():
    """With psi = n every row is in every tree, so the rows reaching a node are exactly its samples."""
    rng = np.random.default_rng(5)
    X = _mixed(rng, 300)
    X[:40] = X[0]  # 40 duplicates: never split apart, and a leaf of only them stops below the height limit
    forest = fit_isolation_forest(X, trees=20, max_samples=len(X), seed=2)
    height_limit = math.ceil(math.log2(len(X)))
    X32 = X.astype(np.float32).astype(np.float64)
    early_duplicate_leaves = 0
    for t in range(forest.n_trees):
        reaching = _reaching(forest, t, X)
        assert any(set(range(40)) <= set(rows) for node, rows in reaching.items() if forest.left[t, node] == LEAF)
        for node, rows in reaching.items():
            assert len(rows) == forest.samples[t, node]
            if forest.left[t, node] != LEAF:
                values = X32[rows, forest.feature[t, node]]
                assert values.min() <= forest.threshold[t, node] < values.max()
                assert values.max() - values.min() > forest_fit.FEATURE_THRESHOLD
            elif len(rows) > 1 and forest.node_depth[t, node] <= height_limit:
                assert (X32[rows] == X32[rows[0]]).all()  # stopped early only because nothing can split it
                early_duplicate_leaves += 1
    assert early_duplicate_leaves > 0


def test_the_scorer_scores_the_fitted_forest_as_a_recursive_walk_does_with_missing_values():
    rng = np.random.default_rng(8)
    X = _mixed(rng, 400, features=4)
    X[rng.random(X.shape) < 0.05] = np.nan
    forest = fit_isolation_forest(X, trees=25, seed=4)
    queries = np.vstack([X[:60], _mixed(rng, 40, features=4)])
    queries[rng.random(queries.shape) < 0.1] = np.nan
    walked = np.array([_recursive_score(forest, row) for row in queries])
    np.testing.assert_allclose(forest.score_samples(queries), walked, rtol=0, atol=1e-12)


def test_rows_are_scored_through_the_leaves_they_were_grown_into():
    """Fit-time routing (float32 values) and score-time routing agree: each leaf gets back its samples."""
    rng = np.random.default_rng(11)
    X = _mixed(rng, 500)
    X[rng.random(X.shape) < 0.03] = np.nan
    forest = fit_isolation_forest(X, trees=15, max_samples=1.0, seed=6)
    leaves = forest.leaves(X)
    for t in range(forest.n_trees):
        counts = np.bincount(leaves[t], minlength=forest.left.shape[1])
        is_leaf = (forest.left[t] == LEAF) & (forest.node_depth[t] > 0)
        assert np.array_equal(counts[is_leaf], forest.samples[t, is_leaf])


def test_the_same_seed_grows_the_same_forest_and_another_seed_another():
    X = _mixed(np.random.default_rng(1), 2000)
    a, b, c = (fit_isolation_forest(X, trees=10, seed=s) for s in (7, 7, 8))
    for name, array in a.arrays().items():
        assert np.array_equal(array, b.arrays()[name], equal_nan=True), name
    assert a.offset == b.offset
    assert a.left.shape != c.left.shape or not np.array_equal(a.threshold, c.threshold)


@pytest.mark.parametrize("contamination", [0.01, 0.1])
def test_the_offset_is_the_contamination_percentile_of_the_training_scores(contamination, monkeypatch):
    monkeypatch.setattr(forest_fit, "SCORE_CHUNK_ELEMENTS", 10 * 700)  # 700 rows at 10 trees: 3 chunks
    X = _mixed(np.random.default_rng(2), 1500)
    forest = fit_isolation_forest(X, trees=10, contamination=contamination, seed=3)
    scores = forest.score_samples(X)
    assert forest.offset == pytest.approx(np.percentile(scores, 100 * contamination), abs=1e-15)
    assert (forest.decision_function(X) < 0).mean() == pytest.approx(contamination, abs=2 / len(X))


def test_contamination_auto_puts_the_offset_at_minus_a_half():
    assert fit_isolation_forest(_mixed(np.random.default_rng(2), 300), trees=5, contamination="auto").offset == -0.5


def test_detection_matches_scikit_learns_isolation_forest_over_five_seeds():
    ours, theirs = [], []
    for seed in range(5):
        X, y = _labelled(seed)
        ours.append(roc_auc(y, -fit_isolation_forest(X, seed=seed).score_samples(X)))
        sklearn = IsolationForest(n_estimators=200, contamination=0.01, random_state=seed).fit(X)
        theirs.append(roc_auc(y, -sklearn.score_samples(X)))
    assert 0.7 < np.mean(theirs) < 0.95  # a set on which an inferior forest would show
    assert abs(np.mean(ours) - np.mean(theirs)) <= 0.01, (ours, theirs)


def test_the_parity_set_tells_a_forest_that_splits_one_feature_from_a_faithful_one(monkeypatch):
    """The parity test can fail: the same fit, made to split only on the first feature, falls well short."""
    split = forest_fit._split

    def first_feature_only(values: np.ndarray, rng: np.random.Generator):
        only_first = values.copy()
        only_first[:, 1:] = 0.0  # every other feature constant: never drawn
        return split(only_first, rng)

    X, y = _labelled(0)
    faithful = roc_auc(y, -fit_isolation_forest(X, seed=0).score_samples(X))
    monkeypatch.setattr(forest_fit, "_split", first_feature_only)
    assert faithful - roc_auc(y, -fit_isolation_forest(X, seed=0).score_samples(X)) > 0.03  # 3x the tolerance


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"contamination": 0.6}, "contamination"),
        ({"contamination": "high"}, "contamination"),
        ({"max_samples": 0}, "max_samples"),
        ({"max_samples": 1.5}, "max_samples"),
        ({"trees": 0}, "trees"),
    ],
)
def test_settings_scikit_learn_refuses_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fit_isolation_forest(np.ones((10, 2)), **kwargs)


def test_infinite_values_and_non_matrices_are_refused():
    X = np.ones((10, 2))
    X[3, 1] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        fit_isolation_forest(X)
    with pytest.raises(ValueError, match="2-D"):
        fit_isolation_forest(np.ones(10))


def test_more_samples_than_rows_warns_and_uses_every_row():
    with pytest.warns(UserWarning, match="greater than the rows"):
        forest = fit_isolation_forest(_mixed(np.random.default_rng(0), 50), trees=3, max_samples=100)
    assert forest.max_samples == 50 and forest.samples[:, 0].tolist() == [50.0] * 3


def test_a_fitted_forest_has_scikit_learns_array_layout_and_round_trips_through_an_artifact(tmp_path):
    X = _mixed(np.random.default_rng(4), 400)
    forest = fit_isolation_forest(X, trees=12, seed=9)
    exported = IsolationForestScorer.from_sklearn(IsolationForest(n_estimators=12, random_state=9).fit(X))
    for name, array in forest.arrays().items():
        assert (array.dtype, array.shape[0]) == (exported.arrays()[name].dtype, 12), name
    artifact = ModelArtifact(
        feature_names=tuple(f"f{i}" for i in range(X.shape[1])),
        scaler_mean=X.mean(axis=0),
        scaler_scale=X.std(axis=0),
        forest=forest,
    )
    artifact.save(tmp_path / "model")
    loaded = ModelArtifact.load(tmp_path / "model").forest
    assert loaded.offset == forest.offset and loaded.max_samples == 256
    np.testing.assert_array_equal(loaded.score_samples(X), forest.score_samples(X))
