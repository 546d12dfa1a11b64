"""The primitive-function dynamics against the Hopfield energy (independent autograd)."""
import numpy as np
import pytest
import torch

from bioplast import get_backend
from bioplast.dynamics import init_mlp
from bioplast.dynamics.relaxation import EPNet, Nudge, drives, relax


def test_primitive_drive_equals_energy_descent_step():
    """Φ = ½‖s‖² − E, so ∂Φ/∂s = s − ∂E/∂s: the primitive form's update ρ(∂Φ/∂s)
    is the energy-descent update ρ(s − ε∂E/∂s) with ε = 1 (Scellier & Bengio 2017)."""
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
    energy = 0.5 * sum((a ** 2).sum() for a in st) - (st[0] * (xt @ W[0].T + b[0])).sum() \
        - (st[1] * (st[0] @ W[1].T + b[1])).sum() + beta * 0.5 * ((st[1] - torch.tensor(y)) ** 2).sum()
    grad_e = torch.autograd.grad(energy, st)
    for d, a, g in zip(drives(k, EPNet(p.weights, p.biases), x, s, Nudge(beta, y)), s, grad_e):
        np.testing.assert_allclose(d, a - g.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", ["mse", "cross_entropy", "feedback", "one_layer", "three_layers"])
def test_fused_numba_relaxation_matches_the_step_loop(dtype, case):
    """The compiled loop (numba) and the kernel-vocabulary loop (numpy) run the same
    dynamics: every activation, both costs, feedback weights, leaky and plain steps."""
    from bioplast.ep_model import init_epnet
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
                net = init_epnet(k, sizes + ([3] if cost == "cross_entropy" else []), 1, cost,
                                 asymmetry=0.6 if case == "feedback" else None)
                target = y[:, :3] if cost == "cross_entropy" else y
                start = [k.asarray(rng.random((6, w.shape[0])) * 0 + 0.1) for w in net.weights]
                states, rep = relax(k, net, k.asarray(x), start, 7, act, dt=dt,
                                    nudge=Nudge(beta, k.asarray(target), cost) if beta else None)
                results.append((states, rep.residual))
            for a, b in zip(results[0][0], results[1][0]):
                # 7 steps of products over ≤ 12 terms
                assert_close(b, a, dtype=dtype, reduction=7 * 12, what=f"{case}/{act}/dt={dt}/β={beta}")
            assert results[1][1] == pytest.approx(results[0][1], rel=1e-3, abs=1e-6)


def test_fused_relaxation_does_not_touch_its_inputs():
    from bioplast.ep_model import init_epnet

    k = get_backend("numba", dtype="float64")
    net = init_epnet(k, [4, 3, 2], 0, "mse")
    start = [np.full((2, 3), 0.2), np.full((2, 2), 0.3)]
    copies = [s.copy() for s in start]
    for steps in (1, 2, 3):
        relax(k, net, np.ones((2, 4)), start, steps, "tanh")
        assert all(np.array_equal(a, b) for a, b in zip(start, copies))


def test_leaky_and_plain_relaxation_reach_the_same_fixed_point():
    from bioplast.ep_model import init_epnet

    k = get_backend("numpy", dtype="float64")
    net = init_epnet(k, [8, 6, 4], 0, "mse")
    x = np.random.default_rng(0).random((3, 8))
    zeros = [np.zeros((3, 6)), np.zeros((3, 4))]
    a, ra = relax(k, net, x, zeros, 1000, "tanh", dt=1.0)
    b, rb = relax(k, net, x, zeros, 2000, "tanh", dt=0.3)
    assert ra.residual < 1e-12 and rb.residual < 1e-12
    for u, v in zip(a, b):
        np.testing.assert_allclose(u, v, atol=1e-10)
