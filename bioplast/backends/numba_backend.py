"""The numba backend: numpy arrays, njit kernels (see :mod:`numba_kernels`)."""
from __future__ import annotations

import math

import numpy as np

from .base import BackendInfo
from .numpy_backend import NumpyBackend


def numba_info() -> BackendInfo:
    try:
        import numba
    except Exception as exc:  # noqa: BLE001 - report any import failure as unavailable
        return BackendInfo("numba", False, "cpu", "-", f"import failed: {exc}")
    return BackendInfo("numba", True, "cpu", numba.__version__,
                       f"njit kernels, {numba.config.NUMBA_NUM_THREADS} threads")


class NumbaBackend(NumpyBackend):
    """Same arrays as numpy; every kernel is a compiled numba function."""

    name = "numba"

    def __init__(self, dtype: str = "float32"):
        super().__init__(dtype)
        from . import numba_kernels

        self._nk = numba_kernels

    @classmethod
    def info(cls) -> BackendInfo:
        return numba_info()

    def _c(self, x):
        return np.ascontiguousarray(x)

    def outer_mean(self, post, pre):
        return self._nk.outer_mean(self._c(post), self._c(pre))

    def outer_mean_decay(self, post, pre, w, decay):
        return self._nk.outer_mean_decay(self._c(post), self._c(pre), self._c(w), self._c(decay))

    def row_scale(self, w, s):
        return self._nk.row_scale(self._c(w), self._c(s))

    def batch_mean(self, x):
        return self._nk.batch_mean(self._c(x))

    def linear(self, x, w, b=None):
        if b is None:
            return self._nk.linear(self._c(x), self._c(w))
        return self._nk.linear_bias(self._c(x), self._c(w), self._c(b))

    def add(self, w, u):
        return self._nk.add(self._c(w), self._c(u))

    def to_grid(self, w, step, lo, hi):
        w = self._c(w)
        t = w.dtype.type
        return self._nk.to_grid(w, t(step), t(lo), t(hi))

    def sign_project(self, w, signs):
        w = self._c(w)
        return self._nk.sign_project(w, np.ascontiguousarray(signs, dtype=w.dtype))

    def decay_trace(self, trace, events, decay):
        trace = self._c(trace)
        return self._nk.decay_trace(trace, self._c(events).astype(trace.dtype, copy=False),
                                    trace.dtype.type(decay))

    def normal(self, rng, shape):
        n = math.prod(shape) if isinstance(shape, tuple) else int(shape)
        return self._nk.normal(rng, n).astype(self.dtype).reshape(shape)
