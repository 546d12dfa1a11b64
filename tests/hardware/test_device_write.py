"""The fused device write: one pass, the same numbers as the stages one by one."""

from dataclasses import replace

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.core import chain_init, chain_update
from bioplast.hardware import device_transforms, get_substrate, program
from bioplast.hardware.bounds import clip_bounds
from bioplast.hardware.fusion import fused_write
from bioplast.hardware.transforms import quantize, write_noise

PROFILES = {
    "loihi2-like": get_substrate("loihi2-like"),
    "pcm-crossbar": get_substrate("pcm-crossbar"),
    "reram-crossbar": get_substrate("reram-crossbar"),
    "brainscales2-like": get_substrate("brainscales2-like"),
    "pcm-differential": get_substrate("pcm-differential"),
    "exponential": replace(get_substrate("pcm-crossbar"), name="exp", bounds="exponential", step_nonlinearity=2.0),
    "noisy-fixed-point": replace(get_substrate("fixed-point"), name="fp", write_noise=0.2, down=0.7, d2d=0.1),
}


def _update(t: int) -> np.ndarray:
    """The update proposed at write ``t`` (host float64)."""
    return np.random.default_rng(t).normal(0, 0.05, (37, 53))


def _train(k, profile, steps=3, seed=3, generic=False):
    """Weights after ``steps`` random updates through the profile's chain (``generic``: the backend's
    fused kernel switched off, so every stage runs as its own array operations)."""
    if generic:
        k.can_device_write = lambda *a, **kw: False  # instance attribute: this backend object only
    w = program(k, profile, k.asarray(np.random.default_rng(1).uniform(-1, 1, (37, 53))), seed)
    chain = device_transforms(profile, seed)
    states, out = chain_init(k, chain, w), []
    for t in range(steps):
        u = k.asarray(_update(t))
        d, states = chain_update(k, chain, u, states, w)
        w = w + d
        out.append(k.to_numpy(w))
    return np.array(out)


Z_MAX = 5.34  # counter-based normal draws are truncated at |ξ| < 5.34 (p = ½/2²³ at the far tail)


def _exponential_steps_bound(profile, u_max: float, steps: int, dtype: str) -> float:
    r"""How far two correct runs of exponential-step writes can drift apart when each evaluates
    ``exp`` with its own library (numba: glibc's libm; numpy: its SIMD kernels; torch: SLEEF) and
    every other operation is the same IEEE operation in the same order.

    One write is ``x = u · a · g · e^{−γz} · (1 + σξ)`` (``a`` = up/down, ``g`` the device gain,
    ``z = (w − lo)/span``), then ``w ← fl(fl(clip(w + x) − w) + w)``.  With ``X`` the largest ``|x|``
    (``g ≤ 1 + σ_d2d Z``, ``|ξ| ≤ Z``, ``e^{−γz} ≤ 1``) and ``δ_t`` the runs' weight difference before
    write ``t`` (``δ_0 = 0``: programming calls no ``exp``):

    * the two ``exp`` differ by ``libm_disagreement`` (2·LIBM_ULPS ulp) relative, and by
      ``γ δ_t/span`` more through ``z`` (``|∂ e^{−γz}/∂w| = γ e^{−γz}/span``; doubled as a margin for
      the exponential's curvature over ``δ``);
    * the four products after it round differently inputs that differ: ≤ 1 ulp each, ``4ε|x|``;
    * the three sums and differences that land the weight round by ≤ ``ε (W + X)`` each
      (clip is monotone and 1-Lipschitz, so it adds nothing).

    ``δ_{t+1} ≤ δ_t (1 + 2γX/span) + (libm + 4ε) X + 3ε (W + X)``, iterated ``steps`` times."""
    from bioplast.testing import eps, libm_disagreement

    e = eps(dtype)
    x_max = u_max * max(profile.up, profile.down) * (1 + profile.d2d * Z_MAX) * (1 + profile.write_noise * Z_MAX)
    lo, hi = profile.weight_range
    span, w_max = hi - lo, max(abs(lo), abs(hi))
    growth = 1 + 2 * profile.step_nonlinearity * x_max / span
    per_write = (libm_disagreement(dtype) + 4 * e) * x_max + 3 * e * (w_max + x_max)
    delta = 0.0
    for _ in range(steps):
        delta = delta * growth + per_write
    return delta


