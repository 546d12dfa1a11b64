r"""The student–teacher lab for sign-diverse ("curl") learning in two-layer networks.

Student ``ŷ = W₂ φ(W₁ x)`` (``W₁[N, M]``, ``W₂[P, N]``) learns a teacher of
the same architecture (:func:`bioplast.data.teacher_student`) from the
squared error ``L = ½⟨‖ŷ − y‖²⟩``.  One step of the weight-update vector field:

    e = ŷ − y,   δ = (e B) ⊙ φ'(a),   a = W₁ x
    ΔW₂ = −η ⟨e hᵀ⟩ D₂,    ΔW₁ = −η ⟨δ xᵀ⟩ D₁

with ``B = W₂`` (gradient descent) or a fixed random ``B`` (feedback
alignment, Lillicrap et al. 2016), and the sign-flip matrices ``D₁``
(over inputs, presynaptic to the hidden layer) and ``D₂`` (over hidden
units, presynaptic to the readout); ``D = I`` everywhere is GD.  Optional
Frobenius-norm renormalisation after each step keeps ``‖W_l‖_F`` at its
initial value (the protocol of Ninou et al. 2025).

Tools: :func:`update_field` (one evaluation, numpy), :func:`run` (a whole
run: ``backend="numba"`` is one compiled loop, ``"numpy"`` the reference
loop), :func:`curl_magnitude` (antisymmetric part of the field's Jacobian),
:func:`stability_matrix` (linear two-layer case, scalar output).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import ConfigError, DataError
from ..validate import positive, positive_int
from .activations import activation as _activation

ACTS = {"identity": 0, "tanh": 2, "relu": 1}


class Run(NamedTuple):
    w1: np.ndarray
    w2: np.ndarray
    steps: np.ndarray        # the recorded steps (log-spaced)
    train_error: np.ndarray  # ½⟨‖ŷ − y‖²⟩ on the training set at those steps
    test_error: np.ndarray


def _check(w1, w2, x, y, d1, d2, feedback):
    n_hidden, n_in = w1.shape
    if w2.shape[1] != n_hidden:
        raise DataError(f"W2 has shape {w2.shape}, expected ({w2.shape[0]}, {n_hidden}) for W1 of shape {w1.shape}")
    if x.shape[1] != n_in or y.shape[1] != w2.shape[0] or x.shape[0] != y.shape[0]:
        raise DataError(f"data of shapes x {x.shape}, y {y.shape} do not fit a {n_in}-{n_hidden}-{w2.shape[0]} student")
    if d1.shape != (n_in,) or d2.shape != (n_hidden,):
        raise DataError(f"sign masks must have {n_in} (D1, inputs) and {n_hidden} (D2, hidden) entries, "
                        f"got {d1.shape[0]} and {d2.shape[0]}")
    if feedback is not None and feedback.shape != w2.shape:
        raise DataError(f"feedback has shape {feedback.shape}, expected W2's {w2.shape}")


def update_field(w1, w2, x, y, activation: str = "identity", d1=None, d2=None, feedback=None):
    """``(ΔW₁, ΔW₂)`` per unit learning rate (the vector field of the dynamics)."""
    d1 = np.ones(w1.shape[1]) if d1 is None else np.asarray(d1, float)
    d2 = np.ones(w1.shape[0]) if d2 is None else np.asarray(d2, float)
    _check(w1, w2, x, y, d1, d2, feedback)
    act = _activation(activation)
    from .activations import derivative

    a = x @ w1.T
    h = act(np, a)
    e = h @ w2.T - y
    n = x.shape[0]
    delta = (e @ (w2 if feedback is None else feedback)) * derivative(activation)(np, a)
    return -(delta.T @ x / n) * d1[None, :], -(e.T @ h / n) * d2[None, :]


def error(w1, w2, x, y, activation: str = "identity") -> float:
    out = _activation(activation)(np, x @ w1.T) @ w2.T
    return float(0.5 * ((out - y) ** 2).sum(1).mean())


def record_steps(steps: int, n: int = 60) -> np.ndarray:
    """Log-spaced steps ``1 … steps`` (and 0), without repeats."""
    return np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(max(steps, 1)), n)).astype(int)]))


def run(w1, w2, task, lr: float, steps: int, d1=None, d2=None, feedback=None, batch: int | None = None,
        renormalise: bool = False, records: int = 60, seed: int = 0, backend: str = "numba") -> Run:
    """Train the student for ``steps`` steps (full batch, or minibatches of ``batch`` drawn from ``seed``)."""
    x, y, xt, yt = (np.ascontiguousarray(a, dtype=np.float64) for a in (task.x_train, task.y_train,
                                                                        task.x_test, task.y_test))
    w1, w2 = np.array(w1, dtype=np.float64), np.array(w2, dtype=np.float64)
    d1 = np.ones(w1.shape[1]) if d1 is None else np.asarray(d1, np.float64)
    d2 = np.ones(w1.shape[0]) if d2 is None else np.asarray(d2, np.float64)
    _check(w1, w2, x, y, d1, d2, feedback)
    positive("lr", lr)
    positive_int("steps", steps)
    if task.activation not in ACTS:
        from ..errors import unknown_name

        raise unknown_name("activation", task.activation, ACTS)
    batch = x.shape[0] if batch is None else positive_int("batch", batch)
    if batch > x.shape[0]:
        raise ConfigError(f"batch {batch} exceeds the {x.shape[0]} training samples")
    at = record_steps(steps, records)
    fb = np.zeros((1, 1)) if feedback is None else np.ascontiguousarray(feedback, dtype=np.float64)
    order = np.random.default_rng(seed).integers(0, x.shape[0], size=(steps, batch)) if batch < x.shape[0] \
        else np.zeros((1, 1), dtype=np.int64)
    if backend == "numba":
        from ..backends import numba_kernels as nk

        tr, te = nk.two_layer_run(w1, w2, x, y, xt, yt, ACTS[task.activation], lr, steps, d1, d2, fb,
                                  feedback is not None, order, batch < x.shape[0], renormalise, at)
        return Run(w1, w2, at, tr, te)
    if backend != "numpy":
        raise ConfigError(f"the lab runs on 'numba' (fused) or 'numpy' (reference loop), got {backend!r}")
    norms = (np.linalg.norm(w1), np.linalg.norm(w2))
    tr, te = [], []
    k = 0
    for t in range(steps + 1):
        if k < len(at) and at[k] == t:
            tr.append(error(w1, w2, x, y, task.activation))
            te.append(error(w1, w2, xt, yt, task.activation))
            k += 1
        if t == steps:
            break
        xb, yb = (x[order[t]], y[order[t]]) if batch < x.shape[0] else (x, y)
        g1, g2 = update_field(w1, w2, xb, yb, task.activation, d1, d2, feedback)
        w1, w2 = w1 + lr * g1, w2 + lr * g2
        if renormalise:
            w1, w2 = w1 * (norms[0] / np.linalg.norm(w1)), w2 * (norms[1] / np.linalg.norm(w2))
    return Run(w1, w2, at, np.array(tr), np.array(te))


def curl_magnitude(w1, w2, x, y, activation: str = "identity", d1=None, d2=None, feedback=None,
                   eps: float = 1e-6) -> float:
    """``ρ = ‖(J − Jᵀ)/2‖_F / ‖J‖_F`` for the Jacobian ``J`` of the update field over all weights
    (central differences).  ``ρ = 0`` for any gradient flow (J is minus a Hessian)."""
    shapes = (w1.shape, w2.shape)
    theta = np.concatenate([w1.ravel(), w2.ravel()]).astype(np.float64)

    def field(t):
        a, b = t[:w1.size].reshape(shapes[0]), t[w1.size:].reshape(shapes[1])
        g1, g2 = update_field(a, b, x, y, activation, d1, d2, feedback)
        return np.concatenate([g1.ravel(), g2.ravel()])

    jac = np.empty((theta.size, theta.size))
    for i in range(theta.size):
        step = np.zeros_like(theta)
        step[i] = eps
        jac[:, i] = (field(theta + step) - field(theta - step)) / (2 * eps)
    return float(np.linalg.norm((jac - jac.T) / 2) / np.linalg.norm(jac))


def stability_matrix(w1, w2, d1, d2) -> np.ndarray:
    """``A = ‖w₂‖² D₁ + W₁ᵀ D₂ W₁`` for the linear two-layer student with one output at a solution
    (``W₁ᵀw₂ = w*``): the error ``e = W₁ᵀw₂ − w*`` then follows ``ė = −η A e`` for white inputs,
    so the solution attracts nearby weights iff ``λ_min(A) > 0`` (A is symmetric).  A local
    statement: from a repelling point learning may still reach another, stable point of the manifold."""
    w2 = np.asarray(w2, float).ravel()
    return (w2 @ w2) * np.diag(np.asarray(d1, float)) + w1.T @ np.diag(np.asarray(d2, float)) @ w1


def stability_fraction(c: float, fraction: float, flips: str = "inputs", n_hidden: int = 200, trials: int = 20,
                       seed: int = 0) -> float:
    """Share of random linear teachers whose own weights stay a stable solution under sign flips.

    Teacher (= the solution point): ``W₁ ~ N(0, 1/M)`` (``N × M``, ``M = round(c N)``,
    ``c`` = inputs/hidden), ``w₂ ~ N(0, 1/N)``, one output — the normalisation of
    :func:`bioplast.data.teacher_student`.  ``flips="inputs"`` flips ``round(fraction·M)``
    entries of ``D₁`` (hidden-layer plasticity), ``"hidden"`` flips ``D₂`` (readout
    plasticity); stable means ``λ_min(A) > 0`` (:func:`stability_matrix`).
    """
    from ..errors import unknown_name

    if flips not in ("inputs", "hidden"):
        raise unknown_name("flip population", flips, ("inputs", "hidden"))
    positive("c", c)
    rng = np.random.default_rng(seed)
    n = positive_int("n_hidden", n_hidden)
    m = max(1, int(round(c * n)))
    stable = 0
    for _ in range(positive_int("trials", trials)):
        w1 = rng.standard_normal((n, m)) / np.sqrt(m)
        w2 = rng.standard_normal(n) / np.sqrt(n)
        size = m if flips == "inputs" else n
        d = np.ones(size)
        d[rng.permutation(size)[:int(round(fraction * size))]] = -1.0
        d1, d2 = (d, np.ones(n)) if flips == "inputs" else (np.ones(m), d)
        stable += np.linalg.eigvalsh(stability_matrix(w1, w2, d1, d2)).min() > 0
    return stable / trials


def critical_fraction(c: float, flips: str = "inputs", n_hidden: int = 100, trials: int = 10, seed: int = 0,
                      grid=None) -> float:
    """The smallest flip fraction at which fewer than half the teachers stay stable (1.0 if none)."""
    grid = np.linspace(0, 1, 51) if grid is None else grid
    for f in grid:
        if stability_fraction(c, f, flips, n_hidden, trials, seed) < 0.5:
            return float(f)
    return 1.0
