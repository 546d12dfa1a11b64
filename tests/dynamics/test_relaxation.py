"""The primitive-function dynamics against the Hopfield energy (independent autograd)."""

import numpy as np
import pytest
import torch

from bioplast import get_backend
from bioplast.dynamics import init_mlp
from bioplast.dynamics.relaxation import EPNet, Nudge, drives, relax
from bioplast.testing import LIBM_ULPS, assert_close, eps, tolerance, worst_case


def test_primitive_drive_equals_energy_descent_step():
    """Φ = ½‖s‖² − E, so ∂Φ/∂s = s − ∂E/∂s: the primitive form's update ρ(∂Φ/∂s)
    is the energy-descent update ρ(s − ε∂E/∂s) with ε = 1 (Scellier & Bengio 2017).
    Both sides sum the same ≤ 10 terms per entry (5 inputs or 4 hidden units, a bias, 3 or 0 units
    of feedback, the nudge, and s − ∂E/∂s itself) in other orders: tolerance(float64, 10) relative to
    the size of the summands."""
    rng = np.random.default_rng(0)
    k = get_backend("numpy", dtype="float64")
    p = init_mlp(k, [5, 4, 3], seed=0, scheme="torch")
    x = rng.random((2, 5))
    s = [rng.standard_normal((2, 4)), rng.standard_normal((2, 3))]
    y = np.eye(3)[[0, 2]]
    beta = 0.3
    st = [torch.tensor(a, requires_grad=True) for a in s]
    W = [torch.tensor(w) for w in p.weights]
    b = [torch.tensor(v) for v in p.biases]
    xt = torch.tensor(x)
    energy = (
        0.5 * sum((a**2).sum() for a in st)
        - (st[0] * (xt @ W[0].T + b[0])).sum()
        - (st[1] * (st[0] @ W[1].T + b[1])).sum()
        + beta * 0.5 * ((st[1] - torch.tensor(y)) ** 2).sum()
    )
    grad_e = torch.autograd.grad(energy, st)
    w, bias = p.weights, p.biases
    summands = [
        np.abs(x) @ np.abs(w[0]).T + np.abs(bias[0]) + np.abs(s[1]) @ np.abs(w[1]) + np.abs(s[0]),
        np.abs(s[0]) @ np.abs(w[1]).T + np.abs(bias[1]) + beta * (np.abs(s[1]) + np.abs(y)) + np.abs(s[1]),
    ]
    for d, a, g, size in zip(
        drives(k, EPNet(p.weights, p.biases), x, s, Nudge(beta, y)), s, grad_e, summands, strict=True
    ):
        assert_close(d, a - g.numpy(), dtype="float64", reduction=10, scale=float(size.max()))


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["mse", "cross_entropy", "feedback", "one_layer", "three_layers"])
def test_fused_numba_relaxation_matches_the_step_loop(dtype, case):
    """The compiled loop (numba) and the kernel-vocabulary loop (numpy) run the same
    dynamics: every activation, both costs, feedback weights, leaky and plain steps."""
    from bioplast.models.ep import init_epnet
    from bioplast.testing import assert_close

    rng = np.random.default_rng(0)
    sizes = {"one_layer": [12, 5], "three_layers": [12, 9, 7, 5]}.get(case, [12, 9, 5])
    cost = "cross_entropy" if case == "cross_entropy" else "mse"
    kn, kb = get_backend("numpy", dtype=dtype), get_backend("numba", dtype=dtype)
    x, y = rng.random((6, 12)), np.eye(5)[rng.integers(0, 5, 6)]
    for act in ("tanh", "sigmoid4", "hard_sigmoid", "relu", "sigmoid", "identity"):
        for dt, beta in ((1.0, 0.0), (0.5, 0.3), (1.0, -0.2)):
            results = []
            for k in (kn, kb):
                net = init_epnet(
                    k,
                    sizes + ([3] if cost == "cross_entropy" else []),
                    1,
                    cost,
                    asymmetry=0.6 if case == "feedback" else None,
                )
                target = y[:, :3] if cost == "cross_entropy" else y
                start = [k.asarray(rng.random((6, w.shape[0])) * 0 + 0.1) for w in net.weights]
                states, rep = relax(
                    k,
                    net,
                    k.asarray(x),
                    start,
                    7,
                    act,
                    dt=dt,
                    nudge=Nudge(beta, k.asarray(target), cost) if beta else None,
                )
                results.append((states, rep.residual))
            for a, b in zip(results[0][0], results[1][0], strict=True):
                # 7 steps of products over ≤ 12 terms
                assert_close(b, a, dtype=dtype, reduction=7 * 12, what=f"{case}/{act}/dt={dt}/β={beta}")
            # the residual max|s₇ − s₆| of each side: s₇ and s₆ each within the bound above
            # (≤ 2 tol·max|s|), so the residuals differ by ≤ 4 tol·max|s₆|, |s₆| ≤ |s₇| + residual
            top = max(float(np.abs(k.to_numpy(a)).max()) for a in results[0][0]) + results[0][1]
            assert abs(results[1][1] - results[0][1]) <= 4 * tolerance(dtype, 7 * 12) * top


