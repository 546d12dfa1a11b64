"""Zeroth-order rules: unbiased on quadratics (z-tests), alignment grows with probes, device read
noise as the probe, training, and bad input."""

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.dynamics.feedforward import MLPParams, sample_losses
from bioplast.dynamics.perturbation import PerturbationState, node_perturbation_signals, weight_perturbation_signals
from bioplast.errors import ConfigError
from bioplast.hardware import DeviceProfile, read_noise
from bioplast.rules import get_rule
from bioplast.rules.perturbation import ProbeState, weight_probe
from bioplast.testing import assert_close, libm_disagreement, tolerance
from bioplast.training import TrainConfig, train

K = get_backend("numpy", dtype="float64")
START = PerturbationState(0, 0.0)


def _linear_task(seed=0, d=5, c=3, b=8):
    """One linear layer with the mse loss: ``L`` is exactly quadratic in the weights and drives."""
    rng = np.random.default_rng(seed)
    params = MLPParams([rng.normal(0, 0.5, (c, d))], [rng.normal(0, 0.5, c)])
    x, t = rng.normal(size=(b, d)), rng.normal(size=(b, c))
    err = x @ params.weights[0].T + params.biases[0] - t  # ∂ℓ_b/∂a_b
    return params, x, t, -(err.T @ x) / b, -err.mean(0)  # −∂L/∂W, −∂L/∂b (L = batch mean)


def _z_scores(contributions, truth):
    """How many standard errors the mean of per-probe contributions is from ``truth``."""
    mean = contributions.mean(0)
    se = contributions.std(0, ddof=1) / np.sqrt(len(contributions))
    return np.abs(mean - truth) / np.maximum(se, 1e-300)


def _never(*_):
    return None


@pytest.mark.parametrize("estimator", ["antithetic", "forward", "none"])
def test_weight_perturbation_is_unbiased_for_a_quadratic_loss(estimator):
    # E[r ξ] = −∇L: exact for a quadratic with antithetic and forward differences (odd Gaussian
    # moments vanish) and for "none" (E ξ = 0).  z-test per entry over 4,000 probes: a bias of a
    # tenth of the gradient would show as z ≈ 6 (antithetic), |z| < 4.5 fails by chance w.p. ~1e-4
    params, x, t, g_w, g_b = _linear_task()
    probes = 4000 if estimator != "none" else 40000  # no baseline: the loss's full variance
    xi = weight_probe(K, ProbeState(3, 0), params.weights[0].shape, probes)
    zeta = np.random.default_rng(9).standard_normal((probes, 3))
    trials = weight_perturbation_signals(K, params, x, t, "relu", "mse", [xi], [zeta], 0.1, estimator, START, _never)
    r = trials.signals[0].mod
    assert _z_scores(r[:, None, None] * xi, g_w).max() < 4.5
    assert _z_scores(r[:, None] * zeta, g_b).max() < 4.5
    # the rule turns the same r into the same mean, from its own copy of the probe stream: the
    # same products ξ·r and the same numpy mean over the probe axis — equal bit for bit
    rule = get_rule("weight_perturbation", seed=3)
    d, state = rule.update(K, trials.signals[0], rule.init(K, params.weights[0]), params.weights[0])
    np.testing.assert_array_equal(d, (r[:, None, None] * xi).mean(0))
    assert state.step == 1


def test_baselines_reduce_the_variance_of_the_estimate():
    # per-probe spread of r ξ on a tanh network: antithetic < forward < none (the control)
    rng = np.random.default_rng(1)
    params = MLPParams([rng.normal(0, 0.5, (6, 4)), rng.normal(0, 0.5, (3, 6))], [np.zeros(6), np.zeros(3)])
    x, t = rng.normal(size=(16, 4)), np.eye(3)[rng.integers(0, 3, 16)]
    spread = {}
    for est in ("antithetic", "forward", "none"):
        xi = [weight_probe(K, ProbeState(5, 0), w.shape, 500) for w in params.weights]
        zeta = [np.zeros((500, len(b))) for b in params.biases]
        tr = weight_perturbation_signals(K, params, x, t, "tanh", "cross_entropy", xi, zeta, 0.05, est, START, _never)
        spread[est] = float((tr.signals[0].mod[:, None, None] * xi[0]).std(0).mean())
    assert spread["antithetic"] < spread["forward"] < spread["none"] / 5


@pytest.mark.parametrize("estimator", ["antithetic", "forward"])
def test_node_perturbation_is_unbiased_for_a_quadratic_loss(estimator):
    params, x, t, g_w, g_b = _linear_task(seed=2)
    probes = 3000
    tr = node_perturbation_signals(K, params, x, t, "relu", "mse", 0.1, probes, estimator, "injected", 4, START, _never)
    s = tr.signals[0]
    per_probe = (s.mod[:, None] * s.post).reshape(probes, len(x), 3)  # r_b ξ_b, grouped by probe
    w_contrib = np.einsum("pbi,bj->pij", per_probe, x) / len(x)
    assert _z_scores(w_contrib, g_w).max() < 4.5
    assert _z_scores(per_probe.mean(1), g_b).max() < 4.5
    # the rule's one BLAS product over all probes × samples against einsum then the mean: the same
    # P·B = 24,000 terms summed in another order — tolerance(float64, P·B), relative to the terms' size
    d, _ = get_rule("node_perturbation").update(K, s, (), params.weights[0])
    terms = np.abs(s.mod[:, None] * s.post).T @ np.abs(s.pre) / len(s.pre)
    assert_close(d, w_contrib.mean(0), reduction=probes * len(x), scale=terms.max(), what="node perturbation ΔW")


