"""The :class:`Dataset` record and deterministic, seeded, stratified splits."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from bioplast.errors import DataError
from bioplast.validate import array, in_range


@dataclass(frozen=True)
class Dataset:
    """A supervised dataset: inputs ``[N, D]`` float32, integer labels ``[N]``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def __post_init__(self):
        for part in ("train", "test"):
            x = array(f"{self.name}.x_{part}", getattr(self, f"x_{part}"), ndim=2, floating=True)
            y = array(f"{self.name}.y_{part}", getattr(self, f"y_{part}"), ndim=1)
            if len(x) != len(y):
                raise DataError(f"{self.name}: x_{part} has {len(x)} rows but y_{part} has {len(y)} labels")
            if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= self.n_classes)):
                raise DataError(f"{self.name}: y_{part} must be integer labels in [0, {self.n_classes}), "
                                f"got dtype {y.dtype} range [{y.min() if y.size else '-'}, "
                                f"{y.max() if y.size else '-'}]")
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise DataError(f"{self.name}: train has {self.x_train.shape[1]} features, test has "
                            f"{self.x_test.shape[1]}")


def stratified_split(x, y, test_fraction: float, seed: int):
    """Split ``(x, y)`` into train/test keeping class proportions; deterministic in ``seed``.

    Each class contributes ``round(test_fraction · n_c)`` test samples chosen
    by a permutation from ``numpy.random.default_rng(seed)``.
    """
    in_range("test_fraction", test_fraction, 0.0, 1.0)
    x = array("x", x, ndim=2)
    y = array("y", y, shape=(len(x),))
    rng = np.random.default_rng(seed)
    test_idx = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        idx = idx[rng.permutation(len(idx))]
        test_idx.append(idx[: int(round(test_fraction * len(idx)))])
    test_mask = np.zeros(len(y), dtype=bool)
    test_mask[np.concatenate(test_idx)] = True
    # shuffle each part so minibatches mix classes
    tr = np.flatnonzero(~test_mask)[rng.permutation(int((~test_mask).sum()))]
    te = np.flatnonzero(test_mask)[rng.permutation(int(test_mask.sum()))]
    return x[tr], y[tr], x[te], y[te]


def one_hot(y, n_classes: int) -> np.ndarray:
    """Integer labels ``[N]`` → float32 one-hot ``[N, n_classes]``."""
    out = np.zeros((len(y), n_classes), dtype=np.float32)
    out[np.arange(len(y)), y] = 1.0
    return out