def test_fused_relaxation_does_not_touch_its_inputs():
    from bioplast.models.ep import init_epnet

    k = get_backend("numba", dtype="float64")
    net = init_epnet(k, [4, 3, 2], 0, "mse")
    start = [np.full((2, 3), 0.2), np.full((2, 2), 0.3)]
    copies = [s.copy() for s in start]
    for steps in (1, 2, 3):
        relax(k, net, np.ones((2, 4)), start, steps, "tanh")
        assert all(np.array_equal(a, b) for a, b in zip(start, copies, strict=True))


def _fixed_point_gap(net, x, s, residual, dt):
    """First-order bound on |s − s*| for the last iterate s of ``s ← s + dt (f̃(s) − s)``, f = tanh∘h,
    s* = f(s*), and the same bound for an iterate that has converged (residual 0).

    f̃ − f ≤ δ = γ₁₃ A + LIBM_ULPS ε: the drives are ≤ 13-term dot products (8 inputs, a bias, 4 units
    of feedback) on summands of size ≤ A, tanh is 1-Lipschitz and within LIBM_ULPS ulp (|s| < 1).
    With p the previous iterate and r = |s − p|: dt = 1: s = f̃(p), so |s − f(s)| ≤ δ + L r; else
    s − p = dt (f̃(p) − p) + (the add's rounding ≤ u), so |s − f(s)| ≤ (1 + L) r + (r + u)/(dt(1 − γ₂)) + δ.
    Linearised at the fixed point, s − s* = (I − M)⁻¹ (s − f(s)), M = diag(1 − s²) J (J: the
    drives' Jacobian in s); κ = ‖(I − M)⁻¹‖∞ and L = ‖M‖∞ are computed at s, sample by sample."""
    (w0, w1), (b0, b1) = [np.asarray(w) for w in net.weights], [np.asarray(b) for b in net.biases]
    h, o = s
    jac = np.block([[np.zeros((w1.shape[1],) * 2), w1.T], [w1, np.zeros((w1.shape[0],) * 2)]])
    kappa = lip = 0.0
    for row in np.concatenate([h, o], axis=1):
        m = (1 - row**2)[:, None] * jac
        kappa = max(kappa, np.abs(np.linalg.inv(np.eye(len(row)) - m)).sum(1).max())
        lip = max(lip, np.abs(m).sum(1).max())
    size = max(
        (np.abs(x) @ np.abs(w0).T + np.abs(b0) + np.abs(o) @ np.abs(w1)).max(),
        (np.abs(h) @ np.abs(w1).T + np.abs(b1)).max(),
    )
    u = eps("float64") / 2
    delta = worst_case("float64", 13) * size + LIBM_ULPS * eps("float64")

    def gap(r):
        if dt == 1.0:
            return kappa * (delta + lip * r)
        return kappa * ((1 + lip) * r + (r + u) / (dt * (1 - worst_case("float64", 2))) + delta)

    return gap(residual), gap(0.0)


def test_leaky_and_plain_relaxation_reach_the_same_fixed_point():
    """Both iterations have the fixed point s* = tanh(h(s*)); each ends within :func:`_fixed_point_gap`
    of it, so the two differ by at most the sum.  Converged: both last iterates lie within the
    rounding floor (the gap at residual 0) of s*, so the last step moved them by ≤ twice that."""
    from bioplast.models.ep import init_epnet

    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [8, 6, 4], 0, "mse")
    x = np.random.default_rng(0).random((3, 8))
    zeros = [np.zeros((3, 6)), np.zeros((3, 4))]
    a, ra = relax(k, net, x, zeros, 1000, "tanh", dt=1.0)
    b, rb = relax(k, net, x, zeros, 2000, "tanh", dt=0.3)
    (gap_a, floor_a), (gap_b, floor_b) = (
        _fixed_point_gap(net, x, s, r.residual, dt) for s, r, dt in ((a, ra, 1.0), (b, rb, 0.3))
    )
    assert ra.residual <= 2 * floor_a and rb.residual <= 2 * floor_b
    for u, v in zip(a, b, strict=True):
        assert np.abs(u - v).max() <= gap_a + gap_b
