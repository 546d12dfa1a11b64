r"""The student–teacher lab for sign-diverse ("curl") learning in two-layer networks.

Student ``ŷ = ψ(W₂ φ(W₁ x))`` (``W₁[N, M]``, ``W₂[P, N]``, readout ``ψ``
identity or the hidden nonlinearity) learns a teacher of the same
architecture (:func:`bioplast.data.teacher_student`); errors are reported as
``E = ½⟨‖ŷ − y‖²⟩``.  One step of the weight-update vector field:

    e = ŷ − y,   δ = (e B) ⊙ φ'(a),   a = W₁ x,   h = φ(a)
    ΔW₂ = −η ⟨e hᵀ⟩ D₂,    ΔW₁ = −η ⟨δ xᵀ⟩ D₁

For a linear readout this is gradient descent on ``E``; with ``ψ`` nonlinear
it is gradient descent on the matching loss ``Σ ∫(ψ − y)`` of ``ψ`` (no
``ψ'`` factor), as in the reference code of Ninou et al. (2025).

with ``B = W₂`` (gradient descent) or a fixed random ``B`` (feedback
alignment, Lillicrap et al. 2016), and the sign-flip matrices ``D₁``
(over inputs, presynaptic to the hidden layer) and ``D₂`` (over hidden
units, presynaptic to the readout); ``D = I`` everywhere is GD.  Optional
Frobenius-norm renormalisation after each step keeps ``‖W_l‖_F`` at its
initial value (the protocol of Ninou et al. 2025).

Tools: :func:`update_field` (one evaluation, numpy); :func:`sweep` (many
whole runs at once: ``backend="numba"`` one compiled kernel parallel over
runs, ``"torch"`` one batched computation on CPU or CUDA, ``"numpy"`` the
reference loop) and :func:`run` (one run); :func:`bioplast.analysis.curl_field.curl_magnitude`
(antisymmetric part of the field's Jacobian); :func:`stability_matrix`
(linear two-layer case, scalar output) and the phase-diagram helpers.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.backends import Backend, get_backend
from bioplast.backends.sweep_tables import ACTIVATION_CODES, SweepData, SweepRuns, SweepSettings
from bioplast.dynamics.activations import activation as _activation
from bioplast.dynamics.activations import derivative
from bioplast.errors import ConfigError, DataError, unknown_name
from bioplast.optional import require
from bioplast.validate import positive, positive_int

ACTS = ACTIVATION_CODES


class Run(NamedTuple):
    w1: np.ndarray
    w2: np.ndarray
    steps: np.ndarray  # the recorded steps (log-spaced)
    train_error: np.ndarray  # ½⟨‖ŷ − y‖²⟩ on the training set at those steps
    test_error: np.ndarray


class Sweep(NamedTuple):
    """``R`` runs over one task: ``w1[R, N, M]``, ``w2[R, P, N]``, errors ``[R, len(steps)]``."""

    w1: np.ndarray
    w2: np.ndarray
    steps: np.ndarray
    train_error: np.ndarray
    test_error: np.ndarray

    def one(self, r: int) -> Run:
        """Run ``r`` of the sweep."""
        return Run(self.w1[r], self.w2[r], self.steps, self.train_error[r], self.test_error[r])


def _check(w1, w2, x, y, d1, d2, feedback):
    n_hidden, n_in = w1.shape[-2:]
    if w2.shape[-1] != n_hidden or w2.ndim != w1.ndim:
        raise DataError(f"W2 has shape {w2.shape}, expected (…, {w2.shape[-2]}, {n_hidden}) for W1 of shape {w1.shape}")
    if x.shape[1] != n_in or y.shape[1] != w2.shape[-2] or x.shape[0] != y.shape[0]:
        raise DataError(
            f"data of shapes x {x.shape}, y {y.shape} do not fit a {n_in}-{n_hidden}-{w2.shape[-2]} student"
        )
    if d1.shape[-1] != n_in or d2.shape[-1] != n_hidden:
        raise DataError(
            f"sign masks must have {n_in} (D1, inputs) and {n_hidden} (D2, hidden) entries, "
            f"got {d1.shape[-1]} and {d2.shape[-1]}"
        )
    if feedback is not None and feedback.shape[-2:] != w2.shape[-2:]:
        raise DataError(f"feedback has shape {feedback.shape}, expected W2's {w2.shape[-2:]}")


def update_field(
    w1, w2, x, y, activation: str = "identity", d1=None, d2=None, feedback=None, readout: str = "identity"
):
    """``(ΔW₁, ΔW₂)`` per unit learning rate (the vector field of the dynamics)."""
    d1 = np.ones(w1.shape[1]) if d1 is None else np.asarray(d1, float)
    d2 = np.ones(w1.shape[0]) if d2 is None else np.asarray(d2, float)
    _check(w1, w2, x, y, d1, d2, feedback)
    a = x @ w1.T
    h = _activation(activation)(np, a)
    e = _activation(readout)(np, h @ w2.T) - y
    n = x.shape[0]
    delta = (e @ (w2 if feedback is None else feedback)) * derivative(activation)(np, a)
    return -(delta.T @ x / n) * d1[None, :], -(e.T @ h / n) * d2[None, :]


def error(w1, w2, x, y, activation: str = "identity", readout: str = "identity") -> float:
    out = _activation(readout)(np, _activation(activation)(np, x @ w1.T) @ w2.T)
    return float(0.5 * ((out - y) ** 2).sum(1).mean())


def record_steps(steps: int, n: int = 60) -> np.ndarray:
    """Log-spaced steps ``1 … steps`` (and 0), without repeats."""
    return np.unique(np.concatenate([[0], np.round(np.logspace(0, np.log10(max(steps, 1)), n)).astype(int)]))


_GOLDEN, _MIX1, _MIX2 = (np.uint64(v) for v in (0x9E3779B97F4A7C15, 0xBF58476D1CE4E5B9, 0x94D049BB133111EB))


def _splitmix64(z):
    z = z + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def batch_indices(seed: int, run: int, step: int, batch: int, n: int) -> np.ndarray:
    """The ``batch`` sample indices (with replacement) of ``step`` in ``run``: a counter-based hash
    (splitmix64), the same on every backend, so runs agree sample for sample and a sweep's runs
    draw independent streams without storing them."""
    with np.errstate(over="ignore"):
        key = _splitmix64(np.array([seed], dtype=np.uint64) ^ (np.uint64(run) << np.uint64(32)))
        counters = key + np.uint64(step) * np.uint64(batch) + np.arange(batch, dtype=np.uint64)
        return (_splitmix64(counters) % np.uint64(n)).astype(np.int64)


def _stack(name, value, runs, shape, default):
    """``value`` broadcast to ``[runs, *shape]`` float64 (one shared value or one per run)."""
    a = np.full(shape, default, np.float64) if value is None else np.asarray(value, np.float64)
    if a.shape == tuple(shape):
        return np.array(np.broadcast_to(a, (runs, *shape)))  # a writable copy
    if a.shape == (runs, *shape):
        return np.ascontiguousarray(a)
    raise DataError(f"{name} has shape {a.shape}, expected {tuple(shape)} (shared) or {(runs, *shape)} (one per run)")


def sweep(
    w1,
    w2,
    task,
    lr: float,
    steps: int,
    d1=None,
    d2=None,
    feedback=None,
    batch: int | None = None,
    renormalise: bool = False,
    records: int = 60,
    seed: int = 0,
    backend: str = "numba",
    device: str = "cpu",
    streams=None,
) -> Sweep:
    """``R`` training runs over one task at once: ``w1[R, N, M]``, ``w2[R, P, N]`` initial weights;
    signs ``d1`` / ``d2`` and ``feedback`` either shared or one per run (leading ``R``).

    Full batch, or minibatches of ``batch`` samples (with replacement, from ``seed`` and the run's
    stream: :func:`batch_indices`; ``streams[r]`` defaults to ``r``, equal streams give runs the
    same samples — paired comparisons).  Backends: ``"numba"`` (or any backend object with a fused
    ``two_layer_sweep`` kernel) — one compiled kernel, runs in parallel
    over the cores; ``"torch"`` — one batched computation (``device`` ``"cpu"`` or ``"cuda"``);
    ``"numpy"`` — the reference: a plain loop of :func:`update_field` per run.  All three give the
    same runs (float64) up to rounding.
    """
    w1 = np.array(w1, dtype=np.float64, ndmin=3)
    w2 = np.array(w2, dtype=np.float64, ndmin=3)
    runs, n_hidden, n_in = w1.shape
    if w2.shape[0] != runs:
        raise DataError(f"{runs} runs of W1 but {w2.shape[0]} of W2")
    x, y, xt, yt = (
        np.ascontiguousarray(a, dtype=np.float64) for a in (task.x_train, task.y_train, task.x_test, task.y_test)
    )
    d1 = _stack("D1 (input signs)", d1, runs, (n_in,), 1.0)
    d2 = _stack("D2 (hidden signs)", d2, runs, (n_hidden,), 1.0)
    fb = None if feedback is None else _stack("feedback", feedback, runs, w2.shape[1:], 0.0)
    _check(w1, w2, x, y, d1, d2, fb)
    positive("lr", lr)
    positive_int("steps", steps)
    for name in (task.activation, task.readout):
        if name not in ACTS:
            raise unknown_name("activation", name, ACTS)
    batch = x.shape[0] if batch is None else positive_int("batch", batch)
    if batch > x.shape[0]:
        raise ConfigError(f"batch {batch} exceeds the {x.shape[0]} training samples")
    minibatch = batch < x.shape[0]
    streams = np.arange(runs) if streams is None else np.asarray(streams, dtype=np.int64)
    if streams.shape != (runs,) or (streams < 0).any():
        raise DataError(f"streams must be {runs} non-negative integers (one per run), got shape {streams.shape}")
    at = record_steps(steps, records)
    args = (
        x,
        y,
        xt,
        yt,
        task.activation,
        task.readout,
        lr,
        steps,
        d1,
        d2,
        fb,
        batch,
        minibatch,
        renormalise,
        at,
        seed,
        streams,
    )
    kernel = backend if isinstance(backend, Backend) else get_backend("numba") if backend == "numba" else None
    kernel = None if kernel is None else kernel.fused("two_layer_sweep")
    if kernel is not None:
        runs_ = SweepRuns(w1, w2, d1, d2, np.zeros((1, 1, 1)) if fb is None else fb, fb is not None, streams)
        settings = SweepSettings(
            ACTS[task.activation],
            ACTS[task.readout],
            float(lr),
            int(steps),
            int(batch),
            bool(minibatch),
            bool(renormalise),
            np.asarray(at, dtype=np.int64),
            int(seed),
        )
        tr, te = kernel(runs_, SweepData(x, y, xt, yt), settings)
        return Sweep(w1, w2, at, tr, te)
    if backend == "torch":
        return _sweep_torch(w1, w2, *args, device=device)
    if backend == "numpy":
        out = [
            _run_numpy(
                w1[r], w2[r], *args[:8], d1[r], d2[r], None if fb is None else fb[r], *args[11:-1], run=streams[r]
            )
            for r in range(runs)
        ]
        return Sweep(
            np.stack([o[0] for o in out]),
            np.stack([o[1] for o in out]),
            at,
            np.stack([o[2] for o in out]),
            np.stack([o[3] for o in out]),
        )
    raise unknown_name("lab backend", backend, ("numba", "torch", "numpy"))


def _run_numpy(w1, w2, x, y, xt, yt, act, readout, lr, steps, d1, d2, fb, batch, minibatch, renormalise, at, seed, run):
    norms = (np.linalg.norm(w1), np.linalg.norm(w2))
    tr, te = [], []
    for t in range(steps + 1):
        if t in at:
            tr.append(error(w1, w2, x, y, act, readout))
            te.append(error(w1, w2, xt, yt, act, readout))
        if t == steps:
            break
        rows = batch_indices(seed, run, t, batch, x.shape[0]) if minibatch else slice(None)
        g1, g2 = update_field(w1, w2, x[rows], y[rows], act, d1, d2, fb, readout)
        w1, w2 = w1 + lr * g1, w2 + lr * g2
        if renormalise:
            w1, w2 = w1 * (norms[0] / np.linalg.norm(w1)), w2 * (norms[1] / np.linalg.norm(w2))
    return w1, w2, np.array(tr), np.array(te)


def _sweep_torch(
    w1, w2, x, y, xt, yt, act, readout, lr, steps, d1, d2, fb, batch, minibatch, renormalise, at, seed, streams, device
):
    """All runs as one batched computation: weights ``[R, …]``, products are ``bmm``."""
    torch = require("torch", "the student–teacher sweep on torch")

    phi, dphi, out = _activation(act), derivative(act), _activation(readout)
    dev = torch.device(device)
    t = {k: torch.as_tensor(v, device=dev) for k, v in dict(w1=w1, w2=w2, x=x, y=y, xt=xt, yt=yt, d1=d1, d2=d2).items()}
    w1_, w2_ = t["w1"].clone(), t["w2"].clone()
    back = None if fb is None else torch.as_tensor(fb, device=dev)
    runs = w1.shape[0]
    norms = (w1_.norm(dim=(1, 2), keepdim=True), w2_.norm(dim=(1, 2), keepdim=True))

    def err(xs, ys):
        o = out(torch, torch.matmul(phi(torch, torch.matmul(xs, w1_.transpose(1, 2))), w2_.transpose(1, 2)))
        return (0.5 * ((o - ys) ** 2).sum(-1).mean(-1)).cpu().numpy()

    tr, te = [], []
    with torch.no_grad():
        for step in range(steps + 1):
            if step in at:
                tr.append(err(t["x"], t["y"]))
                te.append(err(t["xt"], t["yt"]))
            if step == steps:
                break
            if minibatch:
                rows = torch.as_tensor(
                    np.stack([batch_indices(seed, r, step, batch, x.shape[0]) for r in streams]), device=dev
                )
                xb, yb = t["x"][rows], t["y"][rows]
            else:
                xb, yb = t["x"].expand(runs, -1, -1), t["y"].expand(runs, -1, -1)
            a = torch.bmm(xb, w1_.transpose(1, 2))
            h = phi(torch, a)
            e = out(torch, torch.bmm(h, w2_.transpose(1, 2))) - yb
            delta = torch.bmm(e, w2_ if back is None else back) * dphi(torch, a)
            scale = lr / batch
            w1_ -= scale * torch.bmm(delta.transpose(1, 2), xb) * t["d1"][:, None, :]
            w2_ -= scale * torch.bmm(e.transpose(1, 2), h) * t["d2"][:, None, :]
            if renormalise:
                w1_ *= norms[0] / w1_.norm(dim=(1, 2), keepdim=True)
                w2_ *= norms[1] / w2_.norm(dim=(1, 2), keepdim=True)
    return Sweep(w1_.cpu().numpy(), w2_.cpu().numpy(), at, np.stack(tr, 1), np.stack(te, 1))


def run(
    w1,
    w2,
    task,
    lr: float,
    steps: int,
    d1=None,
    d2=None,
    feedback=None,
    batch: int | None = None,
    renormalise: bool = False,
    records: int = 60,
    seed: int = 0,
    backend: str = "numba",
) -> Run:
    """Train one student for ``steps`` steps (a :func:`sweep` of one run)."""
    w1, w2 = np.asarray(w1), np.asarray(w2)
    if w1.ndim != 2 or w2.ndim != 2:
        raise DataError(f"run takes one student (2-D W1, W2), got shapes {w1.shape} and {w2.shape}; use sweep()")
    for name, d, n in (("D1", d1, w1.shape[1]), ("D2", d2, w1.shape[0])):
        if d is not None and np.ndim(d) != 1:
            raise DataError(f"{name} must be one sign per neuron ({n}), got shape {np.shape(d)}")
    return sweep(w1, w2, task, lr, steps, d1, d2, feedback, batch, renormalise, records, seed, backend).one(0)


def stability_matrix(w1, w2, d1, d2) -> np.ndarray:
    """``A = ‖w₂‖² D₁ + W₁ᵀ D₂ W₁`` for the linear two-layer student with one output at a solution
    (``W₁ᵀw₂ = w*``): the error ``e = W₁ᵀw₂ − w*`` then follows ``ė = −η A e`` for white inputs,
    so the solution attracts nearby weights iff ``λ_min(A) > 0`` (A is symmetric).  A local
    statement: from a repelling point learning may still reach another, stable point of the manifold."""
    w2 = np.asarray(w2, float).ravel()
    return (w2 @ w2) * np.diag(np.asarray(d1, float)) + w1.T @ np.diag(np.asarray(d2, float)) @ w1


def stability_fraction(
    c: float, fraction: float, flips: str = "inputs", n_hidden: int = 200, trials: int = 20, seed: int = 0
) -> float:
    """Share of random linear teachers whose own weights stay a stable solution under sign flips.

    Teacher (= the solution point): ``W₁ ~ N(0, 1/M)`` (``N × M``, ``M = round(c N)``,
    ``c`` = inputs/hidden), ``w₂ ~ N(0, 1/N)``, one output — the normalisation of
    :func:`bioplast.data.teacher_student`.  ``flips="inputs"`` flips ``round(fraction·M)``
    entries of ``D₁`` (hidden-layer plasticity), ``"hidden"`` flips ``D₂`` (readout
    plasticity); stable means ``λ_min(A) > 0`` (:func:`stability_matrix`).
    """
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
        d[rng.permutation(size)[: int(round(fraction * size))]] = -1.0
        d1, d2 = (d, np.ones(n)) if flips == "inputs" else (np.ones(m), d)
        stable += np.linalg.eigvalsh(stability_matrix(w1, w2, d1, d2)).min() > 0
    return stable / trials


def critical_fraction(
    c: float, flips: str = "inputs", n_hidden: int = 100, trials: int = 10, seed: int = 0, grid=None
) -> float:
    """The smallest flip fraction at which fewer than half the teachers stay stable (1.0 if none)."""
    grid = np.linspace(0, 1, 51) if grid is None else grid
    for f in grid:
        if stability_fraction(c, f, flips, n_hidden, trials, seed) < 0.5:
            return float(f)
    return 1.0
