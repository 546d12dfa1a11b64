"""Paper experiments of Ninou, Kadmon & Cayco-Gajic (2025) on the student–teacher lab.

:func:`phase_diagram` — the critical flip fraction against the expansion
ratio ``c = inputs / hidden`` for flips of the hidden layer's plasticity
(``D₁``) and of the readout's (``D₂``): the linear-stability theory at the
teacher's solution (:func:`~.student_teacher.critical_fraction`) beside a
finite-size simulation of full-batch curl descent started next to the
teacher.

:func:`chaos_sweep` — either side of the threshold: the largest Lyapunov
exponent and the non-convergence order parameter of learning against the
fraction of flipped inputs (:mod:`.chaos`).

:mod:`bioplast.experiments.saddle` — the saddle escape with rule-flipped readout neurons
(Fig. 5 of the paper), with its controls.
"""

from __future__ import annotations

import numpy as np

from bioplast.analysis.chaos import lyapunov_exponent, nonconvergence
from bioplast.data import teacher_student
from bioplast.data.teacher import TeacherTask
from bioplast.dynamics import student_teacher as st
from bioplast.dynamics.student_teacher import sweep
from bioplast.errors import ConfigError
from bioplast.rules.curl import flip_signs
from bioplast.validate import positive, positive_int

PHASE_C = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.67, 0.8, 1.0, 1.25, 1.5, 2.0)


def _fractions(fractions) -> np.ndarray:
    f = np.asarray(fractions, dtype=float)
    if f.ndim != 1 or f.size == 0 or ((f < 0) | (f > 1)).any():
        raise ConfigError(f"flip fractions must be a non-empty list of numbers in [0, 1], got {fractions!r}")
    return f


def _critical(fractions, stable_share) -> float:
    """The smallest fraction at which fewer than half the runs are stable (1.0 if none)."""
    below = [f for f, share in zip(fractions, stable_share, strict=True) if share < 0.5]
    return float(below[0]) if below else 1.0


def _simulated_critical(
    c: float, n: int, teachers: int, steps: int, lr: float, fractions, seed: int, backend: str
) -> dict:
    """Simulated and same-size theoretical critical fractions at ``c`` for both flip populations:
    students 1e-4 from each teacher, full-batch curl descent on exactly white inputs (the scaled
    identity), converged = final loss < 1e-12."""

    m = max(1, int(round(c * n)))
    converged = {"inputs": np.zeros(len(fractions)), "hidden": np.zeros(len(fractions))}
    theory = {"inputs": np.zeros(len(fractions)), "hidden": np.zeros(len(fractions))}
    for teacher in range(teachers):
        rng = np.random.default_rng([seed, teacher])
        w1 = rng.standard_normal((n, m)) / np.sqrt(m)
        w2 = rng.standard_normal((1, n)) / np.sqrt(n)
        x = np.sqrt(m) * np.eye(m)
        task = TeacherTask(x, x @ w1.T @ w2.T, x, x @ w1.T @ w2.T, w1, w2, "identity")
        d1, d2, labels = [], [], []
        for pop in ("inputs", "hidden"):
            for i, f in enumerate(fractions):
                d = flip_signs(m if pop == "inputs" else n, f, [seed, teacher, i])
                d1.append(d if pop == "inputs" else np.ones(m))
                d2.append(d if pop == "hidden" else np.ones(n))
                labels.append((pop, i))
                theory[pop][i] += np.linalg.eigvalsh(st.stability_matrix(w1, w2, d1[-1], d2[-1])).min() > 0
        runs = len(labels)
        start1 = w1 + 1e-4 * rng.standard_normal((runs, n, m))
        start2 = w2 + 1e-4 * rng.standard_normal((runs, 1, n))
        with np.errstate(over="ignore", invalid="ignore"):  # unstable runs may overflow: not converged
            final = sweep(
                start1, start2, task, lr, steps, np.array(d1), np.array(d2), records=2, backend=backend
            ).train_error[:, -1]
        for (pop, i), loss in zip(labels, final, strict=True):
            converged[pop][i] += loss < 1e-12
    return {f"sim_{p}": _critical(fractions, converged[p] / teachers) for p in converged} | {
        f"theory_small_{p}": _critical(fractions, theory[p] / teachers) for p in theory
    }


