"""Isolation Forest scoring with numpy alone: scikit-learn's `score_samples`, without scikit-learn.

scikit-learn with scipy does not fit in a Lambda layer next to our code (250 MB unzipped) and imports in
about a second, so training happens off Lambda and DetectFunction scores with this: the fitted trees as
padded arrays (one row per tree), walked for every tree and every row at once, one level per step.

Exactness: scikit-learn casts X to float32 before walking its trees, sends NaN where the node learned to
send missing values, and scores a row as 2^(-mean path length / c(max_samples)), where a leaf's path length
is the nodes on its path plus c(samples in the leaf) - 1. The same steps here give the same numbers to ~1e-15.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

EULER_GAMMA = 0.5772156649015329
LEAF = -1


def average_path_length(n_samples: np.ndarray | float) -> np.ndarray:
    """c(n): the mean path length of an unsuccessful search in a binary search tree of n points."""
    n = np.asarray(n_samples, dtype=np.float64)
    out = np.zeros_like(n)
    out[n == 2] = 1.0
    big = n > 2
    out[big] = 2.0 * (np.log(n[big] - 1.0) + EULER_GAMMA) - 2.0 * (n[big] - 1.0) / n[big]
    return out


def _node_depths(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Nodes on the path from the root, the root counting 1 (as scikit-learn's `compute_node_depths`)."""
    depths = np.ones(len(left), dtype=np.float64)
    for node in range(len(left)):  # children always come after their parent
        if left[node] != LEAF:
            depths[left[node]] = depths[right[node]] = depths[node] + 1
    return depths


@dataclass(frozen=True)
class _FlatForest:
    """All trees in one set of 1-D arrays, addressed by slot: node i of the forest (ids offset per tree) owns
    slots 2i (its right child) and 2i + 1 (its left child), and every per-node array holds its value at both.
    A walk keeps the even slot of the node it is at, so the next slot is `slot + go_left`, with no multiply.
    Leaves are their own children, so a walk of max_depth steps needs no test for having arrived."""

    roots: np.ndarray  # the even slot of each tree's root
    children: np.ndarray  # the even slot of the child taken from a slot
    child_leaf_length: np.ndarray  # leaf_length of the child taken from a slot (the walk's last step)
    child_log_samples: np.ndarray  # log_samples of the child taken from a slot
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    leaf_length: np.ndarray
    log_samples: np.ndarray
    root_feature: np.ndarray  # per tree: the feature and threshold of its root, for the walk's first level
    root_threshold: np.ndarray
    max_depth: int
    path_norm: float  # trees × c(max_samples): the mean path length of the forest's average row

    @classmethod
    def of(cls, forest: IsolationForestScorer) -> _FlatForest:
        trees, width = forest.left.shape
        roots = np.arange(trees, dtype=np.intp) * width
        ids = roots[:, None] + np.arange(width, dtype=np.intp)[None, :]
        leaf = forest.left == LEAF
        left = np.where(leaf, ids, forest.left + roots[:, None])
        right = np.where(leaf, ids, forest.right + roots[:, None])

        def per_slot(values: np.ndarray) -> np.ndarray:
            return np.repeat(values.ravel(), 2)

        children = 2 * np.stack([right.ravel(), left.ravel()], axis=1).ravel().astype(np.intp)
        feature, threshold = (
            per_slot(forest.feature).astype(np.intp),
            per_slot(np.where(leaf, np.inf, forest.threshold)),
        )
        leaf_length, log_samples = per_slot(forest.leaf_length), per_slot(np.log(forest.samples))
        return cls(
            roots=2 * roots,
            children=children,
            child_leaf_length=leaf_length[children],
            child_log_samples=log_samples[children],
            feature=feature,
            threshold=threshold,
            root_feature=feature[2 * roots],
            root_threshold=threshold[2 * roots],
            missing_left=per_slot(forest.missing_left),
            leaf_length=leaf_length,
            log_samples=log_samples,
            max_depth=int(forest.node_depth.max()) - 1,
            path_norm=trees * float(average_path_length(np.array([forest.max_samples]))[0]),
        )


