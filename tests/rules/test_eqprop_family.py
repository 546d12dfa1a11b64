"""The EP family beyond the classic estimators: holomorphic, random-sign, cross-entropy,
generalized EP with Jacobian homeostasis — each against the float64 autograd oracle.

Holomorphic tolerances: the Fourier estimate's error is the aliased Taylor
term ``O(|β|^N)``; with the cross-entropy readout ``|β| = 0.5`` lies well
inside the radius of convergence of ``β ↦ s*(β)`` and N = 12 leaves an
aliasing error below float64 rounding, so what remains is rounding
(:func:`_holomorphic_rounding`).  With the squared-error cost the radius is
< 0.5 on this data (the estimate at 0.5 does not converge in N; at 0.05 it
reaches 1e-11), as the equilibrium-propagation guide states.

Real-β estimates against the oracle err by the estimator's bias: O(β²) for
symmetric EP, c·β² with c = O(1) (≤ 3 on these setups at β = 0.1, where the
bias is 100× larger and dominates rounding), so 1e-3 holds at β = 0.01.
"""

from itertools import pairwise

import numpy as np
import pytest

from bioplast import ConfigError, get_backend
from bioplast.analysis.gradcheck import cosine, relative_error
from bioplast.data import load_task, one_hot
from bioplast.dynamics import EPNet, init_mlp
from bioplast.dynamics.equilibrium import ep_estimate, jacobian_asymmetry, jacobian_homeostasis
from bioplast.models.ep import init_epnet
from bioplast.reference.ep_oracle import bptt_gradient, vector_field_jacobian
from bioplast.rules.eqprop import holomorphic_points
from bioplast.testing import assert_close, libm_disagreement, tolerance, worst_case


def _holomorphic_rounding(dtype, beta, n_in=784):
    """Rounding of a holomorphic estimate, relative: a state carries ≤ tolerance(dtype, n_in) (the
    longest reduction, the input drive) and ≤ libm_disagreement(dtype) from another library's
    (complex) tanh; the relaxation contracts, so the steps do not accumulate it.  The Fourier sum
    averages the contrasts (P(β_k) − P(0))/β_k with weights summing to 1, states of size O(1)
    moved by O(|β|): the rounding is divided by |β|, not amplified by the sum."""
    return (tolerance(dtype, n_in) + libm_disagreement(dtype)) / abs(beta)


def _contrast_rounding(beta, batch=20):
    """``(rtol, scale)`` for two float64 estimates that are equal algebraically and relax the same
    phases (the same operations on the same inputs: equal states, bit for bit), but form the
    contrast differently: (P⁺ − P⁻)/2β against ½(P⁺ − P⁰)/β + ½(P⁻ − P⁰)/(−β), P = ⟨s preᵀ⟩ (for
    the first layer, the batch mean of the differences).  The batch means over B samples differ by
    ≤ tolerance(float64, B), the ≤ 4 elementwise operations by γ₄, relative to the summands
    |s||pre| ≤ 1 (tanh states, MNIST inputs in [0, 1]) divided by β."""
    return tolerance("float64", batch) + worst_case("float64", 4), 1 / abs(beta)


@pytest.fixture(scope="module")
def mnist20():
    d = load_task("mnist5k", 0)
    return d.x_train[:20].astype(np.float64), one_hot(d.y_train[:20], 10).astype(np.float64)


def _flat(k, e):
    return -np.concatenate(
        [k.to_numpy(a).astype(np.float64).ravel() for a in e.weights + e.biases + e.feedback + e.readout]
    )


def _oracle(net, x, y, free_steps, nudge_steps, dt=1.0, activation="tanh"):
    host = [[np.asarray(a, dtype=np.float64) for a in g] if g is not None else None for g in net]
    g = bptt_gradient(
        host[0],
        host[1],
        x,
        y,
        free_steps=free_steps,
        bptt_steps=nudge_steps,
        feedback=host[2],
        readout=host[3],
        dt=dt,
        activation=activation,
    )
    return np.concatenate([a.ravel() for a in g.weights + g.biases + g.feedback + g.readout])


@pytest.fixture(scope="module")
def small_net():
    """A float64 784-64-10 symmetric network (one hidden layer: the free phase converges)."""
    k = get_backend("numpy", dtype="float64")
    p = init_mlp(k, [784, 64, 10], 0, scheme="torch")
    return k, EPNet(p.weights, p.biases)