def phase_diagram(
    c_values=PHASE_C,
    theory_hidden: int = 100,
    theory_teachers: int = 10,
    sim_hidden: int = 20,
    sim_teachers: int = 4,
    steps: int = 20000,
    lr: float = 0.02,
    fractions=None,
    seed: int = 0,
    backend: str = "numba",
    progress=None,
) -> list:
    """One row per ``c``: the critical flip fraction of the theory (``theory_hidden`` hidden units,
    ``theory_teachers`` teachers, fraction grid of 0.02) for hidden-layer flips (``hidden_layer_flips``)
    and readout flips (``readout_flips``); the simulated one (``sim_inputs`` / ``sim_hidden``,
    ``sim_hidden`` units, ``sim_teachers`` teachers, grid ``fractions``) and the theory for those same
    small teachers (``theory_small_inputs`` / ``theory_small_hidden``).  ``progress(i, n)`` after
    each ``c``."""
    fractions = _fractions(np.linspace(0, 1, 11) if fractions is None else fractions)
    c_values = [positive("c", c) for c in c_values]
    for name, v in (
        ("theory_hidden", theory_hidden),
        ("theory_teachers", theory_teachers),
        ("sim_hidden", sim_hidden),
        ("sim_teachers", sim_teachers),
        ("steps", steps),
    ):
        positive_int(name, v)
    rows = []
    for i, c in enumerate(c_values):
        rows.append(
            {
                "c": float(c),
                "hidden_layer_flips": st.critical_fraction(c, "inputs", theory_hidden, theory_teachers, seed),
                "readout_flips": st.critical_fraction(c, "hidden", theory_hidden, theory_teachers, seed),
                **_simulated_critical(c, sim_hidden, sim_teachers, steps, positive("lr", lr), fractions, seed, backend),
            }
        )
        if progress:
            progress(i + 1, len(c_values))
    return rows


def chaos_sweep(
    fractions=(0.0, 0.025, 0.1, 0.25, 0.5, 1.0),
    n_in: int = 40,
    n_hidden: int = 10,
    activation: str = "tanh",
    steps: int = 2000,
    lr: float = 0.1,
    n_train: int = 200,
    seed: int = 0,
) -> list:
    """Learning either side of the stability threshold: for each fraction of flipped inputs (hidden-layer
    plasticity, ``D₁``), the largest Lyapunov exponent of full-batch learning from next to the teacher
    (per unit learning time) and the order parameter ``q = log₁₀(E_final/E_start)``, weights
    renormalised after each step (bounded either way).  The default network is compressive
    (``c = 4``): theory says a single flipped input destabilises its solution manifold."""

    fractions = _fractions(fractions)
    task = teacher_student(
        positive_int("n_in", n_in),
        positive_int("n_hidden", n_hidden),
        1,
        positive_int("n_train", n_train),
        100,
        activation,
        seed=seed,
    )
    rng = np.random.default_rng([seed, 2])  # the start point: its own stream beside the teacher's
    w1 = task.w1 + 1e-3 * rng.standard_normal(task.w1.shape)
    w2 = task.w2 + 1e-3 * rng.standard_normal(task.w2.shape)
    rows = []
    for i, f in enumerate(fractions):
        d1 = flip_signs(n_in, f, [seed, i])
        lyap = lyapunov_exponent(w1, w2, task, lr, steps, d1=d1, seed=seed)
        rows.append(
            {
                "fraction": float(f),
                "flipped_inputs": int((d1 < 0).sum()),
                "lyapunov": lyap.exponent,
                "order_parameter": nonconvergence(task, lr, steps, d1=d1, seed=seed),
                "final_error": lyap.final_error,
            }
        )
    return rows
