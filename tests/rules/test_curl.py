"""Sign-diverse ("curl") learning: the rule, the student–teacher lab, curl and stability measurements."""

import numpy as np
import pytest

from bioplast import ConfigError, DataError
from bioplast.analysis.curl_field import curl_magnitude
from bioplast.data import teacher_student
from bioplast.data.teacher import TeacherTask
from bioplast.dynamics import student_teacher as st
from bioplast.rules.curl import flip_signs, sign_diverse
from bioplast.testing import assert_close, libm_disagreement, tolerance, worst_case


@pytest.fixture(scope="module")
def small():
    task = teacher_student(30, 8, 2, 100, 100, "tanh", seed=0)
    rng = np.random.default_rng(1)
    return task, rng.standard_normal((8, 30)) * 0.3, rng.standard_normal((2, 8)) * 0.3


def test_unflipped_field_is_minus_the_gradient(small):
    task, w1, w2 = small
    g1, g2 = st.update_field(w1, w2, task.x_train, task.y_train, "tanh")
    eps = 1e-6
    # Central differences at h = eps.  Rounding: the error is a float64 reduction through x W₁ᵀ
    # (30 terms), h W₂ᵀ (8), the squared errors (2) and the mean over 100 samples — errors adding in
    # quadrature (random-walk model): ≤ tolerance(n = 140)·E, so the quotient by ≤ tolerance(n)·E/eps
    # ≈ 2e-8.  Truncation eps²|∂³E|/6 ≈ 2e-13·|∂³E| is negligible next to it.
    n = 30 + 8 + 2 + 100
    atol = tolerance("float64", n) * st.error(w1, w2, task.x_train, task.y_train, "tanh") / eps
    for i, j in [(0, 0), (3, 7), (7, 29)]:
        p, m = w1.copy(), w1.copy()
        p[i, j] += eps
        m[i, j] -= eps
        fd = (
            st.error(p, w2, task.x_train, task.y_train, "tanh") - st.error(m, w2, task.x_train, task.y_train, "tanh")
        ) / (2 * eps)
        assert g1[i, j] == pytest.approx(-fd, rel=0, abs=atol)


def _gradient_curl_bound(w1, w2, x, y, d1=None, d2=None, h=1e-6):
    """What rounding alone can give ρ when the field is an exact gradient (J symmetric), measured
    by central differences at h.  A field value is a float64 reduction through x W₁ᵀ (M terms),
    h W₂ᵀ (N), e W₂ (P) and the batch mean (B): off by ≤ r = tolerance(M + N + P + B)·S, S the size
    of the batch mean's summands; an entry of the difference quotient by ≤ r/h, so
    ‖(J − Jᵀ)/2‖_F ≤ ‖J_fd − J‖_F ≤ n·r/h over the n coordinates and ρ ≤ n·r/(h·‖J_fd‖_F).
    Truncation h²|F‴|/6 ≈ 1e-13 is below it."""
    from bioplast.analysis.curl_field import field_curl

    (n_hidden, m), p, b = w1.shape, w2.shape[0], x.shape[0]
    hid = np.tanh(x @ w1.T)
    e = hid @ w2.T - y
    delta = (e @ w2) * (1 - hid**2)
    size = max((np.abs(delta).T @ np.abs(x)).max(), (np.abs(e).T @ np.abs(hid)).max()) / b
    r = tolerance("float64", m + n_hidden + p + b) * size

    def field(t):
        g1, g2 = st.update_field(t[: w1.size].reshape(w1.shape), t[w1.size :].reshape(w2.shape), x, y, "tanh", d1, d2)
        return np.concatenate([g1.ravel(), g2.ravel()])

    jac = field_curl(field, np.concatenate([w1.ravel(), w2.ravel()]), eps=h).jacobian
    return jac.shape[0] * r / (h * np.linalg.norm(jac))


def test_curl_magnitude_vanishes_for_gradient_flows_only(small):
    """ρ ≈ 0 (to rounding: :func:`_gradient_curl_bound`) for GD and for gradient ascent (all
    flipped); clearly > 0 for a sign mixture."""
    task, w1, w2 = small
    x, y = task.x_train[:40], task.y_train[:40]
    assert curl_magnitude(w1, w2, x, y, "tanh") < _gradient_curl_bound(w1, w2, x, y)
    flipped = (-np.ones(30), -np.ones(8))
    assert curl_magnitude(w1, w2, x, y, "tanh", *flipped) < _gradient_curl_bound(w1, w2, x, y, *flipped)
    assert curl_magnitude(w1, w2, x, y, "tanh", flip_signs(30, 0.3, 0), flip_signs(8, 0.25, 1)) > 0.1