@pytest.fixture(scope="module")
def ce_setup(mnist20):
    x, y = mnist20
    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [784, 512, 10], 0, "cross_entropy")
    return net, _oracle(net, x, y, 60, 60)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_holomorphic_is_exact_at_finite_beta(mnist20, ce_setup, dtype):
    x, y = mnist20
    net64, ref = ce_setup
    k = get_backend("numba", dtype=dtype)
    net = EPNet(
        [k.asarray(w) for w in net64.weights],
        [k.asarray(b) for b in net64.biases],
        None,
        tuple(k.asarray(a) for a in net64.readout),
    )
    e = ep_estimate(
        k,
        net,
        k.asarray(x),
        k.asarray(y),
        beta=0.5,
        free_steps=60,
        nudge_steps=60,
        estimator="holomorphic",
        points=12,
        cost="cross_entropy",
    )
    assert relative_error(_flat(k, e), ref) < _holomorphic_rounding(dtype, 0.5)


def test_holomorphic_error_falls_geometrically_with_points(mnist20, ce_setup):
    """Aliasing error O(|β|^N): each step N → N + 2 divides it by > 10 at |β| = 0.5."""
    x, y = mnist20
    net, ref = ce_setup
    k = get_backend("numpy", dtype="float64")
    errors = [
        relative_error(
            _flat(
                k,
                ep_estimate(
                    k,
                    net,
                    x,
                    y,
                    beta=0.5,
                    free_steps=60,
                    nudge_steps=60,
                    estimator="holomorphic",
                    points=n,
                    cost="cross_entropy",
                ),
            ),
            ref,
        )
        for n in (2, 4, 6, 8)
    ]
    assert all(a > 10 * b for a, b in pairwise(errors)), errors


def test_holomorphic_with_two_points_is_symmetric_ep_and_one_point_one_sided(mnist20, small_net):
    x, y = mnist20
    k, net = small_net
    kw = dict(beta=0.2, free_steps=40, nudge_steps=20)
    holo = _flat(k, ep_estimate(k, net, x, y, estimator="holomorphic", points=2, **kw))
    plain = _flat(k, ep_estimate(k, net, x, y, estimator="symmetric", **kw))
    rtol, scale = _contrast_rounding(kw["beta"])
    assert_close(holo, plain, rtol=rtol, scale=scale, what="2-point holomorphic vs symmetric")
    # one point (β, weight 1.0): the one-sided contrast's own operations, times 1.0 — equal bit for bit
    holo = _flat(k, ep_estimate(k, net, x, y, estimator="holomorphic", points=1, **kw))
    np.testing.assert_array_equal(holo, _flat(k, ep_estimate(k, net, x, y, estimator="one_sided", **kw)))


def test_holomorphic_points_are_the_circle_by_conjugate_symmetry():
    pts = holomorphic_points(0.5, 5)
    # weights 1/5, 2/5, 2/5: three divisions and two additions, γ₅; the point is math.cos/sin
    # against numpy's complex exp — two libraries (the argument 2π/5 and the scaling by 0.5 round alike)
    assert len(pts) == 3 and sum(w for _, w in pts) == pytest.approx(1.0, rel=worst_case("float64", 5))
    assert pts[1][0] == pytest.approx(0.5 * np.exp(2j * np.pi / 5), rel=libm_disagreement("float64"))
    assert [b for b, _ in holomorphic_points(0.5, 4)][-1] == -0.5  # the real point −|β| counted once


def test_holomorphic_runs_on_torch_like_numpy(mnist20):
    x, y = mnist20
    kn, kt = get_backend("numpy", dtype="float32"), get_backend("torch", dtype="float32")
    p = init_mlp(kn, [784, 32, 10], 0, scheme="torch")
    ests = []
    for k in (kn, kt):
        net = EPNet(
            [k.asarray(w) for w in p.weights[:1]],
            [k.asarray(b) for b in p.biases[:1]],
            None,
            (k.asarray(p.weights[1]), k.asarray(p.biases[1])),
        )
        ests.append(
            _flat(
                k,
                ep_estimate(
                    k,
                    net,
                    k.asarray(x),
                    k.asarray(y),
                    beta=0.5,
                    free_steps=30,
                    nudge_steps=20,
                    estimator="holomorphic",
                    points=6,
                    cost="cross_entropy",
                ),
            )
        )
    assert relative_error(ests[1], ests[0]) < _holomorphic_rounding("float32", 0.5)  # two libraries' rounding


def test_cross_entropy_symmetric_ep_matches_the_oracle(mnist20, ce_setup):
    x, y = mnist20
    net, _ = ce_setup
    k = get_backend("numpy", dtype="float64")
    e = ep_estimate(k, net, x, y, beta=0.01, free_steps=30, nudge_steps=10, estimator="symmetric", cost="cross_entropy")
    ref = _oracle(net, x, y, 30, 10)
    # bias O(β²): c·β² with c ≤ 1 gives 1e-4 at β = 0.01 (c ≈ 0.003 here: 2.9e-5 at β = 0.1)
    assert relative_error(_flat(k, e), ref) < 1e-4