def test_device_read_noise_serves_as_an_unbiased_probe():
    # two noisy reads of each sample: E[(ℓ_B − ℓ_A) ν_B] = s² ∇_a ℓ, exactly for the quadratic
    params, x, t, g_w, g_b = _linear_task(seed=3)
    device = DeviceProfile("noisy", read_noise=0.05)
    reads = iter(range(1, 10))
    tr = node_perturbation_signals(
        K,
        params,
        x,
        t,
        "relu",
        "mse",
        1.0,
        3000,
        "forward",
        "device",
        0,
        START,
        lambda: read_noise(K, device, 7, next(reads)),
    )
    s = tr.signals[0]
    per_probe = (s.mod[:, None] * s.post).reshape(3000, len(x), 3)
    assert _z_scores(np.einsum("pbi,bj->pij", per_probe, x) / len(x), g_w).max() < 4.5
    # the perturbation is standardised by its known std (72,000 draws: the std's standard error is
    # 1/√(2·72,000) ≈ 0.003, so 0.02 is ~8 of them)
    assert abs(s.post.std() - 1) < 0.02


def test_read_noise_has_the_statistics_of_independent_weight_reads():
    # ν_b = Ξ_b h_b with Ξ ~ N(0, (σS)²) per weight and read: std σ S ‖h_b‖, independent entries
    device = DeviceProfile("noisy", read_noise=0.1, w_min=-2.0, w_max=1.0)
    h = np.repeat(np.array([[1.0, 2.0, 2.0], [0.0, 3.0, 4.0]]), 5000, axis=0)
    nu = read_noise(K, device, 1, 1)(0, h, 40)
    assert nu.shape == (10000, 40)
    # statistical: 200,000 draws per half, a sample std's relative standard error 1/√(2·200,000)
    # ≈ 0.0016, so rtol 0.02 is ~12 of them; the correlation's is 1/√10,000 = 0.01 (0.03: 3 of them)
    np.testing.assert_allclose(nu[:5000].std(), 0.2 * 3, rtol=0.02)
    np.testing.assert_allclose(nu[5000:].std(), 0.2 * 5, rtol=0.02)
    assert abs(np.corrcoef(nu[:, 0], nu[:, 1])[0, 1]) < 0.03
    assert not np.array_equal(nu, read_noise(K, device, 1, 2)(0, h, 40))  # every read is new
    np.testing.assert_array_equal(nu, read_noise(K, device, 1, 1)(0, h, 40))  # ... and reproducible
    assert read_noise(K, DeviceProfile("exact"), 1, 1) is None


def test_alignment_with_backprop_grows_with_the_number_of_probes():
    # weight perturbation on a tanh net, 20 probe sets per P: the mean cosine with −∇L grows with P
    # towards the theory for isotropic probes, cos ≈ √(P/(P + d)) (d = 99 weights)
    from bioplast.analysis.alignment import alignment_with_backprop

    rng = np.random.default_rng(0)
    params = MLPParams([rng.normal(0, 0.5, (8, 6)), rng.normal(0, 0.5, (3, 8))], [np.zeros(8), np.zeros(3)])
    x, t = rng.normal(size=(32, 6)), np.eye(3)[rng.integers(0, 3, 32)]
    cos = {
        p: alignment_with_backprop(
            K, params, x, t, get_rule("weight_perturbation", probes=p, sigma=1e-3), steps=20
        ).mean()
        for p in (1, 16, 256)
    }
    assert cos[1] < cos[16] < cos[256]
    assert abs(cos[256] - np.sqrt(256 / (256 + 99))) < 0.1
    # node perturbation estimates in the 11-dimensional space of drives: well aligned with 16 probes
    node = alignment_with_backprop(K, params, x, t, get_rule("node_perturbation", probes=16, sigma=1e-3), steps=5)
    assert node.mean() > 0.8
    with pytest.raises(ConfigError, match="zeroth-order"):
        alignment_with_backprop(K, params, x, t, get_rule("backprop"))


# chance is 0.1; weight perturbation's estimate has cosine ≈ √(P/d) ≈ 0.04 with the gradient of
# this 2,410-parameter net, so it learns far more slowly than node perturbation (d = 42 neurons;
# 0.46–0.58 after 2 epochs across seeds 0–3: the floor is four times chance)
@pytest.mark.parametrize(
    "rule,params,floor", [("node_perturbation", {}, 0.4), ("weight_perturbation", {"probes": 4}, 0.3)]
)
def test_zeroth_order_rules_learn_digits_and_reproduce(rule, params, floor):
    cfg = dict(rule=rule, task="digits", epochs=2, hidden=(32,), lr=0.05, rule_params=params)
    records = train(TrainConfig(**cfg), progress=False)
    assert records[-1]["test_acc"] > floor
    again = train(TrainConfig(**cfg), progress=False)
    assert [r["test_acc"] for r in records] == [r["test_acc"] for r in again]
    other_seed = train(TrainConfig(**cfg, seed=1), progress=False)
    assert [r["loss"] for r in other_seed] != [r["loss"] for r in records]


