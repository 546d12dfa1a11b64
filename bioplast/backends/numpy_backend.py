"""The numpy backend: the reference implementation and the oracle."""

from __future__ import annotations

import numpy as np

from bioplast.backends.base import Backend, BackendInfo


class NumpyBackend(Backend):
    name = "numpy"

    @property
    def dtype(self):
        return np.dtype(self.dtype_name)

    @classmethod
    def info(cls) -> BackendInfo:
        return BackendInfo(cls.name, True, "cpu", np.__version__, "reference implementation")

    def asarray(self, x):
        return np.ascontiguousarray(np.asarray(x, dtype=self.dtype))

    def to_numpy(self, x):
        return np.asarray(x)

    def zeros(self, shape):
        return np.zeros(shape, dtype=self.dtype)

    @property
    def xp(self):
        return np

    def to_complex(self, x):
        return np.asarray(x, dtype=np.complex64 if self.dtype == np.float32 else np.complex128)

    def rng(self, seed: int):
        return np.random.default_rng(seed)

    def outer_mean(self, post, pre):
        return (post.T @ pre) / post.shape[0]

    def outer_mean_decay(self, post, pre, w, decay):
        return (post.T @ pre) / post.shape[0] - decay[:, None] * w

    def row_scale(self, w, s):
        return s[:, None] * w

    def batch_mean(self, x):
        return x.mean(axis=0)

    def linear(self, x, w, b=None):
        out = x @ w.T
        return out if b is None else out + b

    def softmax(self, x):
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def add(self, w, u):
        return w + u

    def to_grid(self, w, step, lo, hi):
        return np.clip(np.round(w / step) * step, lo, hi).astype(w.dtype, copy=False)

    def clip(self, w, lo, hi):
        return np.clip(w, lo, hi).astype(w.dtype, copy=False)

    def sign_project(self, w, signs):
        return np.where(w * signs[None, :] < 0, 0, w).astype(w.dtype, copy=False)

    def signed_expm1(self, w, d, scale, shrink=0.0):
        return (w * np.expm1(np.sign(w) * d * scale - shrink)).astype(w.dtype, copy=False)

    def decay_trace(self, trace, events, decay):
        return decay * trace + events

    def normal(self, rng, shape):
        return rng.standard_normal(shape, dtype=self.dtype)

    def uniform(self, rng, shape):
        return rng.random(shape, dtype=self.dtype)
