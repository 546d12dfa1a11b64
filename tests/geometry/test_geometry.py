"""Geometry transforms against independent implementations."""

import numpy as np
import pytest
import torch

from bioplast import ConfigError, get_backend
from bioplast.geometry import adam, optimizer
from bioplast.testing import LIBM_ULPS, eps, worst_case


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_adam_matches_torch_optim_adam(backend):
    """Directions d = −g through our Adam equal torch.optim.Adam steps on g, step by step.

    Both use Python's b^t and correctly rounded arithmetic, in another order (torch: lerp,
    √v/√(1 − b₂ᵗ); ours: b₁m + (1 − b₁)d, √(v/(1 − b₂ᵗ))).  Each step's ≤ 10 operations compound
    through m and v over t steps: the steps (|Δw| ≤ 2η, Kingma & Ba's bound for 1 − b₁ > √(1 − b₂))
    differ by ≤ γ_{10t}·2η; the additions w + Δw may round apart by ε·|w| per step."""
    k = get_backend(backend, dtype="float64")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 7))
    grads = [rng.standard_normal((5, 7)) * (1 + t) for t in range(12)]
    ref = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adam([ref], lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
    t = adam(3e-3, b1=0.8, b2=0.99, eps=1e-7)
    w = k.asarray(w0)
    state = t.init(k, w)
    bound = 0.0
    for step, g in enumerate(grads, 1):
        ref.grad = torch.tensor(g)
        opt.step()
        u, state = t.update(k, k.asarray(-g), state, w)
        w = k.add(w, u)
        bound += eps("float64") * np.abs(k.to_numpy(w)).max() + worst_case("float64", 10 * step) * 2 * 3e-3
        np.testing.assert_allclose(
            k.to_numpy(w), ref.detach().numpy(), rtol=0, atol=bound, err_msg=f"{backend} adam, step {step}"
        )


def test_optimizer_by_name():
    assert optimizer("sgd", 0.1).name == "additive(0.1)"
    assert optimizer("adam", 0.1).name == "adam(0.1)"
    with pytest.raises(ConfigError, match="unknown optimizer 'adma'; did you mean 'adam'"):
        optimizer("adma", 0.1)
    with pytest.raises(ConfigError, match="lr must be a finite number > 0"):
        adam(-1)


# ---- sign-exact geometries (Dale) ---------------------------------------------------

from bioplast import Local, plasticity  # noqa: E402
from bioplast.geometry import additive, dale, eg_pm, exponentiated, geometry_test, lognormal_signed, mirror_descent  # noqa: E402
from bioplast.geometry.mirror import dual_map  # noqa: E402
from bioplast.rules import delta  # noqa: E402


def _random_walk(k, transform, w, steps, rng, scale=1.0):
    state = transform.init(k, w)
    for _ in range(steps):
        d = k.asarray(rng.standard_normal(tuple(w.shape)) * scale)
        u, state = transform.update(k, d, state, w)
        w = k.add(w, u)
    return w, state


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_ten_thousand_random_steps_flip_no_sign(backend):
    k = get_backend(backend, dtype="float32")
    rng = np.random.default_rng(0)
    signs = np.sign(rng.standard_normal(40))
    w0 = k.asarray(lognormal_signed((30, 40), signs, seed=1))
    w, _ = _random_walk(k, exponentiated(0.05, decay=0.01), w0, 10_000, rng)
    assert (np.sign(k.to_numpy(w)) == np.sign(k.to_numpy(w0))).all()
    w, _ = _random_walk(k, _chain(additive(0.05), dale(signs)), w0, 10_000, rng)
    assert (k.to_numpy(w) * signs[None, :] >= 0).all()  # never the wrong sign (zero is allowed)
    assert (k.to_numpy(w) != 0).any()


def _chain(*transforms):
    from bioplast.core import Transform, chain_init, chain_update

    return Transform(
        lambda k, w: chain_init(k, transforms, w), lambda k, d, s, w: chain_update(k, transforms, d, s, w), "chain"
    )


def test_eg_pm_keeps_both_conductances_positive_and_lets_w_cross_zero():
    k = get_backend("numpy", dtype="float64")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 6)) * 0.1
    w, state = _random_walk(k, eg_pm(0.1), w0, 2000, rng)
    assert (state.u > 0).all() and (state.v > 0).all()
    # each step returns Δw = fl(fl(u − v) − w) and the walk adds it back: w is u − v (computed the
    # same way here) up to those two roundings, afresh every step (u, v never read w): γ₂(|u| + |v|)
    np.testing.assert_allclose(
        state.u - state.v, w, rtol=0, atol=worst_case("float64", 2) * (np.abs(state.u) + np.abs(state.v)).max()
    )
    assert (np.sign(w) != np.sign(w0)).any()


