"""The backprop baseline against central finite differences (independent of autograd)."""
import numpy as np
import pytest

from bioplast import Local, get_backend
from bioplast.dynamics import init_mlp
from bioplast.rules import backprop, backprop_errors


def _loss(params, x, t, act):
    h = x
    for i, (w, b) in enumerate(zip(params.weights, params.biases)):
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
        # central differences: truncation O(h²) ~ 1e-12, rounding ~ eps/h ~ 1e-10
        np.testing.assert_allclose(d, -fd, rtol=1e-6, atol=1e-8)
