"""Homeostatic weight normalisation as a transform: each neuron's incoming weights keep a fixed total.

``normalise_incoming(total, every)``: after the update, every ``every``-th
step, each postsynaptic neuron's incoming weights (a row of ``W[n_post,
n_pre]``) are rescaled to sum to ``total``::

    Δw ← (w + Δw) · total / Σ_j (w + Δw)_j − w

a multiplicative, competitive constraint (von der Malsburg 1973; the
per-digit normalisation of Diehl & Cook 2015, who rescale to 78 before every
presentation).  A row whose sum is not positive keeps its update.  Between
normalisations the update passes through, so with ``every = k`` a spiking
run is normalised once per ``k`` learning steps.  Composes like any
transform: after a rule's geometry and before a substrate's devices (which
may then move the total by their rounding and noise).
"""

from __future__ import annotations

from bioplast.core import Transform, transform_factory
from bioplast.validate import positive, positive_int


@transform_factory("normalise_incoming")
def normalise_incoming(total: float, every: int = 1) -> Transform:
    """Rescale each row of ``w + Δw`` to sum ``total`` on every ``every``-th update."""
    total = positive("total", total)
    every = positive_int("every", every)

    def init(k, w):
        return (0,)  # updates seen so far

    def update(k, u, state, w):
        seen = state[0] + 1
        if seen % every:
            return u, (seen,)
        new = w + u
        sums = k.xp.sum(new, 1)
        ok = sums > 0
        ones = sums * 0 + 1
        scale = k.xp.where(ok, total / k.xp.where(ok, sums, ones), ones)
        return k.row_scale(new, scale) - w, (seen,)

    return Transform(init, update, f"normalise_incoming({total:g}, every={every})")
