"""Linear recurrent (lateral) population: ``y = x + M y``, solved at equilibrium.

Földiák (1990): with lateral weights ``M`` (zero diagonal) the steady
response is ``y = (I − M)^{-1} x``.  Anti-Hebbian learning of ``M``
(:func:`bioplast.rules.anti_hebb`) drives ``⟨y_i y_j⟩ → 0`` for ``i ≠ j``.
"""

from __future__ import annotations

import numpy as np


def lateral_response(m, x):
    """Steady state of ``y = x + M y`` for a batch ``x[B, n]`` (numpy arrays)."""
    return np.linalg.solve(np.eye(m.shape[0]) - m, x.T).T


def max_offdiagonal_correlation(y) -> float:
    """Largest |correlation| between two different units of ``y[B, n]``."""
    c = np.corrcoef(y.T)
    return float(np.abs(c - np.diag(np.diag(c))).max())
