"""Counter-based draws: the same numbers on every backend, and the right distributions."""

import numpy as np
import pytest
from scipy import stats

from bioplast.backends import counter_rng as cr
from bioplast.backends import get_backend
from bioplast.backends.base import Backend
from bioplast.backends.numba import device as numba_device

BACKENDS = ("numpy", "numba", "torch")


def test_mix32_is_the_same_function_on_ints_numpy_numba_and_torch():
    import torch

    key = cr.stream_key(11, 3, 2)
    h = cr.bits_numpy(key, 70_001)
    by_int = [cr.mix32(cr.mix32(i + key[0]) ^ key[1]) for i in (0, 1, 2, 70_000)]
    assert list(h[[0, 1, 2, 70_000]]) == by_int
    np.testing.assert_array_equal(numba_device.counter_bits(70_001, np.uint32(key[0]), np.uint32(key[1])), h)
    np.testing.assert_array_equal(cr.bits_torch(torch, key, 70_001, "cpu").numpy(), h.astype(np.int64))
    # a bijection of 32-bit words: no two counters collide
    assert np.unique(cr.bits_numpy((0, 0), 1 << 20)).size == 1 << 20


def test_torch_mixes_the_same_words_in_int32_and_in_int64(monkeypatch):
    """Draws of 2³¹ elements and more mix their words in int64 (the int32 counter would wrap): both
    paths give numpy's words, at keys whose words cross the sign bit."""
    import torch

    for key in ((0xFFFFFFFF, 0x80000000), cr.stream_key(2, 9, 4)):
        expected = cr.bits_numpy(key, 4099).astype(np.int64)
        np.testing.assert_array_equal(cr.bits_torch(torch, key, 4099, "cpu").numpy(), expected)
        monkeypatch.setattr(cr, "INT32_COUNTERS", 1000)  # this draw now takes the int64 path
        np.testing.assert_array_equal(cr.bits_torch(torch, key, 4099, "cpu").numpy(), expected)
        monkeypatch.undo()


def test_normal_draws_are_the_normal_quantile_of_their_uniform():
    """Against scipy's ndtri (independent): Acklam's rational is good to 1.2e-9 relative in float64."""
    h = cr.bits_numpy(cr.stream_key(1, 2, 3), 400_000)
    p = ((h >> 9).astype(np.float64) + 0.5) / 2**23
    exact = stats.norm.ppf(p)
    z64 = cr.normal_from_bits(np, h, "float64")
    # Acklam's bound 1.15e-9 (relative, in exact arithmetic) plus float64 rounding, far below 2e-9
    assert np.max(np.abs(z64 - exact) / np.maximum(np.abs(exact), 1e-3)) < 2e-9
    z32 = cr.normal_from_bits(np, h, "float32")
    # float32 rounding of |z| < 5.34 (half an ulp at 4 ≤ |z| < 8: 2⁻²² = 2.4e-7) plus Acklam's 1.2e-9·5.34
    assert z32.dtype == np.float32 and np.max(np.abs(z32 - exact)) < 5e-7
    assert np.abs(z64).max() < 5.34  # p is never 0 or 1: truncation at ±5.33σ
    # distribution (a fixed key, so this is a deterministic check): KS, mean, variance, kurtosis
    assert stats.kstest(z64, "norm").pvalue > 0.01
    n = z64.size
    assert abs(z64.mean()) < 4 / np.sqrt(n) and abs(z64.var() - 1) < 4 * np.sqrt(2 / n)
    assert abs(stats.kurtosis(z64)) < 4 * np.sqrt(24 / n)


