r"""Relaxation of a layered network to its fixed point (the dynamics of EP).

Layers ``s_0 = x`` (clamped), ``s_1 … s_L``; bottom-up weights
``W_l[n_l, n_{l−1}]``, biases ``b_l``; top-down weights ``B_l[n_{l−1}, n_l]``
(``l ≥ 2``).  One relaxation step updates every layer at once from the
previous states (synchronous), as a leaky integrator with step ``dt``:

    h_l = W_l s_{l−1} + b_l + B_{l+1} s_{l+1}   [+ nudge on the top layer]
    s_l ← s_l + dt (ρ(h_l) − s_l)                (dt = 1: s_l ← ρ(h_l))

**Energy-based (symmetric) networks**, ``B_l = W_lᵀ`` (``EPNet.feedback is
None``): ``h = ∂Φ/∂s`` for the primitive function (Laborieux et al. 2021)

    Φ(x, s; θ) = Σ_l s_lᵀ (W_l s_{l−1} + b_l),

so ``s ← ρ(∂Φ/∂s)``.  Relation to the energy form of Scellier & Bengio
(2017): for the Hopfield-like energy ``E = ½Σ‖s_l‖² − Φ`` the projected
energy descent ``s ← ρ(s − ε ∂E/∂s)`` with ``ε = 1`` is the same update,
since ``s − ∂E/∂s = ∂Φ/∂s`` (``Φ = ½‖s‖² − E``; tested against autograd).
With ``dt < 1`` the states follow the leaky-integrator dynamics
``ds/dt = ρ(h) − s`` (Euler), whose fixed points are the same.

**Vector-field (non-symmetric) networks**, ``B_l ≠ W_lᵀ``: no energy exists;
the fixed point is a zero of ``F(s) = ρ(h(s)) − s`` (Scellier et al. 2018,
"Generalization of Equilibrium Propagation to Vector Field Dynamics";
Laborieux & Zenke 2024).

**Nudging** (the top layer only), cost ``C`` with strength ``β``:

* ``mse``: ``C = ½‖s_L − y‖²`` → ``h_L −= β (s_L − y)``;
* ``cross_entropy`` (Laborieux et al. 2021): a softmax readout
  ``p = softmax(W_o s_L + b_o)`` outside the energy, ``C = −Σ y log p`` →
  ``h_L += β W_oᵀ (y − p)``.

States may be complex (holomorphic EP, complex ``β``): every operation here
is holomorphic for holomorphic ``ρ``.  The numba backend runs real-valued
relaxations in one fused compiled loop; other backends and
complex states use the step loop below, written against the kernel
vocabulary (the same code on CPU and CUDA torch).  A backend with a fused relaxation kernel
(``k.fused("relax")``, numba) receives the network lowered into arrays.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bioplast.dynamics.activations import activation as _activation
from bioplast.errors import ConfigError, DivergenceError, unknown_name
from bioplast.rules.eqprop import COSTS
from bioplast.validate import positive_int


class EPNet(NamedTuple):
    """Parameters of a layered EP network (lists of backend arrays).

    ``feedback[l − 2] = B_l[n_{l−1}, n_l]`` for ``l = 2 … L``, or ``None`` for
    the symmetric, energy-based network (``B_l = W_lᵀ``).  ``readout`` is
    ``(W_o[C, n_L], b_o[C])`` for the cross-entropy cost, else ``None``.
    """

    weights: list
    biases: list
    feedback: list | None = None
    readout: tuple | None = None


class Nudge(NamedTuple):
    """The output nudge of a phase: strength ``beta`` (real or complex), one-hot ``target``, ``cost``."""

    beta: Any
    target: Any
    cost: str = "mse"


class RelaxReport(NamedTuple):
    phase: str
    steps: int
    residual: float  # max |s_t − s_{t−1}| at the last step


def _softmax(xp, z):
    # shift by the real part's row maximum: softmax is shift-invariant, so the
    # result stays holomorphic in z while the exponentials cannot overflow
    zr = z.real
    m = zr.max(1, keepdims=True) if xp is np else zr.amax(1, keepdim=True)
    e = xp.exp(z - m)
    return e / e.sum(1, keepdims=True) if xp is np else e / e.sum(1, keepdim=True)


def _readout(net: EPNet) -> tuple:
    """``(W_o, b_o)``: the readout the cross-entropy cost needs."""
    if net.readout is None:
        raise ConfigError("the cross_entropy cost needs a readout (W_o, b_o); got none")
    return net.readout


def readout_probs(k, net: EPNet, top):
    """``softmax(W_o s_L + b_o)``: the cross-entropy readout's class probabilities."""
    w_o, b_o = _readout(net)
    return _softmax(k.xp, k.linear(top, w_o, b_o))


