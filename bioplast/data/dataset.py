"""The :class:`Dataset` record and deterministic, seeded, stratified splits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from bioplast.errors import DataError
from bioplast.validate import array, in_range


@dataclass(frozen=True)
class Dataset:
    """A supervised dataset: inputs ``[N, D]`` float32, integer labels ``[N]`` in ``[0, n_classes)``;
    ``shape``, when known, is one sample's shape before flattening (``(channels, height, width)`` for
    images), with ``prod(shape) = D``."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    shape: tuple | None = None

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    def fingerprint(self) -> str:
        """A SHA-256 of the arrays and labels: two datasets with the same fingerprint are the same data
        (a checkpoint records it, so a run never resumes on other data of the same name)."""
        h = hashlib.sha256()
        for a in (self.x_train, self.y_train, self.x_test, self.y_test):
            a = np.ascontiguousarray(a)
            h.update(f"{a.dtype}{a.shape}".encode())
            h.update(a.tobytes())
        return h.hexdigest()

    def __post_init__(self):
        for part in ("train", "test"):
            x = array(f"{self.name}.x_{part}", getattr(self, f"x_{part}"), ndim=2, floating=True)
            y = array(f"{self.name}.y_{part}", getattr(self, f"y_{part}"), ndim=1)
            if len(x) != len(y):
                raise DataError(f"{self.name}: x_{part} has {len(x)} rows but y_{part} has {len(y)} labels")
            if not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= self.n_classes)):
                raise DataError(
                    f"{self.name}: y_{part} must be integer labels in [0, {self.n_classes}), "
                    f"got dtype {y.dtype} range [{y.min() if y.size else '-'}, "
                    f"{y.max() if y.size else '-'}]"
                )
        if self.x_train.shape[1] != self.x_test.shape[1]:
            raise DataError(f"{self.name}: train has {self.x_train.shape[1]} features, test has {self.x_test.shape[1]}")
        if self.shape is not None and int(np.prod(self.shape)) != self.x_train.shape[1]:
            raise DataError(
                f"{self.name}: sample shape {tuple(self.shape)} holds {int(np.prod(self.shape))} values "
                f"but the samples have {self.x_train.shape[1]} features"
            )


def stratified_split(x, y, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def class_count(y_train, y_test, source: str, declared: int | None = None) -> int:
    """The number of classes of integer labels: ``declared``, or ``max + 1`` where every class
    ``0 … max`` appears among the training labels — so one stray label (a 255 among digits) is an
    error naming it, not a silent 256-class task."""
    labels = np.concatenate([np.asarray(y_train).ravel(), np.asarray(y_test).ravel()])
    if labels.size == 0:
        raise DataError(f"{source}: no labels")
    if not np.issubdtype(labels.dtype, np.integer):
        if not np.all(np.isfinite(labels)) or not np.all(labels == np.round(labels)):
            raise DataError(
                f"{source}: labels must be integers, got {labels.dtype} values such as "
                f"{labels[~(labels == np.round(labels))][:3].tolist() or labels[:3].tolist()}"
            )
    if labels.min() < 0:
        raise DataError(f"{source}: labels must be >= 0, found {int(labels.min())}")
    top = int(labels.max())
    if declared is not None:
        if top >= declared:
            raise DataError(f"{source}: label {top} is out of range for {declared} classes")
        return int(declared)
    present = np.unique(np.asarray(y_train).astype(np.int64))
    missing = sorted(set(range(top + 1)) - set(present.tolist()))
    if missing:
        raise DataError(
            f"{source}: label {top} makes {top + 1} classes but classes {missing[:10]}"
            f"{' …' if len(missing) > 10 else ''} never appear in the training labels "
            "(a stray label, or give the number of classes explicitly)"
        )
    return top + 1
