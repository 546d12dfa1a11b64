"""Checks used at public boundaries: shapes, dtypes, ranges, finiteness.

Each check raises :class:`~bioplast.errors.ConfigError` (parameters) or
:class:`~bioplast.errors.DataError` (arrays) with a message that names the
value and what was expected.  They run once per call at the boundary, never
inside hot loops.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from bioplast.errors import ConfigError, DataError


def positive(name: str, value, *, allow_zero: bool = False) -> float:
    """Return ``value`` as float after checking it is finite and > 0 (or >= 0)."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be a finite number {bound}, got {value!r}")
    return v


def positive_int(name: str, value, *, allow_zero: bool = False, maximum: int | None = None) -> int:
    """Return ``value`` as int after checking it is an integer > 0 (or >= 0) and, with ``maximum``,
    at most that (a bound on work: a typo of a few zeros must not run for days)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ConfigError(f"{name} must be an integer {bound}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} = {value} is more than the {maximum:,} this setting allows")
    return int(value)


def in_range(name: str, value, lo: float, hi: float) -> float:
    """Return ``value`` as float after checking ``lo <= value <= hi``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number in [{lo}, {hi}], got {value!r}") from None
    if not (lo <= v <= hi):
        raise ConfigError(f"{name} must be in [{lo}, {hi}], got {value!r}")
    return v


def _shape_text(shape: Sequence) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"


def array(
    name: str, x, *, ndim: int | None = None, shape: Sequence | None = None, finite: bool = True, floating: bool = False
) -> np.ndarray:
    """Check a host array (or anything numpy can read) and return it as ndarray.

    ``shape`` may contain ``None`` for free dimensions.  Torch tensors are
    checked without a copy to the host by :func:`tensor_like`.
    """
    try:
        a = np.asarray(x)
    except Exception as exc:  # noqa: BLE001 - any conversion failure is a data error
        raise DataError(f"{name} must be array-like, got {type(x).__name__}: {exc}") from None
    if a.dtype == object:
        raise DataError(f"{name} must be a numeric array, got dtype object")
    expect = len(shape) if shape is not None else ndim
    if expect is not None and a.ndim != expect:
        want = _shape_text(shape) if shape is not None else f"{expect}-D"
        raise DataError(f"{name} must have shape {want}, got shape {a.shape}")
    if shape is not None:
        for got, want in zip(a.shape, shape, strict=True):
            if want is not None and got != want:
                raise DataError(f"{name} must have shape {_shape_text(shape)}, got shape {a.shape}")
    if floating and not np.issubdtype(a.dtype, np.floating):
        raise DataError(f"{name} must have a floating dtype, got {a.dtype}")
    if finite and np.issubdtype(a.dtype, np.number) and a.size and not np.isfinite(a).all():
        bad = int(np.size(a) - np.isfinite(a).sum())
        raise DataError(f"{name} must be finite, found {bad} non-finite value(s)")
    return a


def tensor_like(name: str, x, *, ndim: int | None = None, shape: Sequence | None = None, finite: bool = True):
    """Like :func:`array` but accepts backend arrays (numpy or torch) unchanged."""
    if type(x).__module__.startswith("torch"):
        import torch

        expect = len(shape) if shape is not None else ndim
        if expect is not None and x.dim() != expect:
            want = _shape_text(shape) if shape is not None else f"{expect}-D"
            raise DataError(f"{name} must have shape {want}, got shape {tuple(x.shape)}")
        if shape is not None:
            for got, want in zip(x.shape, shape, strict=True):
                if want is not None and got != want:
                    raise DataError(f"{name} must have shape {_shape_text(shape)}, got shape {tuple(x.shape)}")
        if finite and x.is_floating_point() and not bool(torch.isfinite(x).all()):
            raise DataError(f"{name} must be finite, found non-finite value(s)")
        return x
    return array(name, x, ndim=ndim, shape=shape, finite=finite)
