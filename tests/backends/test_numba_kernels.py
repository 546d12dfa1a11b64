"""The numba backend's own arithmetic (what the fused relaxation relies on)."""
import numpy as np

from bioplast.backends import numba_kernels as nk


def test_exp32_is_within_5_ulp_over_the_float32_range():
    x = np.linspace(-87, 88, 1_000_001).astype(np.float32)
    out = np.empty_like(x)
    nk.exp32(x, out)
    ref = np.exp(x.astype(np.float64))
    ulps = np.abs(out - ref) / ref / 2.0 ** -24
    assert ulps.max() <= 5.5, ulps.max()  # measured 5.07: Horner rounding in float32


def test_exp32_saturates_and_keeps_nan():
    x = np.array([-1e4, 1e4, np.nan, 0.0], dtype=np.float32)
    out = np.empty_like(x)
    nk.exp32(x, out)
    assert 0 < out[0] < 1e-37 and np.isfinite(out[1]) and out[1] > 1e38
    assert np.isnan(out[2]) and out[3] == 1.0


def test_fused_activations_match_numpy_to_a_few_ulp():
    from bioplast.dynamics.activations import activation

    x = np.linspace(-30, 30, 200_001).astype(np.float32)
    for name, code in nk.ACT_CODES.items():
        h = x.copy()
        nk._activate(h, code)
        ref = activation(name)(np, x.astype(np.float64))
        err = np.abs(h - ref) / np.maximum(np.abs(ref), 2.0 ** -24)
        # ≤ 5 ulp from exp32, plus the float32 rounding of the argument itself:
        # for σ(4(x − ½)) at x ≈ −3.7 the argument 2 − 4x ≈ 16.6 carries 16·2⁻²⁴ ≈ 1e-6
        assert err.max() < 2e-6, (name, err.max())  # measured 1.1e-6 (sigmoid4), 1.9e-7 (tanh)