def test_random_sign_averages_to_the_symmetric_estimate(mnist20, small_net):
    """(F(β)−F(0))/β and (F(−β)−F(0))/(−β) average to (F(β)−F(−β))/2β exactly."""
    x, y = mnist20
    k, net = small_net
    kw = dict(beta=0.1, free_steps=40, nudge_steps=20)
    draws = {}
    for seed in range(20):
        rng = np.random.default_rng(seed)
        sign = 1 if np.random.default_rng(seed).random() < 0.5 else -1
        draws.setdefault(sign, _flat(k, ep_estimate(k, net, x, y, estimator="random_sign", rng=rng, **kw)))
    assert set(draws) == {1, -1}
    sym = _flat(k, ep_estimate(k, net, x, y, estimator="symmetric", **kw))
    rtol, scale = _contrast_rounding(kw["beta"])  # the average adds one exact halving
    assert_close((draws[1] + draws[-1]) / 2, sym, rtol=rtol, scale=scale, what="random-sign average")
    with pytest.raises(ConfigError, match="random_sign estimator needs rng"):
        ep_estimate(k, net, x, y, estimator="random_sign", **kw)


def test_generalized_ep_with_symmetric_feedback_is_ep(mnist20):
    """B_l = W_lᵀ: the generalized estimate is exact up to O(β²), like symmetric EP."""
    x, y = mnist20
    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [784, 128, 10], 0, "mse", asymmetry=0.0)
    kw = dict(beta=0.01, free_steps=100, nudge_steps=100, dt=0.5)
    e = ep_estimate(k, net, x, y, estimator="symmetric", **kw)
    assert e.reports[0].residual < 1e-8  # converged (a convergence criterion; float64's floor is ≈ 1e-16)
    # bias c·β² at β = 0.01 (module docstring; c ≈ 1.4 here: 0.0135 at β = 0.1)
    assert relative_error(_flat(k, e), _oracle(net, x, y, 100, 100, dt=0.5)) < 1e-3


def test_alignment_degrades_with_asymmetry_and_homeostasis_restores_it():
    from bioplast.analysis.alignment import alignment_curve

    rows = alignment_curve(
        hidden=(64,), asymmetries=(0.0, 0.5, 1.0), homeostasis=(0.0, 1.0), train_batches=10, samples=16
    )
    assert max(r["free_residual"] for r in rows) < 1e-8  # fixed points reached (float64): the bias is the asymmetry's
    plain = [r["cosine"] for r in rows if r["homeostasis"] == 0.0]
    homeo = [r["cosine"] for r in rows if r["homeostasis"] == 1.0]
    assert plain[0] > 0.98 and plain[-1] < 0.5, plain  # measured 0.999, 0.73, 0.04
    assert all(a > b for a, b in pairwise(plain)), plain  # monotone in the asymmetry
    assert all(h > p for h, p in zip(homeo[1:], plain[1:], strict=True)), (homeo, plain)
    assert homeo[-1] > plain[-1] + 0.4  # measured 0.73 vs 0.04
    asym = [r["jacobian_asymmetry"] for r in rows if r["homeostasis"] == 1.0]
    assert max(asym) < 0.6 * max(r["jacobian_asymmetry"] for r in rows if r["homeostasis"] == 0.0)


def test_homeostatic_objective_is_half_the_squared_jacobian_asymmetry():
    """H = ½‖J − Jᵀ‖²_F with J from autograd of the explicit vector field, at random states.

    Autograd's J holds the couplings W_l, B_l exactly (the field is linear in them) and a diagonal
    that cancels in J − Jᵀ, so both sides square the same differences w − bᵀ and differ only in
    the order of summing ≤ 144 positive terms: tolerance(float64, 144).  H is exactly quadratic:
    a step of ε along (dW, dB) scales every W_l − B_lᵀ by (1 − 4ε), so the first-order difference
    quotient is 8H(1 − 2ε) = slope·(1 − 2ε) — truncation 2ε — plus rounding: both H values carry
    ≤ tolerance(float64, 144) and the moved weights ≤ u(‖W‖ + ‖B‖) against ‖W − Bᵀ‖ = √H, all
    divided by ε·slope = 8εH."""
    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [6, 5, 4, 3], 1, "mse", asymmetry=0.7)
    rng = np.random.default_rng(0)
    h, dw, db = jacobian_homeostasis(k, net)
    for _ in range(3):
        states = [rng.uniform(-0.9, 0.9, w.shape[0]) for w in net.weights]
        J = vector_field_jacobian(net.weights, net.feedback, states)
        assert 0.5 * ((J - J.T) ** 2).sum() == pytest.approx(h, rel=tolerance("float64", J.size))
    # the directions are −∂H/∂θ: a small step along them lowers H to first order
    eps = 1e-6
    moved = EPNet(
        net.weights[:1] + [w + eps * d for w, d in zip(net.weights[1:], dw[1:], strict=True)],
        net.biases,
        [b + eps * d for b, d in zip(net.feedback, db, strict=True)],
    )
    slope = sum((d**2).sum() for d in dw[1:] + db)
    size = sum(np.linalg.norm(a) for a in net.weights[1:] + net.feedback) / np.sqrt(h)
    rounding = (2 * tolerance("float64", 144) + 4 * worst_case("float64", 1) * size) / (8 * eps)
    assert (h - jacobian_homeostasis(k, moved)[0]) / eps == pytest.approx(slope, rel=2 * eps + rounding)
    # asymmetry 0 draws B_l = W_lᵀ·1 + R·0, exactly W_lᵀ: every difference is 0.0, and so is the ratio
    assert jacobian_asymmetry(k, init_epnet(k, [6, 5, 4, 3], 1, "mse", asymmetry=0.0)) == 0.0


