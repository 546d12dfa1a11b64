"""The numba backend's own arithmetic (what the fused relaxation relies on).

Error bounds, in units of the float32 unit roundoff u = 2⁻²⁴ (relative), derived from the kernels
in :mod:`bioplast.backends.numba.kernels`: exp32 reduces ``x = k ln2 + r`` (Cody–Waite, |r| ≤ ln2/2),
evaluates e^r − 1 by a degree-7 Taylor polynomial and scales by 2^k exactly.  Its error is the
polynomial's Horner rounding γ₁₄·Σ|aᵢ||r|ⁱ (Higham, eq. 5.3; fewer roundings with FMA, any order
of evaluation stays within it), the rounded coefficients 1/i! (i ≥ 3), the truncation
|r|⁸/8!·e^{|r|}, the rounding of 1 + p(r), and the reduction's error in r, u(|r| + 2·127·|ln2_lo|).
"""

import math

import numpy as np

from bioplast.backends.numba import kernels as nk
from bioplast.testing import worst_case

U = 2.0**-24
R = math.log(2) / 2 * (1 + 256 * U)  # |r| after the reduction (the rounded x·log₂e may pick k off by a hair)


def _exp32_bound():
    """Relative error of exp32, in units of u (≈ 10.8)."""
    e = math.exp(R)
    absolute = (
        worst_case("float32", 14) * (e - 1) + U * (e - 1 - R - R * R / 2) + R**8 / math.factorial(8) * e + U * e
    )  # for e^r ∈ [e^{−R}, e^R]
    return (absolute / math.exp(-R) + U * (R + 2 * 127 * abs(float(nk._LN2_LO)))) / U


def _activation_bounds():
    """Relative error of the fused activations against float64, in units of u (measured against
    max(|ρ|, 2⁻²⁴), as the test does).  identity, relu, hard_sigmoid: exact (no rounding).
    sigmoid 1/(1 + e^{−x}): exp32's error scaled by e/(1 + e) ≤ 1, the sum and the reciprocal: +2.
    sigmoid4 1/(1 + e^{2 − 4x}): the argument 2 − 4x rounds (u|z| absolutely), which matters up to
    |z| = ln 2²⁴ (beyond it ρ < 2⁻²⁴ and the error counts against 2⁻²⁴, shrinking like z e^{−z}).
    tanh = −sign(x) a/(2 + a), a = e^{−2|x|} − 1: by the series where |z| < ln2/2 (relative error
    (γ₁₄ + u)·e^{|z|} + |z|⁷/8!·e^{2|z|}, times 2/(2 + a) ≤ 1.17 in t), else exp32 − 1 (exp32's
    error, absolute (1 + a)·E, over |a| ≥ 1 − e^{−ln2/2}: times 2(1 + a)/((2 + a)|a|) ≤ 2.83 in t,
    and the subtraction's u times 2/(2 + a)); plus 3 for 2 + a and the division (which the kernels'
    fastmath 'arcp' may split into a reciprocal and a product).  The float64
    reference's own error (a few ulp of float64) is negligible."""
    exp32, s = _exp32_bound(), float(nk._SMALL)
    a = -(1 - math.exp(-s))  # the smallest |a| where the exp32 branch is used
    series = ((worst_case("float32", 14) + U) * math.exp(s) + s**7 / math.factorial(8) * math.exp(2 * s)) / U
    tanh = max(series * 2 / (2 + a), exp32 * 2 * (1 + a) / ((2 + a) * abs(a)) + 2 / (2 + a)) + 3
    return {
        "identity": 0.0,
        "relu": 0.0,
        "hard_sigmoid": 0.0,
        "sigmoid": exp32 + 2,
        "sigmoid4": math.log(2.0**24) + exp32 + 2,
        "tanh": tanh,
    }


def test_exp32_is_within_its_error_bound_over_the_float32_range():
    x = np.linspace(-87, 88.72, 1_000_001).astype(np.float32)  # up to log(FLT_MAX) ≈ 88.7228
    out = np.empty_like(x)
    nk.exp32(x, out)
    ref = np.exp(x.astype(np.float64))
    ulps = np.abs(out - ref) / ref / U
    assert ulps.max() <= _exp32_bound(), (ulps.max(), _exp32_bound())


def test_exp32_overflows_like_libm_and_keeps_nan():
    x = np.array([-1e4, 1e4, 88.8, 89.5, np.nan, 0.0], dtype=np.float32)
    out = np.empty_like(x)
    nk.exp32(x, out)
    # below −87 clamped (e^{−87} ≈ 1.6e-38, a normal float32); above log(FLT_MAX) ≈ 88.72 inf, as numpy's
    assert 0 < out[0] < 1e-37
    assert np.isinf(out[1:4]).all() and (out[1:4] > 0).all()
    assert np.isnan(out[4]) and out[5] == 1.0


def test_fused_activations_match_numpy_within_their_error_bounds():
    from bioplast.dynamics.activations import activation

    bounds = _activation_bounds()
    assert set(bounds) == set(nk.ACT_CODES)
    assert bounds["tanh"] / 2 <= 18  # in ε₃₂ = 2u: the NUMBA_TANH_ULPS the EP cross-backend tests budget
    x = np.linspace(-30, 30, 200_001).astype(np.float32)
    for name, code in nk.ACT_CODES.items():
        h = x.copy()
        nk._activate(h, code)
        ref = activation(name)(np, x.astype(np.float64))
        err = np.abs(h - ref) / np.maximum(np.abs(ref), U) / U
        assert err.max() <= bounds[name], (name, err.max(), bounds[name])
