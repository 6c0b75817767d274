"""Isolation Forest training with numpy alone (Liu, Ting & Zhou 2008, as scikit-learn 1.x fits it).

Why: TrainFunction retrains a shop's model inside a zip Lambda whose layer holds numpy but not scikit-learn
(scikit-learn with scipy does not fit next to our code in 250 MB unzipped). The result is the very
`IsolationForestScorer` that `from_sklearn` builds, so DetectFunction scores it unchanged.

What scikit-learn does, and so this does:
- each tree sees psi rows drawn without replacement (`max_samples`: "auto" = min(256, n), an int, or a
  share of n), and grows to the height limit ceil(log2(max(psi, 2)));
- X is cast to float32 before fitting (`IsolationForest.fit` validates with dtype=float32) and the scorer
  casts to float32 before walking, so node ranges, thresholds and the fit-time routing are all taken on the
  float32 values: a row goes where it went while the tree grew;
- a node is a leaf at the height limit or with fewer than 2 samples; otherwise one feature is drawn
  uniformly among the features NOT constant in the node (ExtraTreeRegressor(max_features=1,
  splitter="random"): its Fisher-Yates draw skips features found constant, max - min <= 1e-7 or all
  missing, and draws again until it meets a non-constant one); if every feature is constant (duplicate
  rows) the node is a leaf holding them all, and their c(n) counts in its path length;
- the threshold is uniform in [min, max) of that feature in the node (a draw equal to max becomes min),
  rows <= threshold go left;
- missing values (NaN) as scikit-learn >= 1.4 trains them: left out of min/max, all sent one way drawn at
  random, and the split rejected (the node a leaf) when that leaves a side empty; a node that saw none
  sends a missing value at scoring time to its larger child;
- offset: -0.5 for contamination "auto", otherwise the 100 * contamination percentile of the training
  rows' scores (numpy's linear interpolation, as scikit-learn's np.percentile).

The random draws come from numpy's Generator, not scikit-learn's rand_r, so a given seed grows other
trees than scikit-learn's; the parity benchmark (`shopwatch benchmark model-parity`) and the unit tests
compare the resulting detection (ROC AUC over seeds), not tree by tree.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass

import numpy as np

from shopwatch_model.isolation_forest import LEAF, IsolationForestScorer, average_path_length

FEATURE_THRESHOLD = 1e-7  # scikit-learn's: a feature whose range in a node is at most this is constant there
TREE_UNDEFINED = -2.0  # scikit-learn's threshold of a leaf
AUTO_SAMPLES = 256
SCORE_CHUNK_ELEMENTS = 4_000_000  # trees x rows walked at once while scoring the training rows (~300 MB peak)


@dataclass
class _Tree:
    """One tree as growing lists, in node-id order (a child is always added after its parent)."""

    left: list[int]
    right: list[int]
    feature: list[int]
    threshold: list[float]
    missing_left: list[bool]
    samples: list[int]
    depth: list[int]  # nodes from the root, the root counting 1

    @classmethod
    def empty(cls) -> _Tree:
        return cls([], [], [], [], [], [], [])

    def add(self, samples: int, depth: int) -> int:
        self.left.append(LEAF)
        self.right.append(LEAF)
        self.feature.append(0)
        self.threshold.append(TREE_UNDEFINED)
        self.missing_left.append(False)
        self.samples.append(samples)
        self.depth.append(depth)
        return len(self.left) - 1


def _subsample_size(max_samples: int | float | str, n_rows: int) -> int:
    """psi, as `IsolationForest.fit` resolves max_samples."""
    if max_samples == "auto":
        return min(AUTO_SAMPLES, n_rows)
    if isinstance(max_samples, bool) or not isinstance(max_samples, int | float):
        raise ValueError(f"max_samples must be 'auto', an int or a float in (0, 1], got {max_samples!r}")
    if isinstance(max_samples, int):
        if max_samples < 1:
            raise ValueError(f"max_samples must be at least 1, got {max_samples}")
        if max_samples > n_rows:
            warnings.warn(
                f"max_samples ({max_samples}) is greater than the rows ({n_rows}): using {n_rows}",
                stacklevel=3,
            )
            return n_rows
        return max_samples
    if not 0.0 < max_samples <= 1.0:
        raise ValueError(f"a float max_samples must be in (0, 1], got {max_samples}")
    return max(1, int(max_samples * n_rows))


def _check_contamination(contamination: float | str) -> None:
    if contamination == "auto":
        return
    if isinstance(contamination, bool) or not isinstance(contamination, int | float):
        raise ValueError(f"contamination must be 'auto' or a float in (0, 0.5], got {contamination!r}")
    if not 0.0 < contamination <= 0.5:
        raise ValueError(f"contamination must be in (0, 0.5], got {contamination}")


def _split(values: np.ndarray, rng: np.random.Generator) -> tuple[int, float, bool, np.ndarray] | None:
    """The node's split, or None for a leaf: (feature, threshold, missing goes left, rows going left).

    `values` are the node's rows (float32 values held as float64). Features are drawn without replacement
    until one is not constant, as scikit-learn's RandomSplitter does; its draws of features it already knew
    (from the parent) to be constant only cost it draws, so the feature taken is uniform among the node's
    non-constant features either way.
    """
    missing = np.isnan(values)
    n_missing = missing.sum(axis=0)
    any_missing = bool(n_missing.any())
    if any_missing:
        low = np.where(missing, np.inf, values).min(axis=0)
        high = np.where(missing, -np.inf, values).max(axis=0)
        all_missing = n_missing == len(values)
        constant = all_missing | ((high <= low + FEATURE_THRESHOLD) & (n_missing == 0))
    else:
        low, high = values.min(axis=0), values.max(axis=0)
        constant = high <= low + FEATURE_THRESHOLD
    candidates = np.flatnonzero(~constant)
    if len(candidates) == 0:
        return None
    feature = int(candidates[rng.integers(len(candidates))])
    lo, hi = float(low[feature]), float(high[feature])
    threshold = lo + (hi - lo) * float(rng.random())
    has_missing = bool(n_missing[feature])
    missing_left = bool(rng.integers(2)) if has_missing else False
    if threshold == hi:
        threshold = lo
    column = values[:, feature]
    go_left = column <= threshold
    if has_missing:
        go_left = np.where(np.isnan(column), missing_left, go_left)
    n_left = int(go_left.sum())
    n_right = len(column) - n_left
    if n_left < 1 or n_right < 1:  # only with missing values: all of the node on one side, no split
        return None
    if not has_missing:
        missing_left = n_left > n_right
    return feature, threshold, missing_left, go_left


def _grow(X: np.ndarray, max_depth: int, rng: np.random.Generator) -> _Tree:
    """One tree on its subsample X, depth first (left subtree before right), as scikit-learn numbers it."""
    tree = _Tree.empty()
    root = tree.add(len(X), 1)
    stack = [(root, np.arange(len(X)), 0)]  # (node, its rows, edges from the root)
    while stack:
        node, rows, height = stack.pop()
        if height >= max_depth or len(rows) < 2:
            continue
        split = _split(X[rows], rng)
        if split is None:
            continue
        feature, threshold, missing_left, go_left = split
        tree.feature[node], tree.threshold[node], tree.missing_left[node] = feature, threshold, missing_left
        left_rows, right_rows = rows[go_left], rows[~go_left]
        tree.left[node] = tree.add(len(left_rows), height + 2)
        tree.right[node] = tree.add(len(right_rows), height + 2)
        stack.append((tree.right[node], right_rows, height + 1))
        stack.append((tree.left[node], left_rows, height + 1))
    return tree


def _as_scorer(trees: list[_Tree], max_samples: int, n_features: int) -> IsolationForestScorer:
    """The trees in the scorer's padded (trees, nodes) arrays, padded as `from_sklearn` pads."""
    width = max(len(t.left) for t in trees)
    shape = (len(trees), width)
    left = np.full(shape, LEAF, dtype=np.int64)
    right = np.full(shape, LEAF, dtype=np.int64)
    feature = np.zeros(shape, dtype=np.int64)
    threshold = np.zeros(shape, dtype=np.float64)
    missing_left = np.zeros(shape, dtype=bool)
    leaf_length = np.zeros(shape, dtype=np.float64)
    node_depth = np.zeros(shape, dtype=np.float64)
    samples = np.ones(shape, dtype=np.float64)
    for t, tree in enumerate(trees):
        n = len(tree.left)
        left[t, :n], right[t, :n] = tree.left, tree.right
        feature[t, :n], threshold[t, :n], missing_left[t, :n] = tree.feature, tree.threshold, tree.missing_left
        node_depth[t, :n] = tree.depth
        samples[t, :n] = tree.samples
        leaf_length[t, :n] = node_depth[t, :n] + average_path_length(samples[t, :n]) - 1.0
    return IsolationForestScorer(
        left=left,
        right=right,
        feature=feature,
        threshold=threshold,
        missing_left=missing_left,
        leaf_length=leaf_length,
        node_depth=node_depth,
        samples=samples,
        max_samples=max_samples,
        offset=-0.5,
        n_features=n_features,
    )


