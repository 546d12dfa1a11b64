"""Property-based tests over the contract: any rule composed with any geometry.

For random rules from the registry, random chains of geometry transforms,
random shapes and random finite inputs within the documented range (|x| ≤ 2,
learning rates ≤ 0.05 — the exponential geometries compute e^{ηd}, and a
cubic rule such as BCM at |x| = 10 gives ηd in the tens, where EG± overflows
as the geometry concepts page documents):
shapes and dtypes are kept, inputs are not mutated, sign-constrained
geometries keep every sign, results are finite and the same seed gives the
same result.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bioplast import ConfigError, get_backend, plasticity
from bioplast.geometry import adam, additive, dale, eg_pm, exponentiated, masked, mirror_descent, sign_frozen
from bioplast.hardware import device_gain, quantize, soft_bounds, write_noise
from bioplast.rules import RULES, get_rule
from bioplast.testing import worst_case
from bioplast.testing.conformance import signals_for

SIGN_KEEPING = ("exponentiated", "dale", "sign_frozen")


@st.composite
def setups(draw):
    n_post, n_pre, batch = draw(st.integers(1, 7)), draw(st.integers(1, 9)), draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    signs = np.where(rng.random(n_pre) < 0.3, -1.0, 1.0)
    w = np.abs(rng.standard_normal((n_post, n_pre))) * signs + 1e-3 * signs  # non-zero, column signs
    lr = draw(st.floats(1e-4, 0.05))
    choices = {
        "additive": lambda: additive(lr),
        "adam": lambda: adam(lr),
        "exponentiated": lambda: exponentiated(lr),
        "mirror": lambda: mirror_descent(lr, draw(st.floats(1.2, 3.0))),
        "eg_pm": lambda: eg_pm(lr),
        "dale": lambda: dale(signs),
        "sign_frozen": lambda: sign_frozen(),
        "masked": lambda: masked((rng.random((n_post, n_pre)) < 0.7) * 1.0),
        # substrate transforms (bioplast.hardware)
        "quantize": lambda: quantize(6, -3.0, 3.0, draw(st.sampled_from(["nearest", "stochastic"])), seed),
        "soft_bounds": lambda: soft_bounds(-5.0, 5.0),
        "write_noise": lambda: write_noise(0.2, seed),
        "device_gain": lambda: device_gain(up=1.0, down=0.6, d2d=0.1, seed=seed),
    }
    names = draw(st.lists(st.sampled_from(sorted(choices)), min_size=1, max_size=3))
    if "eg_pm" in names:  # EG± owns the weights it moves: it must be the last transform
        names = [n for n in names if n != "eg_pm"] + ["eg_pm"]
    scale = draw(st.floats(0.0, 2.0))
    signals = {
        "pre": rng.uniform(-scale, scale, (batch, n_pre)),
        "post": rng.uniform(-scale, scale, (batch, n_post)),
        "mod": rng.uniform(-scale, scale, (batch, n_post)),
        "w": w,
    }
    return draw(st.sampled_from(sorted(RULES))), names, [choices[n]() for n in names], signals, signs


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,  # deterministic in CI
    suppress_health_check=[HealthCheck.too_slow],
)
@given(setups(), st.sampled_from(["numpy", "numba", "torch"]))
def test_any_rule_with_any_geometry_keeps_the_contract(setup, backend):
    rule_name, names, transforms, host, signs = setup
    k = get_backend(backend, dtype="float64")
    arrays = {n: k.asarray(v) for n, v in host.items()}
    before = {n: k.to_numpy(v).copy() for n, v in arrays.items()}
    learn = plasticity(get_rule(rule_name), *transforms)

    def run():
        w, state = arrays["w"], learn.init(k, arrays["w"])
        for _ in range(3):
            w, state = learn.step(k, signals_for(learn.rule, arrays), state, w)
        return k.to_numpy(w)

    w = run()
    assert w.shape == host["w"].shape and str(w.dtype) == "float64"
    assert all(np.array_equal(k.to_numpy(v), before[n]) for n, v in arrays.items())  # inputs untouched
    assert np.isfinite(w).all(), (rule_name, names)
    if names[-1] in SIGN_KEEPING:  # a chain that ends in a sign-keeping transform flips no weight
        assert ((np.sign(w) == np.sign(host["w"])) | (w == 0)).all(), (rule_name, names)
    if names[-1] == "quantize":  # a chain that ends on the device's weight format leaves weights on its grid
        step = 6.0 / 63
        levels = w / step  # the range holds 0, so the grid is anchored there: levels n·step, |n| ≤ 31
        # quantize returns fl(n·step) − w and the step adds it back: w is within u(|n·step| + 2|w|)
        # of n·step, |w| ≤ 3, and the division here rounds once more (|levels| ≤ 32): γ₄ covers both
        off = worst_case("float64", 4) * (3 * 3 / step + 32)
        assert np.abs(levels - np.round(levels)).max() <= off
        assert w.min() >= -3 - off * step and w.max() <= 3 + off * step
    np.testing.assert_array_equal(run(), w)  # deterministic


def test_an_allocation_that_cannot_fit_is_refused_before_it_is_made(monkeypatch):
    from bioplast import resources
    from bioplast.training import TrainConfig, train

    monkeypatch.setattr(resources, "available_memory", lambda: 64 * 2**20)  # pretend 64 MiB are free
    with pytest.raises(
        ConfigError,
        match=r"a 64-20000-10 network with batch 32 \(float32\) needs about "
        r"[0-9.]+ GiB but only 0.06 GiB is available",
    ):
        train(TrainConfig(rule="backprop", hidden=(20000,)), progress=False)
