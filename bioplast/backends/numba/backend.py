"""The numba backend: numpy arrays, njit kernels (see :mod:`bioplast.backends.numba.kernels`)."""
from __future__ import annotations

import functools
import math

import numpy as np

from bioplast.backends.base import BackendInfo
from bioplast.backends.numpy_backend import NumpyBackend


def numba_info() -> BackendInfo:
    try:
        import numba
    except Exception as exc:  # noqa: BLE001 - report any import failure as unavailable
        return BackendInfo("numba", False, "cpu", "-", f"import failed: {exc}")
    return BackendInfo("numba", True, "cpu", numba.__version__,
                       f"njit kernels, {numba.config.NUMBA_NUM_THREADS} threads")


@functools.lru_cache(maxsize=64)
def _typed_spec(spec, t):
    """``spec`` with its floats in the weights' type ``t`` (the kernel is compiled per type; cached:
    a network writes with the same few specs every step)."""
    return spec._replace(**{f: t(v) for f, v in spec._asdict().items() if isinstance(v, float)})


class NumbaBackend(NumpyBackend):
    """Same arrays as numpy; every kernel is a compiled numba function."""

    name = "numba"

    def __init__(self, dtype: str = "float32"):
        super().__init__(dtype)
        from bioplast.backends.numba import kernels as numba_kernels

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

    def signed_expm1(self, w, d, scale, shrink=0.0):
        w = self._c(w)
        if w.dtype != np.float32:  # the fused kernel's expm1 is float32-accurate only
            return super().signed_expm1(w, d, scale, shrink)
        return self._nk.signed_expm1(w, self._c(d).astype(np.float32, copy=False), np.float32(scale),
                                     np.float32(shrink))

    def adam_step(self, m, v, d, b1, b2, step_scale, v_scale, eps):
        m = self._c(m)
        t = m.dtype.type
        return self._nk.adam_step(m, self._c(v), self._c(d).astype(m.dtype, copy=False), t(b1), t(b2),
                                  t(step_scale), t(v_scale), t(eps))

    def decay_trace(self, trace, events, decay):
        trace = self._c(trace)
        return self._nk.decay_trace(trace, self._c(events).astype(trace.dtype, copy=False),
                                    trace.dtype.type(decay))

    def normal(self, rng, shape):
        n = math.prod(shape) if isinstance(shape, tuple) else int(shape)
        return self._nk.normal(rng, n).astype(self.dtype).reshape(shape)

    def counter_normal(self, key, shape):
        from bioplast.backends.numba import device as nd

        z = np.empty(shape, self.dtype)
        nd.counter_normal_into(z.reshape(-1), np.uint32(key[0]), np.uint32(key[1]))
        return z

    def read_error(self, key, h, scale, n):
        from bioplast.backends.numba import device as nd

        h = self._c(h)
        if h.ndim != 2 or h.dtype not in (np.float32, np.float64):
            return super().read_error(key, h, scale, n)
        out = np.empty((h.shape[0], int(n)), self.dtype)
        nd.read_error(h, float(scale), np.uint32(key[0]), np.uint32(key[1]), out)
        return out

    def can_device_write(self, w, u):
        return w.ndim <= 2 and w.dtype in (np.float32, np.float64)

    def device_write(self, w, u, gain, spec, noise_key, round_key):
        from bioplast.backends.numba import device as nd

        shape = w.shape
        rows = (1, -1) if w.ndim < 2 else shape  # a bias is one row: the counter runs over it the same way
        g = (self._c(gain).astype(w.dtype, copy=False).reshape(rows) if gain is not None
             else np.empty((0, 0), w.dtype))
        out = nd.device_write(self._c(w).reshape(rows), self._c(u).astype(w.dtype, copy=False).reshape(rows), g,
                              _typed_spec(spec, w.dtype.type), np.uint32(noise_key[0]), np.uint32(noise_key[1]),
                              np.uint32(round_key[0]), np.uint32(round_key[1]))
        return out.reshape(shape)

    def relax_fused(self, net, input_drive, states, steps, activation, nudge, dt):
        """The whole relaxation in one compiled loop, or ``None`` where it does not apply:
        float64 (the kernel's transcendental functions are float32, accurate to a
        few ulp), complex states, an activation the kernel does not know.  The
        caller then runs the generic step loop.  Semantics: :mod:`bioplast.dynamics.relaxation`."""
        nk = self._nk
        code = nk.ACT_CODES.get(activation)
        beta = 0.0 if nudge is None else nudge.beta
        dtype = np.result_type(net.weights[0].dtype, input_drive.dtype)
        if code is None or dtype != np.float32 or isinstance(beta, complex) \
                or any(s.dtype.kind == "c" for s in states):
            return None

        def c(a):  # one dtype for every operand: np.dot in numba refuses mixed dtypes
            return np.ascontiguousarray(a, dtype=dtype)

        ws = [c(w) for w in net.weights]
        n = len(ws)
        downs = [ws[l + 1] if net.feedback is None else c(net.feedback[l].T) for l in range(n - 1)]
        downs.append(ws[0])  # unused placeholder: the top layer has no layer above
        base = [c(input_drive)] + [c(b).reshape(1, -1) for b in net.biases[1:]]
        cur = tuple(np.array(s, dtype=ws[0].dtype, order="C") for s in states)  # copies: the kernel writes them
        nxt = tuple(np.empty_like(s) for s in cur)
        t = ws[0].dtype.type
        nudged = nudge is not None and beta != 0
        target = c(nudge.target) if nudged else cur[-1]
        cost = nk.COST_CODES[nudge.cost] if nudged else 0
        w_o, b_o = (c(net.readout[0]), c(net.readout[1])) if net.readout is not None else (ws[0], net.biases[0])
        hbuf = tuple(np.empty_like(s) for s in cur)
        in_nxt, residual = nk.relax_layers(tuple(ws), tuple(downs), tuple(base), cur, nxt, hbuf, steps, code, t(dt),
                                           t(beta), target, cost, w_o, c(b_o))
        return list(nxt if in_nxt else cur), float(residual)