def chunked_scores(forest: IsolationForestScorer, X: np.ndarray) -> np.ndarray:
    """`forest.score_samples(X)` a slice of rows at a time: the scorer walks trees x rows at once, several
    8-byte buffers of that size, which for 200 trees and 300,000 rows would be ~3 GB a buffer."""
    chunk = max(1, SCORE_CHUNK_ELEMENTS // forest.n_trees)
    return np.concatenate(
        [forest.score_samples(X[start : start + chunk]) for start in range(0, len(X), chunk)] or [np.empty(0)]
    )


def fit_isolation_forest(
    X: np.ndarray,
    *,
    trees: int = 200,
    max_samples: int | float | str = "auto",
    contamination: float | str = 0.01,
    seed: int = 0,
) -> IsolationForestScorer:
    """Fit an Isolation Forest on X (rows x features) as `sklearn.ensemble.IsolationForest(n_estimators=trees,
    max_samples=..., contamination=..., random_state=seed).fit(X)` would, without scikit-learn.

    The same seed gives the same forest. Infinite values are refused (scikit-learn refuses them too); NaN
    is trained as scikit-learn trains it (see the module docstring).
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"expected a non-empty 2-D matrix of rows x features, got shape {X.shape}")
    if np.isinf(X).any():
        raise ValueError("X holds infinite values; an Isolation Forest cannot split on them")
    if trees < 1:
        raise ValueError(f"trees must be at least 1, got {trees}")
    _check_contamination(contamination)
    psi = _subsample_size(max_samples, X.shape[0])
    max_depth = math.ceil(math.log2(max(psi, 2)))
    X32 = X.astype(np.float32).astype(np.float64)  # what the scorer will compare, so routing agrees
    rng = np.random.default_rng(seed)
    grown = []
    for _ in range(trees):
        rows = rng.choice(X.shape[0], size=psi, replace=False)
        grown.append(_grow(X32[rows], max_depth, rng))
    forest = _as_scorer(grown, psi, X.shape[1])
    if isinstance(contamination, str):  # "auto", the only text _check_contamination lets through
        return forest
    offset = float(np.percentile(chunked_scores(forest, X), 100.0 * contamination))
    return dataclasses.replace(forest, offset=offset)