def test_sigmoid_activations_match_the_oracle(mnist20, small_net):
    x, y = mnist20
    k, net = small_net
    for act in ("sigmoid4", "sigmoid"):
        e = ep_estimate(k, net, x, y, beta=0.01, free_steps=60, nudge_steps=30, activation=act)
        assert e.reports[0].residual < 1e-8  # converged (float64)
        ref = _oracle(net, x, y, 60, 30, activation=act)
        # bias c·β² at β = 0.01 (module docstring; c ≈ 2.9 for sigmoid4, 0.04 for sigmoid)
        assert relative_error(_flat(k, e), ref) < 1e-3, act


def test_bad_input_is_a_clear_error(mnist20):
    x, y = mnist20
    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [784, 16, 10], 0, "mse")
    kw = dict(beta=0.1, free_steps=3, nudge_steps=2)
    with pytest.raises(ConfigError, match="holomorphic EP needs a holomorphic activation, got 'relu'"):
        ep_estimate(k, net, x, y, estimator="holomorphic", activation="relu", **kw)
    with pytest.raises(ConfigError, match="the cross_entropy cost needs a readout"):
        ep_estimate(k, net, x, y, cost="cross_entropy", **kw)
    with pytest.raises(ConfigError, match="unknown cost 'xent'"):
        ep_estimate(k, net, x, y, cost="xent", **kw)
    with pytest.raises(ConfigError, match=r"dt must be in \(0, 1\]"):
        ep_estimate(k, net, x, y, dt=1.5, **kw)
    bad = EPNet(net.weights, net.biases, [np.zeros((10, 16))])
    with pytest.raises(ConfigError, match=r"feedback matrix 0 has shape \(10, 16\), expected \(16, 10\)"):
        ep_estimate(k, bad, x, y, **kw)
    from bioplast.rules import gen_eqprop

    with pytest.raises(ConfigError, match=r"asymmetry must be in \[0.0, 1.0\], got 1.5"):
        gen_eqprop(asymmetry=1.5)
    with pytest.raises(ConfigError, match="homeostasis must be a finite number >= 0, got -1"):
        gen_eqprop(homeostasis=-1)


def test_classic_ep_with_hard_sigmoid_and_leaky_dynamics(mnist20, small_net):
    """Scellier & Bengio's setting: ρ = clip(s, 0, 1), leaky relaxation (dt = 0.5), one-sided nudge.

    ρ is piecewise linear, so units sitting at a kink when nudged leave an
    O(1 %) bias that does not shrink with β (measured 2.1 % one-sided,
    0.9 % symmetric at β = 0.01); the direction is still cosine ≥ 0.9998.
    """
    x, y = mnist20
    k, net = small_net
    ref = _oracle(net, x, y, 60, 30, dt=0.5, activation="hard_sigmoid")
    for est in ("one_sided", "symmetric"):
        e = ep_estimate(
            k, net, x, y, beta=0.01, free_steps=60, nudge_steps=30, activation="hard_sigmoid", estimator=est, dt=0.5
        )
        assert cosine(_flat(k, e), ref) > 0.9995 and relative_error(_flat(k, e), ref) < 0.03, est
    from bioplast.training import TrainConfig, train

    rec = train(
        TrainConfig(
            rule="eqprop",
            task="digits",
            backend="numba",
            epochs=2,
            activation="hard_sigmoid",
            rule_params=dict(estimator="one_sided", dt=0.5, free_steps=40, nudge_steps=10),
        ),
        progress=False,
    )
    assert rec[-1]["test_acc"] > 0.7  # measured 0.82 after 2 epochs (0.88 after 3); chance 0.1