def test_minibatch_indices_are_the_same_hash_on_every_backend():
    from bioplast.backends.numba.student_teacher import batch_index

    for seed, run, step in [(0, 0, 0), (7, 3, 11), (2**40, 1000, 10**9)]:
        ours = st.batch_indices(seed, run, step, 6, 200)
        assert list(ours) == [batch_index(seed, run, step, b, 6, 200) for b in range(6)]
        assert ours.min() >= 0 and ours.max() < 200
    # different runs and steps draw different samples; the draws cover the set evenly
    assert list(st.batch_indices(0, 0, 1, 6, 200)) != list(st.batch_indices(0, 1, 1, 6, 200))
    counts = np.bincount(np.concatenate([st.batch_indices(1, 0, t, 10, 20) for t in range(2000)]), minlength=20)
    assert counts.min() > 850 and counts.max() < 1150  # 1000 expected each; ±5 σ


@pytest.mark.parametrize(
    "kw", [dict(), dict(batch=16, renormalise=True), dict(feedback="random"), dict(readout="tanh", batch=10)]
)
def test_sweep_backends_agree_with_the_numpy_loop(small, kw):
    """Three runs at once on numba (fused, parallel over runs) and torch (batched) against the plain
    numpy loop of update_field: float64, so they differ by rounding only.  One step passes through
    reductions over M = 30 inputs, N = 8 hidden units, P = 2 outputs, ≤ 100 samples and (with
    renormalise) the N·M weights' norm — tolerance(M + N + P + 100 + N·M) relative to the weights'
    size — and through tanh of three libraries (numpy's SIMD kernels, numba's glibc call, torch's
    own: libm_disagreement per call, 2 calls: activation and readout).  The regime is not
    chaotic (below), so these per-step errors add up over the T = 300 steps without growing:
    rtol = T·(tolerance + libm_disagreement), relative to max|W₁|; the training error, a square of
    the output error, doubles it."""
    task, w1, w2 = small
    kw = dict(kw)
    if kw.get("feedback") == "random":
        kw["feedback"] = np.random.default_rng(5).standard_normal((2, 8)) * 0.3
    if "readout" in kw:
        task = teacher_student(30, 8, 2, 100, 100, "tanh", seed=0, readout=kw.pop("readout"))
    rng = np.random.default_rng(4)
    w1s = np.stack([w1, w1 * 0.8, w1 + 0.1 * rng.standard_normal(w1.shape)])
    w2s = np.stack([w2, w2 * 1.2, w2])
    # a non-chaotic regime (chaos would amplify rounding-order differences): this student is
    # compressive (c = 30/8), where flipped inputs destabilise learning, so only hidden units flip
    d2 = np.stack([np.ones(8), flip_signs(8, 0.125, 3), flip_signs(8, 0.25, 4)])
    steps, (n, m), p = 300, w1.shape, w2.shape[0]
    rtol = steps * (tolerance("float64", m + n + p + 100 + n * m) + libm_disagreement("float64", 2))
    ref = st.sweep(w1s, w2s, task, 0.05, steps, None, d2, backend="numpy", **kw)
    assert np.isfinite(ref.w1).all() and np.abs(ref.w1).max() < 10
    assert ref.train_error[0, -1] < ref.train_error[0, 0]
    for backend in ("numba", "torch"):
        got = st.sweep(w1s, w2s, task, 0.05, steps, None, d2, backend=backend, **kw)
        assert_close(got.w1, ref.w1, rtol=rtol, what=f"{backend} W1")
        assert_close(got.train_error, ref.train_error, rtol=2 * rtol, what=f"{backend} train error")
    one = st.run(w1s[1], w2s[1], task, 0.05, steps, None, d2[1], **kw)  # run() is a sweep of one (numba)
    if "batch" not in kw:  # minibatch streams are per run index: run() is run 0
        assert_close(one.w1, ref.w1[1], rtol=rtol, what="run() W1")
    assert list(ref.steps[:4]) == [0, 1, 2, 3] and ref.steps[-1] == 300


