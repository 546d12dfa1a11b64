r"""Tolerances derived from the dtype and the operation count, and the one comparison helper.

Three error models, each a bound a test can state in its docstring:

* **Reductions** (:func:`tolerance`): a kernel that sums ``n`` terms (a dot
  product, a batch mean) in precision ε accumulates a rounding error whose
  typical size grows like ``√n · ε`` (Higham, *Accuracy and Stability of
  Numerical Algorithms*, 2nd ed., §3.1 and §2.8: random-walk model of
  rounding).  Two correct implementations that sum in different orders (BLAS
  blocking chosen by the CPU, SIMD lanes, GPU trees) differ by a few
  ``√n · ε`` relative to the magnitude of the terms.  We allow
  ``rtol = 8 · √n · ε`` — a factor 8 above the random-walk estimate, far
  below any real bug (which shows up at ≥ 1e-3 relative) — and an absolute
  floor ``atol = rtol · scale`` where ``scale`` is the magnitude of the
  summands, so that entries which cancel to ~0 are judged against the size
  of what was summed, not against themselves.
* **Chains of elementwise operations** (:func:`worst_case`): ``n`` correctly
  rounded operations (IEEE 754 ``+ − × ÷ √``), each with relative error at
  most the unit roundoff ``u = ε/2``, compound to at most
  ``γ_n = n u / (1 − n u)`` (Higham, Lemma 3.1).  This is a worst case, not
  a typical one: it holds on every machine.
* **Library transcendental functions** (:data:`LIBM_ULPS`): ``exp``, ``log``,
  ``tanh`` … are not required to be correctly rounded (C99 Annex F), and each
  library has its own implementation: glibc's libm (what numba calls), NumPy's
  own SIMD kernels (chosen at run time by the CPU's instruction set), SLEEF
  (PyTorch's CPU kernels), CUDA's libdevice.  All of these are accurate to
  within a few units in the last place; :data:`LIBM_ULPS` budgets 4 ulp per
  call for each library, so two libraries' results for the same argument
  differ by at most ``2 · LIBM_ULPS`` ulp (:func:`libm_disagreement`).

Two results computed by the *same* operations in the *same* order with the
same library function are equal bit for bit on every machine: tests of such
pairs assert equality, not closeness.
"""

from __future__ import annotations

import math

import numpy as np

EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}

# ulp of error budgeted for one call of a library's exp/log/tanh/expm1 (see the module docstring)
LIBM_ULPS = 4


def _name(dtype) -> str:
    return np.dtype(str(dtype).replace("torch.", "")).name


def eps(dtype) -> float:
    """Machine epsilon ε of ``dtype`` (the spacing of floats at 1; the unit roundoff is ε/2)."""
    return EPS[_name(dtype)]


def tolerance(dtype, reduction: int = 1) -> float:
    """Relative tolerance ``8 √n ε`` for a result of ``dtype`` reduced over ``n = reduction`` terms."""
    return 8.0 * math.sqrt(max(int(reduction), 1)) * eps(dtype)


def worst_case(dtype, ops: int) -> float:
    """``γ_n = n u / (1 − n u)``, ``u = ε/2``: the largest relative error of a result of ``n = ops``
    correctly rounded operations in sequence (Higham, Lemma 3.1), on any machine."""
    u = eps(dtype) / 2
    nu = int(ops) * u
    if nu >= 1:
        raise ValueError(f"{ops} operations exhaust the precision of {dtype}: n·u = {nu:g} ≥ 1")
    return nu / (1 - nu)


def libm_disagreement(dtype, calls: int = 1) -> float:
    """Relative difference two libraries' transcendental functions may show for the same argument,
    after ``calls`` calls in sequence: ``2 · LIBM_ULPS · ε`` per call."""
    return 2 * LIBM_ULPS * int(calls) * eps(dtype)


def to_host(x) -> np.ndarray:
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def assert_close(
    actual,
    expected,
    *,
    dtype="float64",
    reduction: int = 1,
    scale: float | None = None,
    what: str = "value",
    rtol: float | None = None,
) -> None:
    """Assert ``|actual − expected| <= rtol·|expected| + rtol·scale`` elementwise.

    ``rtol`` comes from :func:`tolerance` (``dtype``, ``reduction``) unless a derived one is given;
    ``scale`` defaults to ``max|expected|`` (the size of the result), pass the size of the
    summands for kernels whose outputs can cancel.
    """
    a, e = to_host(actual).astype(np.float64), to_host(expected).astype(np.float64)
    if a.shape != e.shape:
        raise AssertionError(f"{what}: shape {a.shape} != expected {e.shape}")
    rtol = tolerance(dtype, reduction) if rtol is None else float(rtol)
    scale = float(np.max(np.abs(e))) if scale is None and e.size else (scale or 0.0)
    err = np.abs(a - e)
    bound = rtol * np.abs(e) + rtol * scale
    if not np.all(err <= bound):
        i = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError(
            f"{what}: max violation at {i}: got {a[i]!r}, expected {e[i]!r} "
            f"(|diff| {err[i]:.3e} > bound {bound[i]:.3e}; rtol {rtol:.2e}, dtype {dtype}, "
            f"reduction {reduction})"
        )