def test_backends_agree_on_a_zeroth_order_step():
    """Probes are drawn on the host, so numpy, numba and torch take the same steps, up to rounding:
    a forward pass reduces over ≤ 64 inputs + 16 hidden + 10 outputs + a batch of 32
    (tolerance(float64, 122)) and calls exp and log of another library in the cross-entropy
    (libm_disagreement, 2 calls).  The reinforcement r = −ΔL/σ divides that rounding of a loss of
    size L by σ = 0.05, and the S steps of the epoch add it up (no chaos: plain SGD), so the epoch's
    loss agrees to S·(tolerance + libm)·L/σ relative."""
    from bioplast.data import load_task

    cfg = dict(rule="node_perturbation", task="digits", epochs=1, hidden=(16,), dtype="float64")
    acc = {b: train(TrainConfig(backend=b, **cfg), progress=False)[-1]["loss"] for b in ("numpy", "numba", "torch")}
    cfg = TrainConfig(**cfg)
    steps = -(-len(load_task("digits", 0).x_train) // cfg.batch_size)
    sigma = get_rule("node_perturbation").spec.params["sigma"]
    rel = (
        steps
        * (tolerance("float64", 64 + 16 + 10 + cfg.batch_size) + libm_disagreement("float64", 2))
        * acc["numpy"]
        / sigma
    )
    assert acc["numba"] == pytest.approx(acc["numpy"], rel=rel) and acc["torch"] == pytest.approx(acc["numpy"], rel=rel)


def test_on_a_noisy_device_its_own_read_noise_beats_injected_noise(monkeypatch):
    # with read noise 0.05 every drive carries noise of std s = 0.05‖h‖ (several times σ = 0.05 on
    # the digits' inputs), uncorrelated with the injected ξ: it swamps the loss difference that
    # injected node perturbation correlates with ξ.  Taking the read noise itself as the probe uses
    # it instead (here 0.50 vs 0.27 after two epochs)
    import importlib

    subs = importlib.import_module("bioplast.hardware.substrates")
    monkeypatch.setitem(subs.PRESETS, "noisy-read", DeviceProfile("noisy-read", bounds="none", read_noise=0.05))
    cfg = dict(rule="node_perturbation", task="digits", epochs=2, hidden=(32,), lr=0.05, substrate="noisy-read")
    device = train(
        TrainConfig(**cfg, rule_params={"noise": "device", "estimator": "forward", "probes": 4}), progress=False
    )
    injected = train(TrainConfig(**cfg, rule_params={"probes": 4}), progress=False)
    assert device[-1]["test_acc"] > 0.4 and device[-1]["test_acc"] > injected[-1]["test_acc"] + 0.15


def test_bad_zeroth_order_configurations_are_named():
    with pytest.raises(ConfigError, match="read noise"):
        train(
            TrainConfig(rule="node_perturbation", rule_params={"noise": "device", "estimator": "forward"}),
            progress=False,
        )
    with pytest.raises(ConfigError, match="antithetic"):
        get_rule("node_perturbation", noise="device")
    with pytest.raises(ConfigError, match="estimator"):
        get_rule("weight_perturbation", estimator="central")
    with pytest.raises(ConfigError, match="sigma"):
        get_rule("node_perturbation", sigma=-1.0)
    with pytest.raises(ConfigError, match="probes"):
        get_rule("weight_perturbation", probes=0)
    with pytest.raises(ConfigError, match="read_noise"):
        DeviceProfile("bad", read_noise=-0.1)


def test_sample_losses_match_the_batch_loss_of_autograd():
    import torch

    from bioplast.dynamics.feedforward import torch_loss

    # mse: the same arithmetic summed in another order, tolerance(float64, 7·4).  cross-entropy:
    # numpy's softmax then log against torch's log_softmax (exp and log of two libraries, a sum over
    # 4 classes): each −log p_y off by ≤ libm_disagreement(2 calls) + tolerance(4) absolute (a
    # relative error of p_y is an absolute one of its log), then the mean over 7
    rng = np.random.default_rng(0)
    out, t = rng.normal(size=(7, 4)), np.eye(4)[rng.integers(0, 4, 7)]
    for loss in ("cross_entropy", "mse"):
        expected = float(torch_loss(loss)(torch.from_numpy(out), torch.from_numpy(t)))
        if loss == "mse":
            rel = tolerance("float64", out.size)
        else:
            rel = (libm_disagreement("float64", 2) + tolerance("float64", 4)) / expected + tolerance("float64", 7)
        assert sample_losses(K, out, t, loss).mean() == pytest.approx(expected, rel=rel)