def test_stability_matrix_predicts_whether_a_solution_attracts():
    """Linear two-layer student at an exact solution, white inputs (⟨xxᵀ⟩ = I): ė = −ηAe.
    λ_min(A) > 0: from a 1e-4 perturbation learning returns to that solution (loss < 1e-20, weights
    within 1e-2: convergence thresholds, far above the loss's float64 floor (ε|y|)² ≈ 1e-31).
    λ_min(A) < 0: the solution repels — the run diverges or leaves it (weights move > 0.1; it may
    still reach another, stable point of the solution manifold: measured drift 0.4–0.8)."""
    m, n = 5, 20
    rng = np.random.default_rng(0)
    x = np.sqrt(m) * np.eye(m)
    w_star = rng.standard_normal(m)
    task = TeacherTask(x, (x @ w_star)[:, None], x, (x @ w_star)[:, None], None, None, "identity")
    w1 = rng.standard_normal((n, m)) / np.sqrt(m)
    w2 = w1 @ np.linalg.solve(w1.T @ w1, w_star)
    outcomes = []
    for trial in range(24):
        rate = 0.05 + 0.3 * (trial % 3) / 2
        d1, d2 = np.where(rng.random(m) < rate, -1.0, 1.0), np.where(rng.random(n) < rate, -1.0, 1.0)
        stable = np.linalg.eigvalsh(st.stability_matrix(w1, w2, d1, d2)).min() > 0
        r = st.run(
            w1 + 1e-4 * rng.standard_normal(w1.shape),
            w2[None, :] + 1e-4 * rng.standard_normal((1, n)),
            task,
            0.02,
            20000,
            d1,
            d2,
            records=5,
        )
        with np.errstate(over="ignore", invalid="ignore"):
            drift = np.sqrt(((r.w1 - w1) ** 2).sum() + ((r.w2[0] - w2) ** 2).sum())
        if stable:
            assert r.train_error[-1] < 1e-20 and drift < 1e-2, (trial, r.train_error[-1], drift)
        else:
            assert not drift < 0.1, (trial, drift)
        outcomes.append(stable)
    assert 3 <= sum(outcomes) <= 21  # both regimes were exercised (measured 13 stable of 24)


def test_curl_rule_trains_and_without_flips_is_backprop():
    from bioplast.training import TrainConfig, train

    base = dict(task="digits", backend="numpy", epochs=1)
    bp = train(TrainConfig(rule="backprop", **base), progress=False)
    c0 = train(TrainConfig(rule="curl", rule_params={"fraction": 0.0}, **base), progress=False)
    assert [r["test_acc"] for r in c0] == [r["test_acc"] for r in bp]
    c1 = train(TrainConfig(rule="curl", rule_params={"fraction": 0.1}, **base), progress=False)
    assert c1[-1]["test_acc"] > 0.5 and c1[-1]["test_acc"] != bp[-1]["test_acc"]


def test_bad_input_is_a_clear_error(small):
    task, w1, w2 = small
    with pytest.raises(ConfigError, match=r"flip fraction must be in \[0.0, 1.0\], got 1.5"):
        flip_signs(10, 1.5)
    with pytest.raises(ConfigError, match="sign mask must contain only"):
        sign_diverse(__import__("bioplast.rules", fromlist=["delta"]).delta(), signs=[1, 0, -1])
    with pytest.raises(DataError, match=r"D1 \(input signs\) has shape \(29,\), expected \(30,\)"):
        st.run(w1, w2, task, 0.1, 10, np.ones(29), np.ones(8))
    with pytest.raises(DataError, match=r"sign masks must have 30 \(D1, inputs\) and 8 \(D2, hidden\) entries"):
        st.update_field(w1, w2, task.x_train, task.y_train, "tanh", np.ones(29), np.ones(8))
    with pytest.raises(DataError, match="2 runs of W1 but 3 of W2"):
        st.sweep(np.stack([w1, w1]), np.stack([w2, w2, w2]), task, 0.1, 10)
    with pytest.raises(ConfigError, match="unknown lab backend 'jax'"):
        st.sweep(w1, w2, task, 0.1, 10, backend="jax")
    from bioplast.training import TrainConfig, train

    with pytest.raises(ConfigError, match=r"flip fractions given for 1 layers, but the model has more \(layer 1\)"):
        train(TrainConfig(rule="curl", rule_params={"fraction": [0.1]}, epochs=1), progress=False)
    with pytest.raises(ConfigError, match=r"flip fraction must be in \[0.0, 1.0\], got -0.2"):
        train(TrainConfig(rule="curl", rule_params={"fraction": [0.1, -0.2]}, epochs=1), progress=False)
    with pytest.raises(DataError, match="sign mask of layer 1 has 3 entries for 128 presynaptic neurons"):
        train(TrainConfig(rule="curl", rule_params={"signs": [np.ones(64), np.ones(3)]}, epochs=1), progress=False)
    with pytest.raises(DataError, match="do not fit a 30-8-2 student"):
        st.run(w1, w2, teacher_student(31, 8, 2, 10, 10, "tanh"), 0.1, 10)


