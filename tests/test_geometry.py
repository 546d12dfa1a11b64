"""Geometry transforms against independent implementations."""
import numpy as np
import pytest
import torch

from bioplast import ConfigError, get_backend
from bioplast.geometry import adam, optimizer
from bioplast.testing import assert_close


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_adam_matches_torch_optim_adam(backend):
    """Directions d = −g through our Adam equal torch.optim.Adam steps on g, step by step."""
    k = get_backend(backend, dtype="float64")
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((5, 7))
    grads = [rng.standard_normal((5, 7)) * (1 + t) for t in range(12)]
    ref = torch.nn.Parameter(torch.tensor(w0))
    opt = torch.optim.Adam([ref], lr=3e-3, betas=(0.8, 0.99), eps=1e-7)
    t = adam(3e-3, b1=0.8, b2=0.99, eps=1e-7)
    w = k.asarray(w0)
    state = t.init(k, w)
    for g in grads:
        ref.grad = torch.tensor(g)
        opt.step()
        u, state = t.update(k, k.asarray(-g), state, w)
        w = k.add(w, u)
        assert_close(w, ref.detach().numpy(), dtype="float64", reduction=1, what=f"{backend} adam")


def test_optimizer_by_name():
    assert optimizer("sgd", 0.1).name == "additive(0.1)"
    assert optimizer("adam", 0.1).name == "adam(0.1)"
    with pytest.raises(ConfigError, match="unknown optimizer 'adma'; did you mean 'adam'"):
        optimizer("adma", 0.1)
    with pytest.raises(ConfigError, match="lr must be a finite number > 0"):
        adam(-1)
