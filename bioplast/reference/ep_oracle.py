r"""Independent gradients for equilibrium propagation, by torch autograd.

Nothing here shares code with the EP path: the dynamics are derived by
autograd from the scalar primitive function
``Φ = Σ_l s_lᵀ (W_l s_{l−1} + b_l)`` (``s ← ρ(∂Φ/∂s)``), not from the
hand-written drives of :mod:`bioplast.dynamics.relaxation`.

* :func:`bptt_gradient` — the comparison of Ernoult et al. (2019),
  "Updates of Equilibrium Prop Match Gradients of Backprop Through Time in
  an RNN with Static Input": relax ``T`` free steps to ``s*``, then unroll
  ``K`` more steps from ``s*`` with the parameters in the graph and
  backpropagate the loss ``C(s_L, y) = ½‖s_L − y‖²`` (batch mean) through
  those ``K`` steps.  EP with ``K`` nudged steps equals this as ``β → 0``.
* :func:`implicit_gradient` — recurrent backprop at the fixed point
  (Almeida 1987, Pineda 1987): the same with ``K`` large enough that the
  adjoint has converged, i.e. ``∂L/∂θ = ∂C/∂s (I − J)^{-1} ∂F/∂θ``.
"""
from __future__ import annotations


def _phi(torch, weights, biases, x, states):
    total = 0.0
    below = x
    for w, b, s in zip(weights, biases, states):
        total = total + (s * (below @ w.T + b)).sum()
        below = s
    return total


def _step(torch, act, weights, biases, x, states, create_graph):
    grads = torch.autograd.grad(_phi(torch, weights, biases, x, states), states, create_graph=create_graph)
    return [act(g) for g in grads]


def bptt_gradient(weights, biases, x, target, *, free_steps: int, bptt_steps: int, activation: str = "tanh"):
    """Return ``(grad_W list, grad_b list, free states)`` as float64 numpy arrays (``∂L/∂θ``, not negated)."""
    import numpy as np
    import torch

    from ..dynamics.feedforward import torch_activation

    act = torch_activation(activation)

    def t(a):
        return torch.as_tensor(np.asarray(a), dtype=torch.float64)

    ws = [t(w) for w in weights]
    bs = [t(b) for b in biases]
    xt, yt = t(x), t(target)
    states = [torch.zeros(xt.shape[0], w.shape[0], dtype=torch.float64, requires_grad=True) for w in ws]
    with torch.enable_grad():
        for _ in range(free_steps):
            states = [s.detach().requires_grad_(True) for s in _step(torch, act, ws, bs, xt, states, False)]
        free = [s.detach() for s in states]
        params = [w.clone().requires_grad_(True) for w in ws] + [b.clone().requires_grad_(True) for b in bs]
        pw, pb = params[:len(ws)], params[len(ws):]
        states = [s.clone().requires_grad_(True) for s in free]
        for _ in range(bptt_steps):
            states = _step(torch, act, pw, pb, xt, states, True)
        loss = 0.5 * ((states[-1] - yt) ** 2).sum(1).mean()
        grads = torch.autograd.grad(loss, params)
    g = [gi.numpy() for gi in grads]
    return g[:len(ws)], g[len(ws):], [s.numpy() for s in free]


def implicit_gradient(weights, biases, x, target, *, free_steps: int, activation: str = "tanh",
                      adjoint_steps: int = 200):
    """Recurrent-backprop gradient at the fixed point (``bptt_gradient`` with a converged adjoint)."""
    return bptt_gradient(weights, biases, x, target, free_steps=free_steps, bptt_steps=adjoint_steps,
                         activation=activation)