def test_exact_statements_of_the_theory_at_finite_size():
    """Ninou et al. (2025), for the linear two-layer network at the teacher solution (N = 200 hidden):
    with all inputs' plasticity flipped learning stays stable for c = inputs/hidden ≤ 1/4
    (λ_min(W₁ᵀW₁) ≈ (1 − √c)²/c > ‖w₂‖² ≈ 1 ⟺ c < 1/4) and not beyond; a single flipped input
    destabilises the solution for c ≥ 2/3 but not well below.  Values away from the boundaries,
    where finite-size fluctuations decide (measured: 0.70 stable at c = 0.25, 0.50 at c = 0.67)."""
    assert st.stability_fraction(0.2, 1.0, "inputs") == 1.0
    assert st.stability_fraction(0.3, 1.0, "inputs") == 0.0
    assert st.stability_fraction(0.5, 1 / 100, "inputs") == 1.0  # one of M = 100 inputs flipped
    assert st.stability_fraction(1.0, 1 / 200, "inputs") == 0.0  # one of M = 200 inputs flipped
    assert st.critical_fraction(0.1, "inputs") == 1.0  # c ≤ 1/4: even all flipped is stable
    with pytest.raises(ConfigError, match="unknown flip population 'outputs'"):
        st.stability_fraction(0.5, 0.1, "outputs")


def test_lyapunov_exponent_and_order_parameter_separate_convergence_from_chaos():
    """Near the teacher solution, GD contracts (λ < 0, q < 0); a compressive network (c = 4) with every
    input's plasticity flipped — unstable by the c ≥ 2/3 statement above — wanders with bounded,
    renormalised weights and a positive exponent (λ ≈ +0.12 measured) and never returns (q > 0)."""
    from bioplast.analysis.chaos import lyapunov_exponent, nonconvergence

    task = teacher_student(40, 10, 1, 200, 100, "tanh", seed=0)
    rng = np.random.default_rng(2)
    w1 = task.w1 + 1e-3 * rng.standard_normal(task.w1.shape)
    w2 = task.w2 + 1e-3 * rng.standard_normal(task.w2.shape)
    flipped = -np.ones(40)
    gd = lyapunov_exponent(w1, w2, task, 0.1, 2000)
    chaotic = lyapunov_exponent(w1, w2, task, 0.1, 2000, d1=flipped)
    assert gd.exponent < -0.005 and gd.final_error < 1e-6
    assert chaotic.exponent > 0.05 and chaotic.final_error > 0.1
    # the estimate has settled (last two tenths agree) and does not depend on the probe size
    assert abs(chaotic.convergence[-1] - chaotic.convergence[-2]) < 0.2 * chaotic.exponent
    other = lyapunov_exponent(w1, w2, task, 0.1, 2000, d1=flipped, eps=1e-6)
    assert abs(other.exponent - chaotic.exponent) < 0.25 * chaotic.exponent
    assert nonconvergence(task, 0.1, 2000) < -1  # renormalised to the perturbed norms: not all the way to 0
    assert nonconvergence(task, 0.1, 2000, d1=flipped) > 2


def _linear_teacher(c, n_hidden=20, seed=0):
    """Exactly white inputs (⟨xxᵀ⟩ = I): the setting of the stability statements."""
    m = int(round(c * n_hidden))
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((n_hidden, m)) / np.sqrt(m)
    w2 = rng.standard_normal((1, n_hidden)) / np.sqrt(n_hidden)
    x = np.sqrt(m) * np.eye(m)
    return TeacherTask(x, x @ w1.T @ w2.T, x, x @ w1.T @ w2.T, w1, w2, "identity")


