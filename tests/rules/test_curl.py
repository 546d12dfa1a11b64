"""Sign-diverse ("curl") learning: the rule, the student–teacher lab, curl and stability measurements."""
import numpy as np
import pytest

from bioplast import ConfigError, DataError
from bioplast.data import teacher_student
from bioplast.data.teacher import TeacherTask
from bioplast.dynamics import student_teacher as st
from bioplast.rules.curl import flip_signs, sign_diverse


@pytest.fixture(scope="module")
def small():
    task = teacher_student(30, 8, 2, 100, 100, "tanh", seed=0)
    rng = np.random.default_rng(1)
    return task, rng.standard_normal((8, 30)) * 0.3, rng.standard_normal((2, 8)) * 0.3


def test_unflipped_field_is_minus_the_gradient(small):
    task, w1, w2 = small
    g1, g2 = st.update_field(w1, w2, task.x_train, task.y_train, "tanh")
    eps = 1e-6
    for (i, j) in [(0, 0), (3, 7), (7, 29)]:
        p, m = w1.copy(), w1.copy()
        p[i, j] += eps
        m[i, j] -= eps
        fd = (st.error(p, w2, task.x_train, task.y_train, "tanh") - st.error(m, w2, task.x_train, task.y_train,
                                                                                 "tanh")) / (2 * eps)
        assert g1[i, j] == pytest.approx(-fd, rel=1e-6, abs=1e-10)


def test_curl_magnitude_vanishes_for_gradient_flows_only(small):
    """ρ ≈ 0 for GD and for gradient ascent (all flipped); clearly > 0 for a sign mixture."""
    task, w1, w2 = small
    x, y = task.x_train[:40], task.y_train[:40]
    assert st.curl_magnitude(w1, w2, x, y, "tanh") < 1e-6
    assert st.curl_magnitude(w1, w2, x, y, "tanh", -np.ones(30), -np.ones(8)) < 1e-6
    assert st.curl_magnitude(w1, w2, x, y, "tanh", flip_signs(30, 0.3, 0), flip_signs(8, 0.25, 1)) > 0.1


@pytest.mark.parametrize("kw", [dict(), dict(batch=16, renormalise=True), dict(feedback="random")])
def test_fused_numba_run_matches_the_numpy_loop(small, kw):
    task, w1, w2 = small
    kw = dict(kw)
    if kw.get("feedback") == "random":
        kw["feedback"] = np.random.default_rng(5).standard_normal((2, 8)) * 0.3
    # a non-chaotic regime (chaos would amplify rounding-order differences): this student is
    # compressive (c = 30/8), where flipped inputs destabilise learning, so only a hidden unit flips
    d1, d2 = np.ones(30), flip_signs(8, 0.125, 3)
    a = st.run(w1, w2, task, 0.05, 300, d1, d2, backend="numpy", **kw)
    b = st.run(w1, w2, task, 0.05, 300, d1, d2, backend="numba", **kw)
    assert np.isfinite(a.w1).all() and np.abs(a.w1).max() < 10
    np.testing.assert_allclose(b.w1, a.w1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b.train_error, a.train_error, rtol=1e-10, atol=1e-14)
    assert list(a.steps[:4]) == [0, 1, 2, 3] and a.steps[-1] == 300


def test_stability_matrix_predicts_whether_a_solution_attracts():
    """Linear two-layer student at an exact solution, white inputs (⟨xxᵀ⟩ = I): ė = −ηAe.
    λ_min(A) > 0: from a 1e-4 perturbation learning returns to that solution (loss < 1e-20, weights
    within 1e-2).  λ_min(A) < 0: the solution repels — the run diverges or leaves it (weights move
    > 0.1; it may still reach another, stable point of the solution manifold: measured drift 0.4–0.8)."""
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
        r = st.run(w1 + 1e-4 * rng.standard_normal(w1.shape), w2[None, :] + 1e-4 * rng.standard_normal((1, n)),
                   task, 0.02, 20000, d1, d2, records=5)
        with np.errstate(over="ignore", invalid="ignore"):
            drift = np.sqrt(((r.w1 - w1) ** 2).sum() + ((r.w2[0] - w2) ** 2).sum())
        if stable:
            assert r.train_error[-1] < 1e-20 and drift < 1e-2, (trial, r.train_error[-1], drift)
        else:
            assert not drift < 0.1, (trial, drift)
        outcomes.append(stable)
    assert 3 <= sum(outcomes) <= 21  # both regimes were exercised (measured 13 stable of 24)


def test_curl_rule_trains_and_without_flips_is_backprop():
    from bioplast.train import TrainConfig, train

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
    with pytest.raises(DataError, match=r"sign masks must have 30 \(D1, inputs\) and 8 \(D2, hidden\) entries"):
        st.run(w1, w2, task, 0.1, 10, np.ones(29), np.ones(8))
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
    assert st.stability_fraction(0.5, 1 / 100, "inputs") == 1.0     # one of M = 100 inputs flipped
    assert st.stability_fraction(1.0, 1 / 200, "inputs") == 0.0     # one of M = 200 inputs flipped
    assert st.critical_fraction(0.1, "inputs") == 1.0                # c ≤ 1/4: even all flipped is stable
    with pytest.raises(ConfigError, match="unknown flip population 'outputs'"):
        st.stability_fraction(0.5, 0.1, "outputs")


def test_lyapunov_exponent_and_order_parameter_separate_convergence_from_chaos():
    """Near the teacher solution, GD contracts (λ < 0, q < 0); a compressive network (c = 4) with every
    input's plasticity flipped — unstable by the c ≥ 2/3 statement above — wanders with bounded,
    renormalised weights and a positive exponent (λ ≈ +0.12 measured) and never returns (q > 0)."""
    from bioplast.dynamics.chaos import lyapunov_exponent, nonconvergence

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
