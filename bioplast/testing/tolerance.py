"""Tolerances tied to dtype, and the one comparison helper the tests use.

A kernel that reduces over ``n`` terms (a dot product, a batch mean) in
precision ε accumulates a rounding error whose typical size grows like
``√n · ε`` (Higham, *Accuracy and Stability of Numerical Algorithms*,
§3.1; random-walk model of rounding).  Two correct implementations that
sum in different orders (BLAS blocking, SIMD lanes, GPU trees) therefore
differ by a few ``√n · ε`` relative to the magnitude of the terms.  We allow
``rtol = 8 · √n · ε`` — a factor 8 above the random-walk estimate, far
below any real bug (which shows up at ≥ 1e-3 relative) — and an absolute
floor ``atol = rtol · scale`` where ``scale`` is the magnitude of the
summands, so that entries which cancel to ~0 are judged against the size
of what was summed, not against themselves.
"""
from __future__ import annotations

import math

import numpy as np

EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}


def tolerance(dtype, reduction: int = 1) -> float:
    """Relative tolerance for a result of ``dtype`` reduced over ``reduction`` terms."""
    name = np.dtype(str(dtype).replace("torch.", "")).name
    return 8.0 * math.sqrt(max(int(reduction), 1)) * EPS[name]


def to_host(x) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(actual, expected, *, dtype="float64", reduction: int = 1, scale: float | None = None,
                 what: str = "value") -> None:
    """Assert ``|actual − expected| <= rtol·|expected| + rtol·scale`` elementwise.

    ``rtol`` comes from :func:`tolerance`; ``scale`` defaults to
    ``max|expected|`` (the size of the result), pass the size of the
    summands for kernels whose outputs can cancel.
    """
    a, e = to_host(actual).astype(np.float64), to_host(expected).astype(np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    rtol = tolerance(dtype, reduction)
    scale = float(np.max(np.abs(e))) if scale is None and e.size else (scale or 0.0)
    err = np.abs(a - e)
    bound = rtol * np.abs(e) + rtol * scale
    if not np.all(err <= bound):
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(f"{what}: max violation at {i}: got {a[i]!r}, expected {e[i]!r} "
                             f"(|diff| {err[i]:.3e} > bound {bound[i]:.3e}; rtol {rtol:.2e}, dtype {dtype}, "
                             f"reduction {reduction})")
