"""Hard weight bounds: the device range ``[lo, hi]`` a weight can take.

``update = clip(w + u, lo, hi) − w`` wherever ``u ≠ 0``: the update that lands
the weight on the nearest point of the range, as a device saturates at its
minimum and maximum conductance (and as Diehl & Cook's STDP clips ``w`` to
``[0, w_max]``).  Only written synapses are touched: a device is clipped when
it is programmed, which is also what event-driven simulators (Brian2) do.
"""

from __future__ import annotations

import math

from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError


@transform_factory("clip_bounds")
def clip_bounds(lo: float, hi: float) -> Transform:
    """Hard bounds ``lo <= w <= hi`` (``lo < hi``, both finite)."""
    try:
        lo, hi = float(lo), float(hi)
    except (TypeError, ValueError):
        raise ConfigError(f"clip_bounds needs two numbers, got lo={lo!r}, hi={hi!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"clip_bounds needs finite lo < hi, got lo={lo!r}, hi={hi!r}")
    return stateless(f"clip_bounds({lo:g}, {hi:g})", lambda k, u, w: (u != 0) * (k.clip(w + u, lo, hi) - w))
