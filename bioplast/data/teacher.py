"""Teacher–student regression tasks: a fixed random network labels Gaussian inputs.

``y = ψ(W₂ φ(W₁ x))`` with ``x ~ N(0, σ² I)``, ``W₁ ~ N(0, 1/n_in)``,
``W₂ ~ N(0, 1/n_hidden)`` (unit-variance pre-activations).  Expansion
(``n_hidden > n_in``) and compression are both allowed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.dynamics.activations import activation
from bioplast.resources import check_fits
from bioplast.validate import positive, positive_int


class TeacherTask(NamedTuple):
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    activation: str
    readout: str = "identity"


def teacher_student(
    n_in: int,
    n_hidden: int,
    n_out: int,
    n_train: int,
    n_test: int = 1000,
    activation_name: str = "identity",
    seed: int = 0,
    readout: str = "identity",
    input_std: float = 1.0,
) -> TeacherTask:
    """Generate a teacher network and its train/test data (float64).

    ``readout`` is the output nonlinearity ψ (``y = ψ(W₂ φ(W₁ x))``); Ninou et al. (2025) use
    ψ = φ and inputs of standard deviation ``input_std = 1/√2``."""
    for name, v in (("n_in", n_in), ("n_hidden", n_hidden), ("n_out", n_out), ("n_train", n_train), ("n_test", n_test)):
        positive_int(name, v)
    activation(activation_name), activation(readout)  # unknown names fail before any work
    positive("input_std", input_std)
    samples = n_train + n_test  # float64 weights, inputs, and the hidden layer and targets of every sample
    check_fits(
        8.0 * (n_hidden * n_in + n_out * n_hidden + samples * (n_in + n_hidden + n_out)),
        f"a {n_in}-{n_hidden}-{n_out} teacher with {samples} samples",
    )
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((n_hidden, n_in)) / np.sqrt(n_in)
    w2 = rng.standard_normal((n_out, n_hidden)) / np.sqrt(n_hidden)
    return labelled_task(w1, w2, n_train, n_test, activation_name, readout, input_std, rng)


def labelled_task(
    w1, w2, n_train: int, n_test: int, activation_name: str, readout: str, input_std: float, rng
) -> TeacherTask:
    """Train and test data labelled by the teacher ``(w1, w2)``: inputs ``x ~ N(0, input_std² I)``
    drawn from the generator ``rng``, targets ``y = ψ(W₂ φ(W₁ x))``."""
    act, out = activation(activation_name), activation(readout)
    x = positive("input_std", input_std) * rng.standard_normal((n_train + n_test, w1.shape[1]))
    y = out(np, act(np, x @ w1.T) @ w2.T)
    return TeacherTask(x[:n_train], y[:n_train], x[n_train:], y[n_train:], w1, w2, activation_name, readout)