def output(k, net: EPNet, states):
    """The network's prediction from its states: ``s_L`` (mse) or the readout logits."""
    if net.readout is None:
        return states[-1]
    return k.linear(states[-1], net.readout[0], net.readout[1])


def nudge_drive(k, net: EPNet, top, nudge: Nudge):
    """``−β ∂C/∂s_L``, added to the top layer's drive."""
    if nudge.cost == "mse":
        return (top - nudge.target) * (-nudge.beta)
    return k.linear(nudge.target - readout_probs(k, net, top), _readout(net)[0].T) * nudge.beta


def drives(k, net: EPNet, x, states, nudge: Nudge | None = None, input_drive=None):
    """``h_l`` for every layer (``∂Φ_β/∂s_l`` in the symmetric case), a list like ``states``.

    ``input_drive`` is ``W_1 x + b_1``, constant during a phase: pass it to
    skip recomputing the (usually largest) product every step.
    """
    n = len(states)
    out = []
    for l in range(n):
        if l == 0 and input_drive is not None:
            d = input_drive
        else:
            d = k.linear(x if l == 0 else states[l - 1], net.weights[l], net.biases[l])
        if l + 1 < n:
            down = net.weights[l + 1].T if net.feedback is None else net.feedback[l]
            d = d + k.linear(states[l + 1], down)
        if l == n - 1 and nudge is not None and nudge.beta != 0:
            d = d + nudge_drive(k, net, states[l], nudge)
        out.append(d)
    return out


def relax(
    k,
    net: EPNet,
    x,
    states,
    steps: int,
    activation: str,
    *,
    nudge: Nudge | None = None,
    dt: float = 1.0,
    phase: str = "free",
    tol: float | None = None,
    input_drive=None,
    read_noise=None,
):
    """Run ``steps`` synchronous updates ``s ← s + dt (ρ(h(s)) − s)``.

    ``input_drive`` (optional) is ``W_1 x + b_1``, the same in every phase of
    a batch: pass it to compute the largest product once per batch.
    Returns ``(states, RelaxReport)``.  Non-finite states, or a final
    residual above ``tol`` when ``tol`` is given, raise
    :class:`~bioplast.errors.DivergenceError` naming the phase and step.
    Finiteness is checked once per phase, not per step (it costs a scan).
    ``read_noise(states, x)`` (optional) returns per-layer noise added to the drives at every step
    (noisy device reads); the step loop then runs generically, not fused.
    """
    positive_int(f"{phase} steps", steps)
    act = _activation(activation)
    if input_drive is None:
        input_drive = k.linear(x, net.weights[0], net.biases[0])
    fused = k.fused("relax") if read_noise is None else None
    result = _relax_fused(fused, net, input_drive, states, steps, activation, nudge, dt) if fused is not None else None
    if result is not None:
        states, residual = result
    else:
        states, residual = _relax_steps(k, net, x, states, steps, act, nudge, dt, input_drive, read_noise)
    if not np.isfinite(residual):
        raise DivergenceError(f"relaxation produced non-finite states in the {phase} phase by step {steps}")
    if tol is not None and residual > tol:
        raise DivergenceError(
            f"relaxation did not converge in the {phase} phase: residual {residual:.3g} "
            f"after {steps} steps exceeds tol {tol:g}"
        )
    return states, RelaxReport(phase, steps, residual)