def test_exponentiated_is_abs_w_times_additive_as_lr_vanishes():
    k = get_backend("numpy", dtype="float64")
    rng = np.random.default_rng(0)
    w, d = rng.standard_normal((4, 5)), rng.standard_normal((4, 5))
    for eta in (1e-3, 1e-5):
        u, _ = exponentiated(eta).update(k, d, (), w)
        # Δw/η = w·expm1(x)/η with x = η sign(w) d: |w| d + O(η), the Taylor remainder
        # |expm1(x) − x| ≤ x²/2·e^{|x|} giving ≤ η/2·|w d²|·e^{η|d|}: the error shrinks with η.
        # Rounding: expm1 (LIBM_ULPS ulp) and ≤ 5 correctly rounded operations, relative to |w d|
        trunc = eta / 2 * np.abs(w * d * d).max() * np.exp(eta * np.abs(d).max())
        rounding = (LIBM_ULPS * eps("float64") + worst_case("float64", 5)) * np.abs(w * d).max()
        np.testing.assert_allclose(u / eta, np.abs(w) * d, rtol=0, atol=trunc + rounding)


def test_p2_mirror_descent_is_additive_and_every_p_steps_eta_d_in_the_dual():
    """Rounding: the step maps to the dual (|w|^{p−1}), adds ηd and maps back (|θ|^{1/(p−1)}), and
    the check maps w + Δw to the dual again: three calls of numpy's pow (LIBM_ULPS ulp each, the
    middle one's error scaled by p − 1 when mapped back: (p + 1)·LIBM_ULPS·ε) and ≤ 8 correctly
    rounded operations, relative to the dual values' size |w|^{p−1} + |ηd| (for p = 2 both maps are
    the identity)."""
    k = get_backend("numpy", dtype="float64")
    rng = np.random.default_rng(0)
    w, d = rng.standard_normal((4, 5)), rng.standard_normal((4, 5)) * 0.1

    def atol(p):
        size = (np.abs(dual_map(np, w, p)) + np.abs(0.3 * d)).max()
        return ((p + 1) * LIBM_ULPS * eps("float64") + worst_case("float64", 8)) * size

    np.testing.assert_allclose(mirror_descent(0.3, 2).update(k, d, (), w)[0], 0.3 * d, rtol=0, atol=atol(2))
    for p in (1.5, 3.0):
        u, _ = mirror_descent(0.3, p).update(k, d, (), w)
        np.testing.assert_allclose(dual_map(np, w + u, p) - dual_map(np, w, p), 0.3 * d, rtol=0, atol=atol(p))


def test_sign_geometries_refuse_bad_input():
    k = get_backend("numpy", dtype="float64")
    with pytest.raises(ConfigError, match="1 weight\\(s\\) are exactly zero and could never move"):
        exponentiated(0.1).init(k, np.array([[0.0, 1.0]]))
    with pytest.raises(ConfigError, match="2 initial weight\\(s\\) disagree with their presynaptic neuron's sign"):
        dale([1, -1]).init(k, np.array([[-1.0, 1.0], [0.5, -0.5]]))
    with pytest.raises(ConfigError, match="signs must contain only \\+1"):
        dale([1, 0, -1])
    with pytest.raises(ConfigError, match="p-norm mirror descent needs p > 1"):
        mirror_descent(0.1, 1.0)


