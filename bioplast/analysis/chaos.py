r"""Chaos in learning dynamics: the largest Lyapunov exponent and a non-convergence order parameter.

For the student–teacher lab (:mod:`bioplast.dynamics.student_teacher`), the
weights ``θ = (W₁, W₂)`` follow the map ``θ ← θ + η F(θ)`` (optionally
renormalised).  Ninou, Kadmon & Cayco-Gajic (2025) show that beyond a
critical amount of sign flips the solution manifold loses stability and
learning can wander chaotically; these two measurements tell the regimes apart.

* :func:`lyapunov_exponent` — Benettin et al. (1980, Meccanica 15:9): follow a
  reference trajectory and a companion at distance ``ε``; after every step
  accumulate ``log(d/ε)`` and pull the companion back to distance ``ε`` along
  the separation.  ``λ = Σ log(d/ε) / (steps · η)`` is the exponent per unit
  of learning time ``t = η · step`` (per-step: multiply by η).  ``λ < 0``:
  nearby learners converge together; ``λ > 0`` with bounded weights: chaos.
* :func:`nonconvergence` — start a student next to the teacher's solution
  and report ``q = log₁₀(E_final / E_start)`` (training error): ``q < 0`` the
  solution attracts, ``q > 0`` learning leaves it.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.dynamics.student_teacher import error, run, update_field
from bioplast.validate import positive, positive_int


class Lyapunov(NamedTuple):
    exponent: float  # per unit learning time
    final_error: float  # training error of the reference trajectory at the end
    convergence: np.ndarray  # running estimate after each tenth of the steps (a check that it settled)


def _norm(a, b):
    return float(np.sqrt((a * a).sum() + (b * b).sum()))


def lyapunov_exponent(
    w1,
    w2,
    task,
    lr: float,
    steps: int,
    d1=None,
    d2=None,
    feedback=None,
    renormalise: bool = True,
    eps: float = 1e-7,
    seed: int = 0,
) -> Lyapunov:
    """Largest Lyapunov exponent of full-batch learning from ``(w1, w2)`` (float64, numpy)."""
    positive("lr", lr)
    positive_int("steps", steps)
    positive("eps", eps)
    x, y, act = task.x_train, task.y_train, task.activation
    a1, a2 = np.array(w1, dtype=np.float64), np.array(w2, dtype=np.float64)
    rng = np.random.default_rng(seed)
    v1, v2 = rng.standard_normal(a1.shape), rng.standard_normal(a2.shape)
    scale = eps / _norm(v1, v2)
    b1, b2 = a1 + v1 * scale, a2 + v2 * scale
    norms = (np.linalg.norm(a1), np.linalg.norm(a2))

    def step(p1, p2):
        g1, g2 = update_field(p1, p2, x, y, act, d1, d2, feedback, task.readout)
        p1, p2 = p1 + lr * g1, p2 + lr * g2
        if renormalise:
            p1, p2 = p1 * (norms[0] / np.linalg.norm(p1)), p2 * (norms[1] / np.linalg.norm(p2))
        return p1, p2

    total, marks = 0.0, []
    for t in range(1, steps + 1):
        a1, a2 = step(a1, a2)
        b1, b2 = step(b1, b2)
        s1, s2 = b1 - a1, b2 - a2
        d = _norm(s1, s2)
        total += np.log(d / eps)
        b1, b2 = a1 + s1 * (eps / d), a2 + s2 * (eps / d)
        if t % max(steps // 10, 1) == 0:
            marks.append(total / (t * lr))
    return Lyapunov(total / (steps * lr), error(a1, a2, x, y, act, task.readout), np.array(marks))


def nonconvergence(
    task,
    lr: float,
    steps: int,
    d1=None,
    d2=None,
    feedback=None,
    renormalise: bool = True,
    perturbation: float = 1e-3,
    seed: int = 0,
) -> float:
    """``q = log₁₀(E_final / E_start)`` for a student started at the teacher plus Gaussian noise of
    standard deviation ``perturbation`` per weight."""
    rng = np.random.default_rng(seed)
    w1 = task.w1 + perturbation * rng.standard_normal(task.w1.shape)
    w2 = task.w2 + perturbation * rng.standard_normal(task.w2.shape)
    r = run(w1, w2, task, lr, steps, d1, d2, feedback, renormalise=renormalise, records=2)
    return float(np.log10(r.train_error[-1] / r.train_error[0]))