def _relax_fused(kernel, net: EPNet, input_drive, states, steps, activation, nudge, dt):
    """The network lowered into the fused kernel's arrays (``k.fused("relax")``): per layer the matrix
    whose product with ``s_{l+1}`` is its top-down drive (``W_{l+1}``, or ``B_{l+1}ᵀ`` for a
    vector-field network; the top layer's is unused), the constant drives (the input drive, the
    biases as rows), the nudge.  ``None`` where the kernel declines."""
    n = len(net.weights)
    downs = [net.weights[l + 1] if net.feedback is None else net.feedback[l].T for l in range(n - 1)]
    downs.append(net.weights[0])  # a placeholder of the right dtype: the top layer has no layer above
    base = [input_drive] + [b.reshape(1, -1) for b in net.biases[1:]]
    beta = 0.0 if nudge is None else nudge.beta
    nudged = nudge is not None and beta != 0
    return kernel(
        net.weights,
        downs,
        base,
        states,
        steps,
        activation,
        dt,
        beta,
        nudge.target if nudged else None,
        nudge.cost if nudged else "mse",
        net.readout,
    )


def _relax_steps(k, net, x, states, steps, act, nudge, dt, input_drive, read_noise=None):
    xp = k.xp
    prev = states
    for _ in range(steps):
        h = drives(k, net, x, states, nudge, input_drive)
        if read_noise is not None:
            h = [d + n for d, n in zip(h, read_noise(states, x), strict=True)]
        prev, states = (
            states,
            (
                [act(xp, d) for d in h]
                if dt == 1.0
                else [s + (act(xp, d) - s) * dt for s, d in zip(states, h, strict=True)]
            ),
        )
    residual = max(float(abs(k.to_numpy(s - p)).max()) for s, p in zip(states, prev, strict=True))
    return states, residual


def check_net(net: EPNet, x_dim: int, target_dim: int | None = None, cost: str = "mse") -> None:
    """Layer sizes must chain and match the data; feedback and readout must fit the layers."""
    weights = net.weights
    if cost not in COSTS:
        raise unknown_name("cost", cost, COSTS)
    if weights[0].shape[1] != x_dim:
        raise ConfigError(f"first layer expects {weights[0].shape[1]} inputs but the data has {x_dim} features")
    for l in range(1, len(weights)):
        if weights[l].shape[1] != weights[l - 1].shape[0]:
            raise ConfigError(
                f"layer {l} expects {weights[l].shape[1]} inputs but layer {l - 1} has {weights[l - 1].shape[0]} units"
            )
    if net.feedback is not None:
        if len(net.feedback) != len(weights) - 1:
            raise ConfigError(
                f"feedback needs {len(weights) - 1} matrices (one per layer above the first), got {len(net.feedback)}"
            )
        for l, (b, w) in enumerate(zip(net.feedback, weights[1:], strict=True)):
            if tuple(b.shape) != tuple(w.shape[::-1]):
                raise ConfigError(
                    f"feedback matrix {l} has shape {tuple(b.shape)}, expected "
                    f"{tuple(w.shape[::-1])} (the transpose of layer {l + 1}'s weights)"
                )
    if cost == "cross_entropy":
        if net.readout is None:
            raise ConfigError("the cross_entropy cost needs a readout (W_o, b_o); got none")
        if net.readout[0].shape[1] != weights[-1].shape[0]:
            raise ConfigError(
                f"readout expects {net.readout[0].shape[1]} inputs but the top layer has {weights[-1].shape[0]} units"
            )
        out_dim = net.readout[0].shape[0]
    else:
        out_dim = weights[-1].shape[0]
    if target_dim is not None and out_dim != target_dim:
        raise ConfigError(f"output layer has {out_dim} units but targets have {target_dim} columns")
