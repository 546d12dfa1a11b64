r"""Independent gradients for equilibrium propagation, by torch autograd.

Nothing here shares code with the EP path.  For symmetric networks the
dynamics are derived by autograd from the scalar primitive function
``Φ = Σ_l s_lᵀ (W_l s_{l−1} + b_l)`` (``s ← s + dt(ρ(∂Φ/∂s) − s)``), not from
the hand-written drives of :mod:`bioplast.dynamics.relaxation`; networks with
separate top-down weights ``B_l`` (no Φ exists) step the map
``s_l ← s_l + dt(ρ(W_l s_{l−1} + b_l + B_{l+1} s_{l+1}) − s_l)`` written out in
torch.  The loss is ``½‖s_L − y‖²`` or, with a readout ``(W_o, b_o)``, the
cross-entropy of ``softmax(W_o s_L + b_o)``; both batch means.

* :func:`bptt_gradient` — the comparison of Ernoult et al. (2019),
  "Updates of Equilibrium Prop Match Gradients of Backprop Through Time in
  an RNN with Static Input": relax ``T`` free steps to ``s*``, then unroll
  ``K`` more steps from ``s*`` with the parameters in the graph and
  backpropagate the loss through those ``K`` steps.  EP with ``K`` nudged
  steps equals this as ``β → 0``.
* :func:`implicit_gradient` — recurrent backprop at the fixed point
  (Almeida 1987, Pineda 1987): the same with ``K`` large enough that the
  adjoint has converged, i.e. ``∂L/∂θ = ∂C/∂s (I − J)^{-1} ∂F/∂θ``.
"""

from __future__ import annotations

from typing import NamedTuple

from bioplast.dynamics.feedforward import torch_activation
from bioplast.optional import require


class OracleGradient(NamedTuple):
    """``∂L/∂θ`` (not negated) as float64 numpy arrays, and the free fixed point."""

    weights: list
    biases: list
    feedback: list  # [] for a symmetric network
    readout: list  # [∂L/∂W_o, ∂L/∂b_o], or [] without a readout
    free_states: list


def _phi(weights, biases, x, states):
    total = 0.0
    below = x
    for w, b, s in zip(weights, biases, states, strict=True):
        total = total + (s * (below @ w.T + b)).sum()
        below = s
    return total


def _drive_symmetric(torch, weights, biases, feedback, x, states, create_graph):
    return list(torch.autograd.grad(_phi(weights, biases, x, states), states, create_graph=create_graph))


def _drive_vector_field(torch, weights, biases, feedback, x, states, create_graph):
    below = [x] + states[:-1]
    out = []
    for l, (w, b) in enumerate(zip(weights, biases, strict=True)):
        h = below[l] @ w.T + b
        if l + 1 < len(states):
            h = h + states[l + 1] @ feedback[l].T
        out.append(h)
    return out


def bptt_gradient(
    weights,
    biases,
    x,
    target,
    *,
    free_steps: int,
    bptt_steps: int,
    activation: str = "tanh",
    feedback=None,
    readout=None,
    dt: float = 1.0,
) -> OracleGradient:
    """Backprop through the last ``bptt_steps`` relaxation steps from the free fixed point."""
    import numpy as np

    torch = require("torch", "the EP autograd oracle")

    act = torch_activation(activation)
    drive = _drive_symmetric if feedback is None else _drive_vector_field

    def t(a):
        return torch.as_tensor(np.asarray(a), dtype=torch.float64)

    ws, bs = [t(w) for w in weights], [t(b) for b in biases]
    fs = [t(f) for f in feedback] if feedback is not None else []
    rs = [t(r) for r in readout] if readout is not None else []
    xt, yt = t(x), t(target)

    def step(pw, pb, pf, states, create_graph):
        h = drive(torch, pw, pb, pf, xt, states, create_graph)
        return [s + dt * (act(a) - s) for s, a in zip(states, h, strict=True)]

    states = [torch.zeros(xt.shape[0], w.shape[0], dtype=torch.float64, requires_grad=True) for w in ws]
    with torch.enable_grad():
        for _ in range(free_steps):
            states = [s.detach().requires_grad_(True) for s in step(ws, bs, fs, states, False)]
        free = [s.detach() for s in states]
        groups = [ws, bs, fs, rs]
        params = [[p.clone().requires_grad_(True) for p in g] for g in groups]
        pw, pb, pf, pr = params
        states = [s.clone().requires_grad_(True) for s in free]
        for _ in range(bptt_steps):
            states = step(pw, pb, pf, states, True)
        if readout is None:
            loss = 0.5 * ((states[-1] - yt) ** 2).sum(1).mean()
        else:
            logits = states[-1] @ pr[0].T + pr[1]
            loss = -(yt * torch.log_softmax(logits, dim=1)).sum(1).mean()
        flat = [p for g in params for p in g]
        grads = torch.autograd.grad(loss, flat, allow_unused=True)
    g = [np.zeros(tuple(p.shape)) if gi is None else gi.numpy() for gi, p in zip(grads, flat, strict=True)]
    out, i = [], 0
    for group in params:
        out.append(g[i : i + len(group)])
        i += len(group)
    return OracleGradient(out[0], out[1], out[2], out[3], [s.numpy() for s in free])


def implicit_gradient(
    weights,
    biases,
    x,
    target,
    *,
    free_steps: int,
    activation: str = "tanh",
    adjoint_steps: int = 200,
    feedback=None,
    readout=None,
    dt: float = 1.0,
) -> OracleGradient:
    """Recurrent-backprop gradient at the fixed point (``bptt_gradient`` with a converged adjoint)."""
    return bptt_gradient(
        weights,
        biases,
        x,
        target,
        free_steps=free_steps,
        bptt_steps=adjoint_steps,
        activation=activation,
        feedback=feedback,
        readout=readout,
        dt=dt,
    )


def vector_field_jacobian(weights, feedback, states, activation: str = "tanh"):
    """The Jacobian of ``F(s) = A s + c − ρ⁻¹(s)`` (rate coordinates) of one sample's
    hidden/top states, by autograd of the explicit vector field: ``[n, n]``
    float64 for ``n = Σ_l n_l``.  ``ρ⁻¹`` is taken numerically for tanh (atanh)."""
    import numpy as np

    torch = require("torch", "the EP autograd oracle")

    inverse = {"tanh": torch.atanh, "identity": lambda s: s}[activation]
    sizes = [w.shape[0] for w in weights]
    ws = [torch.as_tensor(np.asarray(w), dtype=torch.float64) for w in weights]
    fs = [torch.as_tensor(np.asarray(f), dtype=torch.float64) for f in feedback]

    def field(flat):
        parts = list(torch.split(flat, sizes))
        out = []
        for l in range(len(parts)):
            h = ws[l] @ parts[l - 1] if l > 0 else torch.zeros(sizes[0], dtype=torch.float64)
            if l + 1 < len(parts):
                h = h + fs[l] @ parts[l + 1]
            out.append(h - inverse(parts[l]))
        return torch.cat(out)

    s = torch.as_tensor(np.concatenate([np.asarray(a) for a in states]), dtype=torch.float64)
    return torch.autograd.functional.jacobian(field, s).numpy()
