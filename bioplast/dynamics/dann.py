r"""Networks that obey Dale's principle: DANNs and column-sign E/I MLPs.

**DANN** (Cornford et al. 2021, "Learning to live with Dale's principle: ANNs
with separate excitatory and inhibitory units").  Each layer has ``n_e``
excitatory outputs and ``n_i`` linear inhibitory interneurons, all weights
non-negative::

    z_E = W_EX x,   z_I = W_IX x,   ẑ = z_E − W_EI z_I          (subtractive)
    γ   = (W_EI ⊙ e^α) z_I + ε,     z = g ⊙ ẑ / γ + b            (divisive, optional)
    h   = ρ(z)                                                   (linear at the output)

Initialisation (their balanced exponential init): ``W_EX ~ Exp(σ)`` with
``σ = √(1/2d)`` for the first layer (non-negative inputs) and
``σ = √(2π / (d(2π−1)))`` after a ReLU layer; ``W_IX`` an independent
draw of the same law (or the mean row of ``W_EX`` when ``n_i = 1``, as for
the output layer); ``W_EI = 1/n_i`` so that ``E[ẑ] = 0``; ``b = 0``,
``g = 1``, ``e^α = √((2π−1)/d)``.  Their corrected updates rescale the
inhibitory parameters' gradients: ``W_IX`` by ``1/√n_e``, ``W_EI`` by
``1/d``, ``α`` by ``1/(√n_e d)`` (:data:`DANN_CORRECTIONS`).

**Column-sign E/I MLP** (their "ColumnEi" baseline): an ordinary MLP whose
weights out of presynaptic neuron ``j`` all have sign ``s_j``
(``W = |W| diag(s)``), log-normal magnitudes.

One forward function serves numpy and torch (autograd supplies the
backprop baseline's gradients).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from bioplast.errors import ConfigError
from bioplast.validate import in_range, positive_int

EPS = 1e-8


class DANNLayer(NamedTuple):
    wex: Any  # [n_e, d] ≥ 0
    wix: Any  # [n_i, d] ≥ 0
    wei: Any  # [n_e, n_i] ≥ 0
    b: Any  # [n_e]
    alpha: Any | None  # [n_i] log-scale of divisive inhibition (None: subtractive only)
    g: Any | None  # [n_e] ≥ 0 gain (None: subtractive only)


# parameter name → (gradient scale as a function of (n_e, d), constrained to ≥ 0)
DANN_CORRECTIONS = {
    "wex": (lambda ne, d: 1.0, True),
    "wix": (lambda ne, d: 1.0 / np.sqrt(ne), True),
    "wei": (lambda ne, d: 1.0 / d, True),
    "b": (lambda ne, d: 1.0, False),
    "alpha": (lambda ne, d: 1.0 / (np.sqrt(ne) * d), False),
    "g": (lambda ne, d: 1.0, True),
}


def init_dann(
    k, sizes, seed: int, inhibitory_fraction: float = 0.1, divisive: bool = True, positive_inputs: bool = True
) -> list:
    """DANN layers for ``sizes = [d, n_1, …, C]``: ``n_i = max(1, round(f·n_e))``
    interneurons per hidden layer and one at the output (as in the paper)."""
    if len(sizes) < 2 or any(not isinstance(n, (int, np.integer)) or n <= 0 for n in sizes):
        raise ConfigError(f"layer sizes must be >= 2 positive integers, got {list(sizes)}")
    f = in_range("inhibitory_fraction", inhibitory_fraction, 0.0, 1.0)
    rng = np.random.default_rng(seed)
    layers = []
    for l, (d, ne) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        last = l == len(sizes) - 2
        ni = 1 if last else max(1, int(round(f * ne)))
        first = l == 0 and positive_inputs
        scale = np.sqrt(1 / (2 * d)) if first else np.sqrt(2 * np.pi / (d * (2 * np.pi - 1)))
        wex = rng.exponential(scale, size=(ne, d))
        wix = wex.mean(0, keepdims=True) if ni == 1 else rng.exponential(scale, size=(ni, d))
        wei = np.full((ne, ni), 1.0 / ni)
        alpha = np.full(ni, np.log(np.sqrt((2 * np.pi - 1) / d))) if divisive else None
        g = np.ones(ne) if divisive else None
        layers.append(
            DANNLayer(*(None if a is None else k.asarray(a) for a in (wex, wix, wei, np.zeros(ne), alpha, g)))
        )
    return layers


def dann_forward(xp, layers, x, act, mismatch=None, read=None):
    """Output logits of a DANN (``act`` on hidden layers, linear output); numpy or torch arrays.

    ``mismatch``: per layer ``((g, o), (g_I, o_I))``, the fixed-pattern gain and offset of its
    principal neurons (applied to their drive ``z``) and of its linear interneurons (``z_I``), as
    arrays of ``x``'s kind; ``None``: matched neurons.  ``read(m, h, W)``: the product ``h Wᵀ`` as the
    devices read it (matrix ``m`` = 3·layer + 0, 1, 2 for W_IX, W_EX, W_EI); ``None``: exact reads."""
    read = read or (lambda m, h, w: h @ w.T)
    h = x
    for l, p in enumerate(layers):
        zi = read(3 * l, h, p.wix)
        if mismatch is not None:
            zi = mismatch[l][1][0] * zi + mismatch[l][1][1]
        zhat = read(3 * l + 1, h, p.wex) - read(3 * l + 2, zi, p.wei)
        if p.alpha is None:
            z = zhat + p.b
        else:
            gamma = zi @ (p.wei * xp.exp(p.alpha)).T + EPS
            z = p.g * zhat / gamma + p.b
        if mismatch is not None:
            z = mismatch[l][0][0] * z + mismatch[l][0][1]
        h = z if l == len(layers) - 1 else act(xp, z)
    return h


def column_signs(n: int, inhibitory_fraction: float) -> np.ndarray:
    """``+1`` for the first ``n − round(f n)`` neurons, ``−1`` for the rest."""
    f = in_range("inhibitory_fraction", inhibitory_fraction, 0.0, 1.0)
    positive_int("population size", n)
    n_i = int(round(f * n))
    return np.concatenate([np.ones(n - n_i), -np.ones(n_i)])