def test_below_the_threshold_curl_descent_converges_and_above_it_does_not():
    """Linear, full batch, started 1e-4 from the teacher (fixed seeds).  Hidden-layer (input) flips:
    at c = 1/2 the solution is stable without flips and unstable from ~30 % flipped (finite-size
    theory: 1.0, 0.5, 0.25, 0 stable at 0, 10, 20, 30 %); simulations converge to loss < 1e-20
    below and stay above 1e-2 from 40 % on.  At c = 0.2 < 1/4 even all inputs flipped converge."""
    runs = {0.5: ([0.0, 0.4, 0.6, 1.0], [True, False, False, False]), 0.2: ([0.0, 1.0], [True, True])}
    for c, (fractions, converge) in runs.items():
        task = _linear_teacher(c)
        m, n = task.w1.shape[1], task.w1.shape[0]
        rng = np.random.default_rng(1)
        d1 = np.stack([flip_signs(m, f, 3) for f in fractions])
        w1 = task.w1 + 1e-4 * rng.standard_normal((len(fractions), n, m))
        w2 = task.w2 + 1e-4 * rng.standard_normal((len(fractions), 1, n))
        with np.errstate(over="ignore", invalid="ignore"):
            final = st.sweep(w1, w2, task, 0.02, 20000, d1, records=3).train_error[:, -1]
        for f, ok, loss in zip(fractions, converge, final, strict=True):
            assert (loss < 1e-20) if ok else not (loss < 1e-2), (c, f, loss)
        theory = [np.linalg.eigvalsh(st.stability_matrix(task.w1, task.w2, d, np.ones(n))).min() > 0 for d in d1]
        assert theory == converge


def test_how_non_gradient_is_a_registered_rule():
    """ρ on a 60-weight sub-block of the full update field, digits, one batch of 64.  Gradient
    rules (backprop, the delta readout) are symmetric to rounding: one field value is off by
    ≤ r = 4ε·max(1, max|θ|)/η (model_field's resolution: float64 weights differenced and divided by
    η), an entry of the central difference quotient (h = 1e-6) by ≤ r/h, so on |S| coordinates
    ρ ≤ |S|·r/(h·‖J_SS‖_F) (truncation h²|F‴|/6 is far below); flips add curl; generalized EP's
    curl grows with the feedback asymmetry; the exponentiated update of a sign-constrained network
    is non-gradient in weight coordinates although its direction is the gradient (EG is a gradient
    flow in log|w|)."""
    from dataclasses import replace

    from bioplast.analysis.curl_field import field_curl, model_field, rule_curl
    from bioplast.backends import get_backend
    from bioplast.data import load_task, one_hot
    from bioplast.training import TrainConfig
    from bioplast.training import model_for as build_model

    def config(rule, **kw):
        return TrainConfig(rule=rule, hidden=kw.pop("hidden", (16,)), **kw)

    def rho(rule, **kw):
        return rule_curl(config(rule, **kw), coords=60).rho

    def gradient_bound(rule, **kw):
        """ρ, and the rounding bound above (the resolution r from model_field, as rule_curl uses it)."""
        cfg = replace(config(rule, **kw), backend="numpy", dtype="float64").validate()
        data = load_task(cfg.task, cfg.seed, cfg.data_dir)
        model = build_model(get_backend("numpy", dtype="float64"), cfg, data.n_features, data.n_classes)
        model.lr = cfg.lr
        r = model_field(model, data.x_train[:64], one_hot(data.y_train[:64], data.n_classes))[2]
        curl = rule_curl(config(rule, **kw), coords=60)
        return curl.rho, len(curl.coordinates) * r / (1e-6 * np.linalg.norm(curl.jacobian))

    for rule, kw in (("backprop", {}), ("delta", {}), ("backprop", dict(network="ei_mlp", optimizer="sgd"))):
        measured, bound = gradient_bound(rule, **kw)
        assert measured < bound, (rule, kw, measured, bound)
    assert rho("curl", rule_params={"fraction": 0.3}) > 0.2
    assert rho("feedback_alignment") > 0.1
    sym, asym = (rho("gen_eqprop", rule_params={"asymmetry": a}, hidden=(32,)) for a in (0.0, 1.0))
    assert sym < asym
    assert rho("backprop", network="ei_mlp", optimizer="eg") > 0.05
    with pytest.raises(ConfigError, match="Adam rescales it"):
        rule_curl(TrainConfig(rule="backprop", optimizer="adam"))
    with pytest.raises(ConfigError, match="the field does not depend on these weights"):
        rule_curl(TrainConfig(rule="hebb"))  # clamped Hebb: ΔW = t xᵀ does not depend on W
    # the sub-block estimate equals the full measurement's block (a linear field: exact up to
    # rounding).  At θ = 0 the field a(±h e_i) = ±fl(a_i h) has one non-zero product per entry
    # (exact sums of zeros on any BLAS), so each Jacobian entry is fl(fl(a_ij h)/h): within γ₂ of
    # a_ij.  ρ then differs from the formula by ≤ 2γ₃‖a‖/‖a − aᵀ‖ (the entries and the subtraction)
    # plus the four 144-term norms, tolerance(144) each.
    a = np.random.default_rng(0).standard_normal((12, 12))
    full = field_curl(lambda t: a @ t, np.zeros(12))
    rel = 2 * worst_case("float64", 3) * np.linalg.norm(a) / np.linalg.norm(a - a.T) + 4 * tolerance("float64", a.size)
    assert full.rho == pytest.approx(np.linalg.norm(a - a.T) / 2 / np.linalg.norm(a), rel=rel)
    part = field_curl(lambda t: a @ t, np.zeros(12), coords=5, seed=1)
    np.testing.assert_allclose(
        part.jacobian, a[np.ix_(part.coordinates, part.coordinates)], rtol=worst_case("float64", 2), atol=0
    )


