"""The backprop baseline against central finite differences (independent of autograd)."""

import numpy as np
import pytest

from bioplast import Local, get_backend
from bioplast.dynamics import init_mlp
from bioplast.dynamics.feedforward import backprop_errors
from bioplast.rules import backprop
from bioplast.testing import tolerance


def _loss(params, x, t, act):
    h = x
    for i, (w, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        a = h @ w.T + b
        h = a if i == len(params.weights) - 1 else {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0)}[act](a)
    z = h - h.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return -(t * logp).sum(1).mean()


@pytest.mark.parametrize("backend_name", ["numpy", "torch"])
def test_backprop_direction_is_minus_gradient(backend_name):
    k = get_backend(backend_name, dtype="float64")
    rng = np.random.default_rng(0)
    params = init_mlp(k, [6, 5, 4, 3], seed=1)
    x = rng.standard_normal((7, 6))
    t = np.eye(3)[rng.integers(0, 3, 7)]
    inputs, errors, _ = backprop_errors(k, params, k.asarray(x), k.asarray(t), "tanh", "cross_entropy")
    rule = backprop()
    host = [k.to_numpy(w).copy() for w in params.weights]
    hb = [k.to_numpy(b).copy() for b in params.biases]
    from bioplast.dynamics.feedforward import MLPParams

    h = 1e-6
    # Central differences at h = 1e-6.  Rounding: each loss passes through reductions over the
    # layers' 6, 5 and 4 inputs, the 3 classes of the softmax and the mean over 7 samples; in the
    # random-walk model their errors add in quadrature, ≤ tolerance(n)·|L| for n the sum of the
    # lengths, so the quotient (L₊ − L₋)/2h is off by ≤ tolerance(n)·|L|/h ≈ 2e-8.  Truncation
    # h²|∂³L|/6 ≈ 2e-13·|∂³L| is negligible next to it (tanh and softmax derivatives are O(1) here).
    n = 6 + 5 + 4 + 3 + 7
    atol = tolerance("float64", n) * abs(_loss(MLPParams(host, hb), x, t, "tanh")) / h
    for layer in range(3):
        d, _ = rule.update(k, Local(inputs[layer], errors[layer], errors[layer]), (), params.weights[layer])
        d = k.to_numpy(d)
        fd = np.zeros_like(host[layer])
        for idx in np.ndindex(*fd.shape):
            plus = [w.copy() for w in host]
            minus = [w.copy() for w in host]
            plus[layer][idx] += h
            minus[layer][idx] -= h
            fd[idx] = (_loss(MLPParams(plus, hb), x, t, "tanh") - _loss(MLPParams(minus, hb), x, t, "tanh")) / (2 * h)
        np.testing.assert_allclose(d, -fd, rtol=0, atol=atol)
