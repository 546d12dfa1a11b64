"""Feed-forward networks ``h_l = ρ(W_l h_{l−1} + b_l)`` with a linear output layer.

Parameters are plain lists of backend arrays (``W_l[n_l, n_{l−1}]``,
``b_l[n_l]``) so rules and transforms treat them like any other weights.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from bioplast.dynamics.activations import activation as _activation
from bioplast.dynamics.autograd import AutogradBridge
from bioplast.errors import ConfigError, unknown_name
from bioplast.optional import require

LOSSES = ("cross_entropy", "mse")


class MLPParams(NamedTuple):
    weights: list
    biases: list


INITS = ("glorot", "torch")


def init_mlp(k, sizes, seed: int | Sequence[int], gain: float = 1.0, scheme: str = "glorot") -> MLPParams:
    """Uniform init drawn on the host from ``seed``, so every backend starts from identical weights.

    ``glorot``: ``W ~ U(±gain·√(6/(n_in+n_out)))``, ``b = 0``.
    ``torch``: PyTorch's ``nn.Linear`` default, ``W, b ~ U(±gain/√n_in)`` (the
    init of the published EP reference code).
    """
    if len(sizes) < 2 or any((not isinstance(n, (int, np.integer))) or n <= 0 for n in sizes):
        raise ConfigError(f"layer sizes must be >= 2 positive integers, got {list(sizes)}")
    if scheme not in INITS:
        raise unknown_name("init scheme", scheme, INITS)
    rng = np.random.default_rng(seed)
    ws, bs = [], []
    for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
        if scheme == "glorot":
            bound = gain * np.sqrt(6.0 / (n_in + n_out))
            ws.append(k.asarray(rng.uniform(-bound, bound, size=(n_out, n_in))))
            bs.append(k.zeros((n_out,)))
        else:
            bound = gain / np.sqrt(n_in)
            ws.append(k.asarray(rng.uniform(-bound, bound, size=(n_out, n_in))))
            bs.append(k.asarray(rng.uniform(-bound, bound, size=n_out)))
    return MLPParams(ws, bs)


def forward(k, params: MLPParams, x, activation: str, node_noise=None):
    """Return ``(inputs, output)``: ``inputs[l]`` is what layer ``l`` reads.

    ``node_noise(l, h, n_l)``, when given, returns noise ``[B, n_l]`` added to layer ``l``'s drive
    ``a_l = W_l h + b_l`` before the nonlinearity (node perturbation, device read noise)."""
    act = _activation(activation)
    xp = k.xp
    h = x
    inputs = []
    last = len(params.weights) - 1
    for i, (w, b) in enumerate(zip(params.weights, params.biases, strict=True)):
        inputs.append(h)
        a = k.linear(h, w, b)
        if node_noise is not None:
            a = a + node_noise(i, h, int(w.shape[0]))
        h = a if i == last else act(xp, a)
    return inputs, h


def combine_noise(*hooks):
    """One ``node_noise`` hook that adds the noise of every hook given (``None`` entries are skipped)."""
    hooks = [h for h in hooks if h is not None]
    if len(hooks) <= 1:
        return hooks[0] if hooks else None
    return lambda i, h, n: sum(hook(i, h, n) for hook in hooks)


def sample_losses(k, out, target, loss: str):
    """Per-sample loss ``[B]`` on backend arrays (the batch mean is what :func:`torch_loss` gives):
    ``cross_entropy`` = ``−log softmax(out)_y`` (clipped at 1e-30), ``mse`` = ``½‖out − t‖²``."""
    if loss == "cross_entropy":
        return -k.xp.log(k.clip((k.softmax(out) * target).sum(1), 1e-30, 1.0))
    if loss == "mse":
        return ((out - target) ** 2).sum(1) * 0.5

    raise unknown_name("loss", loss, LOSSES)


def torch_activation(name: str):
    torch = require("torch", "autograd through the forward pass")

    f = _activation(name)
    return lambda x: f(torch, x)


def torch_loss(name: str):
    """Batch-mean loss on torch tensors: ``cross_entropy`` (targets one-hot) or ``mse`` (½‖·‖²)."""
    torch = require("torch", "autograd through the forward pass")

    if name == "cross_entropy":
        return lambda out, t: -(t * torch.log_softmax(out, dim=1)).sum(1).mean()
    if name == "mse":
        return lambda out, t: 0.5 * ((out - t) ** 2).sum(1).mean()

    raise unknown_name("loss", name, LOSSES)


def backprop_errors(k, params, x, target, activation: str, loss: str, feedback=None, node_noise=None):
    """Return ``(inputs, errors, loss_value)`` of an MLP by torch autograd.

    ``inputs[l]`` is the input to layer ``l`` (``inputs[0] = x``) and
    ``errors[l] = −B ∂L/∂a_l``.  With ``feedback`` (one fixed matrix per layer, the shape of
    its weights; the first is unused) the errors below the output travel through those
    matrices instead of the transposed weights (feedback alignment).  ``node_noise`` adds noise to
    each layer's drive in the forward pass (as in :func:`~bioplast.dynamics.feedforward.forward`;
    device read noise), treated as a constant by the backward pass.  Works for every backend:
    numpy arrays go to CPU torch for the backward pass and come back as backend arrays.
    """
    torch = require("torch", "the backward pass of backprop and feedback alignment")

    act = torch_activation(activation)
    with AutogradBridge(k, x) as bridge, torch.enable_grad():
        to_t = bridge.to_torch
        h = to_t(x)
        inputs, pre_acts = [], []
        last = len(params.weights) - 1
        for i, (w, b) in enumerate(zip(params.weights, params.biases, strict=True)):
            inputs.append(h)
            # leaf copies that require grad make every pre-activation part of the graph
            a = torch.nn.functional.linear(h, to_t(w).detach().requires_grad_(True), to_t(b).detach())
            if node_noise is not None:
                a = a + to_t(node_noise(i, bridge.to_backend(h), int(w.shape[0])))
            pre_acts.append(a)
            h = a if i == last else act(a)
        value = torch_loss(loss)(h, to_t(target))
        if feedback is None:
            grads = torch.autograd.grad(value, pre_acts)
        else:
            grads = [torch.autograd.grad(value, pre_acts[-1], retain_graph=True)[0]]
            for i in range(last - 1, -1, -1):
                a = pre_acts[i].detach().requires_grad_(True)
                slope = torch.autograd.grad(act(a).sum(), a)[0]  # φ'(a_l), whatever φ is
                grads.insert(0, (grads[0] @ to_t(feedback[i + 1])) * slope)
    batch = inputs[0].shape[0]
    return (
        [bridge.to_backend(t) for t in inputs],
        [bridge.to_backend(-batch * g) for g in grads],
        float(value.detach()),
    )
