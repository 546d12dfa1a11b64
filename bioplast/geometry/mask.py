"""Fixed connectivity: absent synapses never change."""

from __future__ import annotations

from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError, DataError
from bioplast.validate import array


@transform_factory("masked")
def masked(mask) -> Transform:
    """``Δw = M ⊙ d`` with a fixed 0/1 connectivity mask ``M[n_post, n_pre]``.

    Used e.g. to keep self-connections out of lateral weights.
    """
    m = array("mask", mask, ndim=2)
    if not ((m == 0) | (m == 1)).all():
        raise ConfigError("mask must contain only 0 and 1")
    on_backend = {}  # the mask converted once per backend instance

    def fn(k, d, w):
        if tuple(w.shape) != m.shape:
            raise DataError(f"mask has shape {m.shape}, expected the weight shape {tuple(w.shape)}")
        if id(k) not in on_backend:
            on_backend[id(k)] = k.asarray(m)
        return d * on_backend[id(k)]

    return stateless("masked", fn)