def test_flip_fractions_and_masks_per_layer():
    """Each layer of the curl rule carries its own D_l: a fraction per layer (drawn per layer) or
    explicit masks; one rule object initialised twice gives the same state (rules stay pure)."""
    from bioplast.backends import get_backend
    from bioplast.rules import get_rule

    k = get_backend("numpy", dtype="float64")
    w0, w1 = np.zeros((16, 40)), np.zeros((10, 16))
    rule = get_rule("curl", fraction=[0.0, 0.5], seed=3)
    assert rule.spec.name == "curl" and rule.at_layer(1).spec == rule.spec
    s0, s1 = rule.at_layer(0).init(k, w0).signs, rule.at_layer(1).init(k, w1).signs
    assert (s0 == 1).all() and (s1 == -1).sum() == 8
    np.testing.assert_array_equal(rule.at_layer(1).init(k, w1).signs, s1)
    same = get_rule("curl", fraction=0.5, seed=3)  # one fraction: every layer, each its own draw
    a, b = same.at_layer(0).init(k, np.zeros((16, 16))).signs, same.at_layer(1).init(k, np.zeros((16, 16))).signs
    assert (a == -1).sum() == (b == -1).sum() == 8 and not np.array_equal(a, b)
    mask = np.where(np.arange(16) < 4, -1.0, 1.0)
    masked = get_rule("curl", signs=[np.ones(40), mask])
    np.testing.assert_array_equal(masked.at_layer(1).init(k, w1).signs, mask)


def test_feedback_through_the_transposed_weights_is_backprop():
    """backprop_errors' feedback path with B_l = W_l must give autograd's errors exactly (float64):
    bit for bit, since both paths make the same torch calls on the same arrays — the product
    δ_{l+1} W_{l+1} (autograd's linear backward is the same mm) times φ'(a_l) from the same
    backward kernel (there applied to δ W, here to ones, times 1 exactly)."""
    from bioplast.backends import get_backend
    from bioplast.dynamics.feedforward import backprop_errors, init_mlp

    k = get_backend("numpy", dtype="float64")
    params = init_mlp(k, [12, 9, 7, 4], seed=0)
    rng = np.random.default_rng(0)
    x, target = rng.standard_normal((5, 12)), np.eye(4)[rng.integers(0, 4, 5)]
    for act in ("tanh", "relu"):
        _, exact, _ = backprop_errors(k, params, x, target, act, "cross_entropy")
        _, via_b, _ = backprop_errors(k, params, x, target, act, "cross_entropy", feedback=params.weights)
        for a, b in zip(exact, via_b, strict=True):
            np.testing.assert_array_equal(b, a)