def test_uniform_draws_are_24_bit_and_unbiased():
    u = cr.uniform_from_bits(np, cr.bits_numpy(cr.stream_key(5, 0, 2), 1 << 20), "float32")
    assert u.min() >= 0 and u.max() < 1
    assert np.all(u * 2**24 == np.round(u * 2**24))
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert stats.kstest(u, "uniform").pvalue > 0.01


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_backend_draws_the_same_numbers(dtype):
    """Bit for bit: every draw is built from integer hashing and IEEE operations only (the central
    rational, and in the tails :func:`~bioplast.backends.counter_rng.portable_log` and
    :func:`~bioplast.backends.counter_rng.tail_sqrt` instead of each library's own log and sqrt), and
    IEEE ``+ − × ÷`` are correctly rounded in numpy, numba and torch alike."""
    key = cr.stream_key(3, 4, 5)
    normals = {b: get_backend(b, dtype=dtype).counter_normal(key, (300, 101)) for b in BACKENDS}
    uniforms = {b: get_backend(b, dtype=dtype).counter_uniform(key, (7, 9)) for b in BACKENDS}
    k = get_backend("torch", dtype=dtype)
    generic = k.to_numpy(Backend.counter_normal(k, key, (300, 101)))  # torch ops: the CUDA path, run on CPU
    tails = (cr.bits_numpy(key, 300 * 101) >> 9 < cr.TAIL_LOW).sum()
    assert tails > 300  # the draw exercises the tails (5 % of 30,300)
    for b in BACKENDS:
        np.testing.assert_array_equal(get_backend(b).to_numpy(normals[b]), normals["numpy"], err_msg=b)
        np.testing.assert_array_equal(get_backend(b).to_numpy(uniforms[b]), uniforms["numpy"], err_msg=b)
        assert str(get_backend(b).to_numpy(normals[b]).dtype) == dtype
    np.testing.assert_array_equal(generic, normals["numpy"])


def test_the_portable_log_and_tail_sqrt_are_accurate():
    """``portable_log`` is about 30 rounded operations (frexp and the mantissa doubling are exact):
    its error is at most ``γ₃₀ (|e ln 2| + |log m|)`` plus the series' truncation (< 10⁻¹⁷), and numpy's
    own log is within LIBM_ULPS ulp of the truth.  ``tail_sqrt``'s Newton iterate has converged
    (truncation < 10⁻²⁰); its last step's three roundings leave it within ``γ₃`` of ``√y``."""
    from bioplast.testing import libm_disagreement, worst_case

    p = np.concatenate([np.geomspace(1e-300, 0.999, 20_001), (np.arange(cr.TAIL_LOW) + 0.5) / 2**23])
    got, ref = cr.portable_log(np, p), np.log(p)
    _, e = np.frexp(p)
    bound = worst_case("float64", 30) * (np.abs(e) * cr.LN2 + 0.35) + libm_disagreement("float64") * np.abs(ref) + 1e-17
    assert np.all(np.abs(got - ref) <= bound)
    y = np.linspace(-2 * np.log(cr.TAIL_LOW / 2**23), -2 * np.log(0.5 / 2**23), 50_001)
    np.testing.assert_array_less(np.abs(cr.tail_sqrt(y) - np.sqrt(y)), worst_case("float64", 3) * np.sqrt(y) + 1e-20)


def test_streams_of_different_steps_salts_and_seeds_are_uncorrelated():
    k = get_backend("numpy", dtype="float64")
    n = 200_000
    base = k.counter_normal(cr.stream_key(7, 0, 1), n)
    for other in [(7, 1, 1), (7, 0, 2), (8, 0, 1), (7, 1 << 33, 1)]:
        r = np.corrcoef(base, k.counter_normal(cr.stream_key(*other), n))[0, 1]
        assert abs(r) < 4 / np.sqrt(n), (other, r)
    # element pairs across many draws: element i of step s against element j of step s
    draws = np.array([k.counter_uniform(cr.stream_key(7, s, 2), 64) for s in range(3000)])
    c = np.corrcoef(draws.T)
    np.fill_diagonal(c, 0)
    assert np.abs(c).max() < 5 / np.sqrt(3000)


def test_draws_larger_than_the_counter_are_refused():
    with pytest.raises(ValueError, match="2\\*\\*32"):
        cr.bits_numpy((0, 0), 2**32 + 1)


def test_the_keys_of_a_run_of_steps_are_the_scalar_keys():
    """The vectorised key derivation (the fused spiking engine's per-step read-noise keys) equals
    :func:`stream_key` step by step, across the 32-bit boundary of seeds and steps."""
    steps = np.array([0, 1, 5, 2**32 - 1, 2**32, 2**40 + 7, 123456789012], dtype=np.uint64)
    for seed, salt in ((0, 0), (2**33 + 5, 64), (997, 17), (2**63 + 3, 65)):
        k0, k1 = cr.stream_keys(seed, steps, salt)
        assert k0.dtype == k1.dtype == np.uint32
        assert [(int(a), int(b)) for a, b in zip(k0, k1, strict=True)] == [
            cr.stream_key(seed, int(s), salt) for s in steps
        ]