@dataclass(frozen=True)
class IsolationForestScorer:
    """A fitted Isolation Forest as arrays, shape (trees, nodes) padded with leaves.

    `feature` holds the column of X a node splits on (already mapped through the tree's feature subset);
    `node_depth` counts the nodes from the root (root = 1); `leaf_length` holds, for leaves, that depth
    + c(samples in the leaf) - 1, scikit-learn's path length of a row ending there.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    missing_left: np.ndarray
    leaf_length: np.ndarray
    node_depth: np.ndarray
    samples: np.ndarray
    max_samples: int
    offset: float
    n_features: int

    @classmethod
    def from_sklearn(cls, forest: Any) -> IsolationForestScorer:
        """Read a fitted `sklearn.ensemble.IsolationForest`'s arrays (this module never imports sklearn)."""
        trees = [estimator.tree_ for estimator in forest.estimators_]
        width = max(tree.node_count for tree in trees)
        shape = (len(trees), width)
        left = np.full(shape, LEAF, dtype=np.int64)
        right = np.full(shape, LEAF, dtype=np.int64)
        feature = np.zeros(shape, dtype=np.int64)
        threshold = np.zeros(shape, dtype=np.float64)
        missing_left = np.zeros(shape, dtype=bool)
        leaf_length = np.zeros(shape, dtype=np.float64)
        node_depth = np.zeros(shape, dtype=np.float64)
        samples = np.ones(shape, dtype=np.float64)
        for t, (tree, columns) in enumerate(zip(trees, forest.estimators_features_, strict=True)):
            n = tree.node_count
            left[t, :n], right[t, :n] = tree.children_left, tree.children_right
            internal = tree.children_left != LEAF
            feature[t, :n] = np.where(internal, np.asarray(columns)[np.where(internal, tree.feature, 0)], 0)
            threshold[t, :n] = tree.threshold
            missing = getattr(tree, "missing_go_to_left", None)
            if missing is not None:
                missing_left[t, :n] = np.asarray(missing, dtype=bool)
            depth = _node_depths(tree.children_left, tree.children_right)
            node_depth[t, :n] = depth
            samples[t, :n] = tree.n_node_samples
            leaf_length[t, :n] = depth + average_path_length(tree.n_node_samples) - 1.0
        return cls(
            left=left,
            right=right,
            feature=feature,
            threshold=threshold,
            missing_left=missing_left,
            leaf_length=leaf_length,
            node_depth=node_depth,
            samples=samples,
            max_samples=int(forest.max_samples_),
            offset=float(forest.offset_),
            n_features=int(forest.n_features_in_),
        )

    @property
    def n_trees(self) -> int:
        return self.left.shape[0]

    @functools.cached_property
    def _flat(self) -> _FlatForest:
        return _FlatForest.of(self)

    @functools.cached_property
    def _layouts(self) -> dict[int, tuple[np.ndarray, np.ndarray]]:
        return {}

    def _layout(self, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
        """Per element of a walk of `n_rows` rows (tree-major): where its row starts in X.ravel(), and the slot
        of its tree's root. Read-only and the same for every batch of that size, so built once (a few sizes
        kept: a stream's batches come in few sizes)."""
        if n_rows in self._layouts:
            return self._layouts[n_rows]
        row_base = np.tile(np.arange(n_rows, dtype=np.intp) * self.n_features, self.n_trees)
        starts = np.repeat(self._flat.roots, n_rows)
        row_base.flags.writeable = starts.flags.writeable = False
        if len(self._layouts) >= 8:
            self._layouts.clear()
        self._layouts[n_rows] = (row_base, starts)
        return row_base, starts

    def _walk(self, X: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every tree and row walked at once, one level per step, on flat arrays (slots global across trees,
        leaves their own children): yields (node, taken) per level, each of shape (trees * rows,): the slot of
        the node each element is at and the slot it leaves by (`children[taken]` is where it arrives).

        The yielded arrays are buffers reused by the next step: read them before asking for the next level.
        `np.take` into preallocated buffers (mode="clip": every slot is in range by construction) spares the
        allocation and bounds checks of fancy indexing, a fifth of the time at batch 100; the child of the
        last level is left to the caller, who usually wants only something of it (`child_leaf_length`).
        """
        X = self._check(X)
        flat = self._flat
        n_rows = X.shape[0]
        values = X.ravel()
        size = self.n_trees * n_rows
        row_base, starts = self._layout(n_rows)
        node, child = starts.copy(), np.empty(size, dtype=np.intp)
        index, value, threshold = np.empty(size, dtype=np.intp), np.empty(size), np.empty(size)
        go_left = np.empty(size, dtype=bool)
        has_nan = bool(np.isnan(values).any())
        for level in range(flat.max_depth):
            if level:
                np.take(flat.children, index, out=child, mode="clip")
                node, child = child, node
                np.take(flat.feature, node, out=index, mode="clip")
                index += row_base
                np.take(values, index, out=value, mode="clip")
                np.take(flat.threshold, node, out=threshold, mode="clip")
                np.less_equal(value, threshold, out=go_left)
            else:  # every row at its tree's root: one split per tree, compared by broadcasting
                value.reshape(self.n_trees, n_rows)[:] = X[:, flat.root_feature].T
                np.less_equal(
                    value.reshape(self.n_trees, n_rows),
                    flat.root_threshold[:, None],
                    out=go_left.reshape(self.n_trees, n_rows),
                )
            if has_nan:
                go_left = np.where(np.isnan(value), flat.missing_left[node], go_left)
            np.add(node, go_left, out=index)
            yield node, index

    def _leaf_values(self, X: np.ndarray, of_child: np.ndarray, of_node: np.ndarray) -> np.ndarray:
        """`of_node` at the leaf each row reaches in each tree, shape (trees * rows,), a fresh array;
        `of_child` is the same per-slot value of the child a slot leads to."""
        taken = None
        for _, last in self._walk(X):
            taken = last
        if taken is None:  # single-node trees: every row stays at its root
            return np.take(of_node, self._layout(np.asarray(X).shape[0])[1])
        return np.take(of_child, taken, mode="clip")

    def leaves(self, X: np.ndarray) -> np.ndarray:
        """The leaf each row reaches in each tree (node id within its tree), shape (trees, rows)."""
        n_rows = np.asarray(X).shape[0]
        flat = self._flat
        slots = self._leaf_values(X, flat.children, np.arange(len(flat.children), dtype=np.intp))
        return (slots.reshape(self.n_trees, n_rows) - flat.roots[:, None]) // 2

    def score_samples(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's `IsolationForest.score_samples`: the lower, the more abnormal (-1 .. 0)."""
        n_rows = np.asarray(X).shape[0]
        flat = self._flat
        depths = self._leaf_values(X, flat.child_leaf_length, flat.leaf_length).reshape(self.n_trees, n_rows)
        if flat.path_norm == 0:
            return -np.ones(n_rows)
        return -(2.0 ** (-depths.sum(axis=0) / flat.path_norm))

    def decision_function(self, X: np.ndarray) -> np.ndarray:
        """scikit-learn's `decision_function`: negative for outliers."""
        return self.score_samples(X) - self.offset

    def feature_contributions(self, X: np.ndarray) -> np.ndarray:
        """Per row and feature, the share of the row's isolation due to the feature, shape (rows, features).

        A path takes a row from all the tree's training samples to the few in its leaf; each split on the way
        removes ln(samples at the node / samples in the child taken). Crediting that to the split's feature
        decomposes the isolation exactly: an outlier's few splits on its odd feature remove nearly everything,
        an ordinary row's many splits each remove about half. Rows sum to 1. A reading aid, not the score.
        """
        n_rows = np.asarray(X).shape[0]
        credit = np.zeros((n_rows, self.n_features))
        rows = np.tile(np.arange(n_rows), self.n_trees)
        flat = self._flat
        for node, taken in self._walk(X):  # at a leaf the child is the node, so nothing is credited
            removed = flat.log_samples[node] - flat.child_log_samples[taken]
            np.add.at(credit, (rows, flat.feature[node]), removed)
        totals = credit.sum(axis=1, keepdims=True)
        return np.divide(credit, totals, out=np.zeros_like(credit), where=totals > 0)

    def _check(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected rows of {self.n_features} features, got shape {X.shape}")
        # scikit-learn compares float32 copies of X with float64 thresholds
        return X.astype(np.float32).astype(np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "left": self.left,
            "right": self.right,
            "feature": self.feature,
            "threshold": self.threshold,
            "missing_left": self.missing_left,
            "leaf_length": self.leaf_length,
            "node_depth": self.node_depth,
            "samples": self.samples,
        }

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> IsolationForestScorer:
        return cls(
            **{k: np.asarray(arrays[k]) for k in cls.__dataclass_fields__ if k in arrays},
            max_samples=int(meta["max_samples"]),
            offset=float(meta["offset"]),
            n_features=int(meta["n_features"]),
        )

    def meta(self) -> dict[str, Any]:
        return {"max_samples": self.max_samples, "offset": self.offset, "n_features": self.n_features}