def _regression(geometry, d=10_000, n=400, steps=40):
    """Linear regression from log-normal signed weights with the delta rule (full batch)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d))
    y = x @ (rng.standard_normal(d) / np.sqrt(d))
    w0 = lognormal_signed((1, d), np.sign(rng.standard_normal(d)), seed=1)
    k = get_backend("numpy", dtype="float64")
    learn = plasticity(delta(), geometry)
    w, state = w0, learn.init(k, w0)
    for _ in range(steps):
        out = x @ w[0]
        w, state = learn.step(k, Local(pre=x, post=out[:, None], mod=(y - out)[:, None]), state, w)
    return w0, w


@pytest.mark.parametrize("geometry,expected", [(additive(0.05), "2-norm"), (exponentiated(0.5), "negative entropy")])
def test_geometry_test_names_the_geometry_by_a_wide_margin(geometry, expected):
    before, after = _regression(geometry)
    rows = geometry_test(before, after)
    assert rows[0]["potential"] == expected, rows
    # the true geometry sits at the Gaussian noise floor (0.87/√n ≈ 0.009); the next is ≥ 3× farther
    assert rows[0]["ks_distance"] < 0.02 and rows[1]["ks_distance"] > 3 * rows[0]["ks_distance"], rows


def test_geometry_test_cli(tmp_path, capsys):
    from bioplast.cli import main

    before, after = _regression(exponentiated(0.5))
    np.savez(tmp_path / "before.npz", W0=before)
    np.savez(tmp_path / "after.npz", W0=after)
    assert main(["geometry-test", str(tmp_path / "before.npz"), str(tmp_path / "after.npz")]) == 0
    assert "most likely geometry: negative entropy" in capsys.readouterr().out
    with open(tmp_path / "obj.npy", "wb") as fh:  # an object-dtype header: loading it would unpickle
        np.lib.format.write_array_header_1_0(fh, {"descr": "|O", "fortran_order": False, "shape": (1,)})
        fh.write(b"\x80\x04N.")
    assert main(["geometry-test", str(tmp_path / "obj.npy"), str(tmp_path / "after.npz")]) == 2
    assert "without pickle" in capsys.readouterr().err


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_homeostatic_normalisation_keeps_each_neurons_incoming_total(backend):
    """Every ``every``-th update rescales each row of ``w + Δw`` to sum ``total`` (closed form);
    between normalisations the update passes through; a row with no positive sum keeps its update.

    Rounding (float64, rows of n = 6): a = w + u, the row sum S (≤ γ_{n−1} relative to Σ|a|), the
    scale total/S, a·scale, the subtraction of w and, here, its addition back — each within
    γ_{2n+4} of the closed form relative to |new| + |w| (the test's own sum included), times the
    row's condition Σ|a|/|Σa| for what depends on S; the row left alone is a − w + w: γ₂."""
    from bioplast.core import chain_init, chain_update
    from bioplast.geometry import normalise_incoming

    k = get_backend(backend, dtype="float64")
    rng = np.random.default_rng(0)
    w = rng.uniform(0, 1, (4, 6))
    w[3] = -w[3]  # a row summing below zero: left alone
    u = rng.normal(0, 0.1, (4, 6))
    chain = (normalise_incoming(5.0, every=2),)
    states = chain_init(k, chain, k.asarray(w))
    first, states = chain_update(k, chain, k.asarray(u), states, k.asarray(w))
    np.testing.assert_array_equal(k.to_numpy(first), u)  # 1st update: passes through, untouched
    second, states = chain_update(k, chain, k.asarray(u), states, k.asarray(w))
    new = w + k.to_numpy(second)
    a = w + u
    gamma = worst_case("float64", 2 * w.shape[1] + 4)
    cond = np.abs(a[:3]).sum(1) / np.abs(a[:3].sum(1))
    size = np.abs(new[:3]) + np.abs(w[:3])
    assert np.all(np.abs(new[:3].sum(1) - 5.0) <= gamma * cond * size.sum(1))
    assert np.all(np.abs(new[:3] - a[:3] * 5.0 / a[:3].sum(1, keepdims=True)) <= gamma * cond[:, None] * size)
    np.testing.assert_allclose(
        new[3], a[3], rtol=0, atol=worst_case("float64", 2) * (np.abs(a[3]) + np.abs(w[3])).max()
    )
    with pytest.raises(ConfigError, match="every"):
        normalise_incoming(1.0, every=0)


def test_normalisation_composes_with_stdp_in_a_spiking_run():
    """STDP → additive → clip → normalise on the generic engine: after a run whose length is a multiple
    of ``every``, each neuron's incoming weights sum to the total (Diehl & Cook's homeostasis as a
    transform); numpy and numba (which falls back from its fused kernel) agree bit for bit: one
    sample per step, so each STDP product is a single correctly rounded product on any BLAS, and
    the rest is the same numpy calls or elementwise loops doing the same float32 operations
    (fastmath off).  The sums to the total: a row of n = 20 float32 weights rescaled as above,
    within γ_{2n+4}·(Σ|new| + Σ|w|); the weights before the last step differ from the new ones by
    one STDP step, far below their size, so 2·Σ|new| stands for Σ|new| + Σ|w|."""
    from bioplast.data.encoders import poisson
    from bioplast.dynamics.spiking.engine import simulate
    from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
    from bioplast.dynamics.spiking.neurons import LIF
    from bioplast.geometry import additive, normalise_incoming
    from bioplast.hardware import clip_bounds
    from bioplast.rules.stdp import pair_stdp

    dt = 1e-3
    learn = plasticity(
        pair_stdp(a_plus=0.02, a_minus=0.021, dt=dt),
        additive(1.0),
        clip_bounds(0.0, 1.0),
        normalise_incoming(4.0, every=50),
    )
    w = np.random.default_rng(0).uniform(0, 0.5, (5, 20))
    net = SpikingNetwork(
        [SpikeSource("x", 20)],
        [Population("p", 5, LIF(tau_mem=20e-3, v_thresh=1.0))],
        [Projection("x", "p", "v", w, plasticity=learn)],
        dt=dt,
    )
    x = {"x": poisson(np.full((1, 20), 40.0), 300, dt, seed=1)}
    raw = {b: simulate(net, x, backend=b)[0].weights[0] for b in ("numpy", "numba")}
    runs = {b: np.asarray(v, dtype=np.float64) for b, v in raw.items()}
    bound = worst_case(raw["numpy"].dtype, 2 * 20 + 4) * 2 * np.abs(runs["numpy"]).sum(1)
    assert np.all(np.abs(runs["numpy"].sum(1) - 4.0) <= bound)
    np.testing.assert_array_equal(runs["numpy"], runs["numba"])
