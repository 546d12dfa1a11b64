"""The kernel vocabulary every backend supplies.

Rules, geometry and substrate transforms are written once against these
verbs; a backend is an implementation of them (numpy is the reference and
the oracle, numba and torch must agree with it within
:func:`bioplast.testing.tolerance`).  Arrays are numpy arrays for the
numpy/numba backends and torch tensors for the torch backend; plain
arithmetic (``+ - * /``, ``**``) and ``.mean(0)`` work on both, so rules use
operators for cheap elementwise work and kernels for anything a backend can
fuse or must do differently.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from bioplast.backends.counter_rng import bits_numpy, normal_from_bits, row_scaled_normal, uniform_from_bits
from bioplast.errors import ConfigError

Array = Any


@dataclass(frozen=True)
class BackendInfo:
    name: str
    available: bool
    device: str
    version: str
    note: str = ""


class Backend(ABC):
    """Kernel vocabulary (``k`` in rule code).  Subclasses are final."""

    name: str = "abstract"
    device: str = "cpu"

    def __init__(self, dtype: str = "float32"):
        if dtype not in ("float32", "float64"):
            raise ConfigError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype_name = dtype

    def __repr__(self) -> str:
        return f"{type(self).__name__}(device={self.device!r}, dtype={self.dtype_name!r})"

    # ---- array plumbing -------------------------------------------------
    @abstractmethod
    def asarray(self, x) -> Array:
        """Host data → a backend array of the backend's dtype and device."""

    @abstractmethod
    def to_numpy(self, x):
        """Backend array → numpy array (a copy when the data lives elsewhere)."""

    @abstractmethod
    def zeros(self, shape) -> Array:
        """Zeros of the backend's dtype."""

    @property
    @abstractmethod
    def xp(self):
        """The array namespace (``numpy`` or ``torch``) for activation functions."""

    @abstractmethod
    def to_complex(self, x) -> Array:
        """The backend array as complex (``complex64`` for float32, ``complex128`` for float64)."""

    @abstractmethod
    def rng(self, seed: int):
        """An explicit random state: pass it to :meth:`normal`."""

    # ---- kernels ---------------------------------------------------------
    @abstractmethod
    def outer_mean(self, post: Array, pre: Array) -> Array:
        """``(postᵀ · pre) / B``: the batch-averaged Hebbian product ``[n_post, n_pre]``."""

    @abstractmethod
    def outer_mean_decay(self, post: Array, pre: Array, w: Array, decay: Array) -> Array:
        """``(postᵀ · pre) / B − decay[:, None] ⊙ w``: a Hebbian term with a
        per-row weight decay (Oja's rule uses ``decay = ⟨post²⟩``), fused."""

    @abstractmethod
    def row_scale(self, w: Array, s: Array) -> Array:
        """``s[:, None] ⊙ w``: scale each postsynaptic row."""

    @abstractmethod
    def batch_mean(self, x: Array) -> Array:
        """Mean over the leading (batch) axis."""

    @abstractmethod
    def linear(self, x: Array, w: Array, b: Array | None = None) -> Array:
        """``x · wᵀ + b``: the synaptic drive of a layer, ``[B, n_post]``."""

    @abstractmethod
    def softmax(self, x: Array) -> Array:
        """Row-wise softmax of ``x[B, n]`` (max-shifted for stability)."""

    @abstractmethod
    def add(self, w: Array, u: Array) -> Array:
        """``w + u``; used only by :func:`bioplast.core.apply_updates`."""

    @abstractmethod
    def to_grid(self, w: Array, step: float, lo: float, hi: float) -> Array:
        """``clip(step · round(w / step), lo, hi)``: the nearest point of a
        uniform weight grid (ties to even), clipped to the device range."""

    @abstractmethod
    def clip(self, w: Array, lo: float, hi: float) -> Array:
        """``min(max(w, lo), hi)``: hard bounds of a device's weight range."""

    @abstractmethod
    def sign_project(self, w: Array, signs: Array) -> Array:
        """Zero every weight whose sign disagrees with its presynaptic
        neuron's sign ``signs[n_pre]`` (±1): the Dale projection."""

    @abstractmethod
    def signed_expm1(self, w: Array, d: Array, scale: float, shrink: float = 0.0) -> Array:
        """``w ⊙ expm1(scale · sign(w) ⊙ d − shrink)``: the additive form of the
        exponentiated-gradient step ``w ← w ⊙ exp(η sign(w) ⊙ d − ηλ)``, so that
        ``w + result`` keeps every sign (``expm1`` keeps small steps exact)."""

    @abstractmethod
    def decay_trace(self, trace: Array, events: Array, decay: float) -> Array:
        """``decay ⊙ trace + events``: one step of an exponential trace."""

    def adam_step(
        self, m: Array, v: Array, d: Array, b1: float, b2: float, step_scale: float, v_scale: float, eps: float
    ):
        """One Adam step on direction ``d``: ``m ← b₁m + (1−b₁)d``, ``v ← b₂v + (1−b₂)d²``,
        ``step = step_scale · m / (√(v_scale · v) + ε)``; returns ``(step, m, v)``.

        Written with operators (numpy and torch alike); numba fuses it into one pass.
        """
        m = m * b1 + d * (1 - b1)
        v = v * b2 + (d * d) * (1 - b2)
        return (m * step_scale) / (self.xp.sqrt(v * v_scale) + eps), m, v

    @abstractmethod
    def normal(self, rng, shape) -> Array:
        """Standard normal draws from the explicit random state ``rng``."""

    @abstractmethod
    def uniform(self, rng, shape) -> Array:
        """Uniform draws on [0, 1) from the explicit random state ``rng``."""

    # ---- counter-based draws and fused kernels ----------------------------
    def counter_uniform(self, key: tuple, shape) -> Array:
        """Uniform draws on ``[0, 1)`` of the counter-based stream ``key`` (the same numbers on every
        backend: :mod:`bioplast.backends.counter_rng`)."""

        n, shape = _count(shape)
        return uniform_from_bits(self.xp, self._counter_bits(key, n), self.dtype_name).reshape(shape)

    def counter_normal(self, key: tuple, shape) -> Array:
        """Standard normal draws of the counter-based stream ``key`` (same on every backend)."""

        n, shape = _count(shape)
        return normal_from_bits(self.xp, self._counter_bits(key, n), self.dtype_name).reshape(shape)

    def read_error(self, key: tuple, h: Array, scale: float, n: int) -> Array:
        """``ζ[B, n] · (scale ‖h_b‖)``, ``ζ`` the counter-based normal draw ``key``: the output-referred
        error of ``B`` noisy reads of an ``n``-row matrix with inputs ``h[B, ·]``
        (:class:`bioplast.hardware.reads.ReadPass`; spike inputs: ``‖s_b‖ = √(spike count)``)."""

        return row_scaled_normal(self, key, ((h * h).sum(1) ** 0.5) * scale, n)

    def _counter_bits(self, key: tuple, n: int) -> Array:
        """The stream's 32-bit words ``h[0..n)`` (numpy: uint32, torch: int64)."""

        return bits_numpy(key, n)

    def fused(self, name: str):
        """The backend's compiled kernel for a whole computation, or ``None`` (then the caller runs the
        generic path, written with the verbs above; both give the same numbers).  Names:
        ``"device_write"`` (``(w, u, gain, spec, noise_key, round_key) -> update``,
        :mod:`bioplast.backends.device_write`), ``"relax"`` (EP's relaxation,
        :mod:`bioplast.dynamics.relaxation`), ``"spiking"`` (the event-driven engine,
        :mod:`bioplast.dynamics.spiking.lowering`), ``"two_layer_sweep"`` (the student–teacher lab)."""
        return None


def _count(shape):
    import math

    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (int(shape),)
    return math.prod(shape), shape