@pytest.mark.parametrize("name", sorted(PROFILES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fused_write_equals_the_staged_write_on_every_backend(name, dtype):
    """numpy runs the stages; numba (and torch on CPU) runs the fused kernel; torch with the kernel off
    runs the stages as torch ops (the CUDA path).  Every stage is the same IEEE operations in the same
    order on every path, and the random draws are the same bits (counter-based, IEEE operations only),
    so the weights are equal bit for bit — except where a stage calls ``exp`` (exponential steps), which
    each library implements its own way: there the runs agree within
    :func:`_exponential_steps_bound`, derived from the ulp budget of a library ``exp``."""
    profile = PROFILES[name]
    steps = 3
    ref = _train(get_backend("numpy", dtype=dtype), profile, steps)
    runs = {
        "numba": _train(get_backend("numba", dtype=dtype), profile, steps),
        "torch": _train(get_backend("torch", dtype=dtype), profile, steps),
        "torch-staged": _train(get_backend("torch", dtype=dtype), profile, steps, generic=True),
    }
    if profile.bounds != "exponential":
        for label, got in runs.items():
            np.testing.assert_array_equal(got, ref, err_msg=label)
        return
    u_max = max(np.abs(_update(t)).max() for t in range(steps))
    bound = _exponential_steps_bound(profile, u_max, steps, dtype)
    assert bound < 1e-3 * u_max  # far below a real defect, which would move weights by ≥ 0.1 % of an update
    for label, got in runs.items():
        worst = np.abs(got - ref).max()
        assert worst <= bound, (label, worst, bound)


def test_profiles_fuse_their_elementwise_stages_in_write_order():
    names = {
        n: [t.name.split("(")[0] for t in device_transforms(get_substrate(n))]
        for n in ("loihi2-like", "pcm-crossbar", "pcm-differential", "fixed-point", "ideal")
    }
    assert names["loihi2-like"] == ["device_write"]
    assert names["pcm-crossbar"] == ["device_write"]
    assert names["pcm-differential"] == ["device_gain", "differential_pair", "device_write"]
    assert names["fixed-point"] == ["quantize"]  # a lone stage stays itself (fused STDP engines know it)
    assert names["ideal"] == []
    stages = device_transforms(get_substrate("pcm-crossbar"))[0].spec.stages
    assert [t.kind for t in stages] == ["device_gain", "soft_bounds", "write_noise", "clip_bounds"]


def test_the_fused_state_is_the_stages_state():
    """A fused write advances its stages' draw counters exactly as the stages do, so a checkpoint of
    either resumes the other; two successive writes draw different numbers."""
    k = get_backend("numba", dtype="float64")
    stages = (write_noise(0.3, seed=4), quantize(5, -1.0, 1.0, "stochastic", seed=4))
    fused = (fused_write(stages),)
    w = k.zeros((20, 30))
    u = k.asarray(np.full((20, 30), 0.01))
    s_stages, s_fused = chain_init(k, stages, w), chain_init(k, fused, w)
    for _ in range(2):
        a, s_stages = chain_update(k, stages, u, s_stages, w)
        b, s_fused = chain_update(k, fused, u, s_fused, w)
        np.testing.assert_array_equal(a, b)
    assert s_fused == (s_stages,)
    first, _ = chain_update(k, fused, u, chain_init(k, fused, w), w)
    assert not np.array_equal(first, b)


def test_fused_write_handles_bias_vectors_like_one_row():
    k = get_backend("numba", dtype="float32")
    fused = (fused_write((write_noise(0.3, seed=2), clip_bounds(-1.0, 1.0))),)
    w, u = k.zeros(17), k.asarray(np.full(17, 0.1))
    got, _ = chain_update(k, fused, u, chain_init(k, fused, w), w)
    staged = (write_noise(0.3, seed=2), clip_bounds(-1.0, 1.0))
    ref, _ = chain_update(
        get_backend("numpy", dtype="float32"),
        staged,
        u,
        chain_init(get_backend("numpy", dtype="float32"), staged, w),
        w,
    )
    assert got.shape == (17,)
    np.testing.assert_array_equal(got, ref)
