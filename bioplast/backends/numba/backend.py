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
    # numba.config sets its attributes from the environment at run time (globals()), so its
    # stubs cannot declare NUMBA_NUM_THREADS
    threads = numba.config.NUMBA_NUM_THREADS  # type: ignore[attr-defined]
    return BackendInfo("numba", True, "cpu", numba.__version__, f"njit kernels, {threads} threads")


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
        return self._nk.signed_expm1(
            w, self._c(d).astype(np.float32, copy=False), np.float32(scale), np.float32(shrink)
        )

    def adam_step(self, m, v, d, b1, b2, step_scale, v_scale, eps):
        m = self._c(m)
        t = m.dtype.type
        return self._nk.adam_step(
            m, self._c(v), self._c(d).astype(m.dtype, copy=False), t(b1), t(b2), t(step_scale), t(v_scale), t(eps)
        )

    def decay_trace(self, trace, events, decay):
        trace = self._c(trace)
        return self._nk.decay_trace(trace, self._c(events).astype(trace.dtype, copy=False), trace.dtype.type(decay))

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

    def fused(self, name: str):
        if name == "spiking":
            from bioplast.backends.numba.spiking import simulate_fused

            return simulate_fused
        if name == "two_layer_sweep":
            from bioplast.backends.numba.student_teacher import two_layer_sweep

            return two_layer_sweep
        return {"device_write": self.device_write, "relax": self.relax_fused}.get(name)

    def device_write(self, w, u, gain, spec, noise_key, round_key):
        """The fused device write (:mod:`bioplast.backends.device_write`) in one compiled pass."""
        from bioplast.backends.numba import device as nd

        shape = w.shape
        rows = (1, -1) if w.ndim < 2 else shape  # a bias is one row: the counter runs over it the same way
        g = self._c(gain).astype(w.dtype, copy=False).reshape(rows) if gain is not None else np.empty((0, 0), w.dtype)
        out = nd.device_write(
            self._c(w).reshape(rows),
            self._c(u).astype(w.dtype, copy=False).reshape(rows),
            g,
            _typed_spec(spec, w.dtype.type),
            np.uint32(noise_key[0]),
            np.uint32(noise_key[1]),
            np.uint32(round_key[0]),
            np.uint32(round_key[1]),
        )
        return out.reshape(shape)

    def relax_fused(self, weights, downs, base, states, steps, activation, dt, beta, target, cost, readout):
        """EP's whole relaxation in one compiled loop (:func:`bioplast.dynamics.relaxation.relax` lowers a
        network into these arrays): bottom-up ``weights``, the matrices ``downs`` carrying each layer's
        top-down drive (``downs[-1]`` unused), per-layer constant drives ``base`` (the input drive, then
        the biases as rows), the start ``states``, and the nudge ``beta``/``target``/``cost`` with the
        ``readout`` ``(W_o, b_o)`` of a cross-entropy cost (``beta = 0``: free phase).  Returns
        ``(states, residual)``, or ``None`` where the kernel does not apply: float64 (its transcendental
        functions are float32, accurate to a few ulp), complex states, an activation or cost it does not
        know — the caller then runs the generic step loop."""
        nk = self._nk
        code = nk.ACT_CODES.get(activation)
        dtype = np.result_type(weights[0].dtype, base[0].dtype)
        if code is None or dtype != np.float32 or isinstance(beta, complex) or any(s.dtype.kind == "c" for s in states):
            return None

        def c(a):  # one dtype for every operand: np.dot in numba refuses mixed dtypes
            return np.ascontiguousarray(a, dtype=dtype)

        ws = tuple(c(w) for w in weights)
        cur = tuple(np.array(s, dtype=dtype, order="C") for s in states)  # copies: the kernel writes them
        nxt = tuple(np.empty_like(s) for s in cur)
        hbuf = tuple(np.empty_like(s) for s in cur)
        t = dtype.type
        nudged = beta != 0
        w_o, b_o = (c(readout[0]), c(readout[1])) if readout is not None else (ws[0], c(base[0][0]))
        net = nk.RelaxNet(ws, tuple(c(d) for d in downs), tuple(c(b) for b in base))
        nudge = nk.RelaxNudge(t(beta), c(target) if nudged else cur[-1], nk.COST_CODES[cost] if nudged else 0, w_o, b_o)
        in_nxt, residual = nk.relax_layers(net, nk.RelaxBuffers(cur, nxt, hbuf), nudge, steps, code, t(dt))
        return list(nxt if in_nxt else cur), float(residual)
