"""Activation functions ρ, written once for numpy and torch arrays.

Each takes the array namespace ``xp`` (``numpy`` or ``torch``) so the same
definition serves every backend; :func:`derivative` gives ρ' analytically
(used by EP relaxation and by tests against autograd).
"""

from __future__ import annotations

from bioplast.errors import unknown_name


def _sigmoid(xp, x):
    return 1.0 / (1.0 + xp.exp(-x))


ACTIVATIONS = {
    # name: (ρ(x), ρ'(x))
    "identity": (lambda xp, x: x, lambda xp, x: x * 0 + 1),
    "relu": (lambda xp, x: x.clip(min=0), lambda xp, x: (x > 0) * 1.0),
    "tanh": (lambda xp, x: xp.tanh(x), lambda xp, x: 1 - xp.tanh(x) ** 2),
    "sigmoid": (_sigmoid, lambda xp, x: _sigmoid(xp, x) * (1 - _sigmoid(xp, x))),
    # hard sigmoid of Scellier & Bengio (2017): ρ(s) = clip(s, 0, 1)
    "hard_sigmoid": (lambda xp, x: x.clip(0, 1), lambda xp, x: ((x > 0) & (x < 1)) * 1.0),
    # σ(4(x − ½)): the sigmoid of the EP reference code (Laborieux et al. 2021,
    # "my_sigmoid"), steepness 1 at x = ½ like the hard sigmoid it smooths
    "sigmoid4": (
        lambda xp, x: _sigmoid(xp, 4 * (x - 0.5)),
        lambda xp, x: 4 * _sigmoid(xp, 4 * (x - 0.5)) * (1 - _sigmoid(xp, 4 * (x - 0.5))),
    ),
}

# holomorphic in x: usable with complex states (holomorphic EP)
HOLOMORPHIC = ("identity", "tanh", "sigmoid", "sigmoid4")


def activation(name: str):
    """Return ``f(xp, x)`` for ``name``; unknown names list the valid ones."""
    try:
        return ACTIVATIONS[name][0]
    except KeyError:
        raise unknown_name("activation", name, ACTIVATIONS) from None


def derivative(name: str):
    """Return ``f'(xp, x)`` for ``name``."""
    try:
        return ACTIVATIONS[name][1]
    except KeyError:
        raise unknown_name("activation", name, ACTIVATIONS) from None
