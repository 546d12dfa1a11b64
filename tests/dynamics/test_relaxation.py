"""The primitive-function dynamics against the Hopfield energy (independent autograd)."""
import numpy as np
import torch

from bioplast import get_backend
from bioplast.dynamics import init_mlp
from bioplast.dynamics.relaxation import EPNet, Nudge, drives


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
