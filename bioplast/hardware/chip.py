r"""One chip per run: a substrate's devices and neurons under one seed, with named random streams.

A :class:`Chip` is what every model builds on: it programs weights onto the profile's devices
and gives each matrix the chain of device transforms its updates go through
(:meth:`Chip.place`), holds the fixed-pattern mismatch of its neurons (:meth:`Chip.neurons`),
reads its devices noisily (:meth:`Chip.reads`) and hands out the run's random streams by name
(:meth:`Chip.stream`, :meth:`Chip.rng`).  Streams are split by name, never by arithmetic on the
seed: stream ``name`` of seed ``s`` is the first 63 bits of ``BLAKE2b("s/name")``, so two names
never share a stream and adding a stream changes no other.
"""

from __future__ import annotations

import hashlib

import numpy as np

from bioplast.errors import ConfigError
from bioplast.hardware.chain import device_transforms, program
from bioplast.hardware.physics import neuron_mismatch, spiking_mismatch
from bioplast.hardware.profile import DeviceProfile
from bioplast.hardware.reads import Reads, read_scale
from bioplast.hardware.substrates import get_substrate


def _like(a, ref):
    """Host array ``a`` as an array of ``ref``'s kind, dtype and device (numpy or torch)."""
    if isinstance(ref, np.ndarray):
        return np.asarray(a, dtype=ref.dtype)
    import torch

    return torch.as_tensor(a, dtype=ref.dtype, device=ref.device)


class Neurons(tuple):
    """The fixed-pattern mismatch of a chip's rate neurons: per layer ``(gain[n], offset[n])``.

    Neuron ``i`` of a layer computes ``φ(g_i z_i + o_i)`` of its drive ``z_i``
    (:func:`~bioplast.hardware.physics.neuron_mismatch`).  One view, three forms: :meth:`drive`
    applies it to a drive; :meth:`rows` and :meth:`bias` fold it into the layer's parameters
    (``g ⊙ W`` row by row, ``g ⊙ b + o``), which is the same network for a drive linear in them."""

    def drive(self, layer: int, z):
        g, o = self[layer]
        return z * _like(g, z) + _like(o, z)

    def rows(self, layer: int, w):
        return w * _like(self[layer][0][:, None], w)

    def bias(self, layer: int, b):
        g, o = self[layer]
        return b * _like(g, b) + _like(o, b)


class Chip:
    """A substrate profile (a :class:`~bioplast.hardware.profile.DeviceProfile`, a substrate name, or
    ``None`` for ideal float weights) and the run's ``seed``."""

    def __init__(self, profile=None, seed: int = 0):
        if profile is None or isinstance(profile, str):
            profile = get_substrate(profile or "ideal")
        if not isinstance(profile, DeviceProfile):
            raise ConfigError(f"a chip needs a DeviceProfile or a substrate name, got {type(profile).__name__}")
        self.profile, self.seed = profile, int(seed)

    def __repr__(self) -> str:
        return f"Chip({self.profile.name!r}, seed={self.seed})"

    # ---- random streams -----------------------------------------------------------------
    def stream(self, name: str) -> int:
        """The seed of stream ``name`` (a non-negative 63-bit integer)."""
        digest = hashlib.blake2b(f"{self.seed}/{name}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") >> 1

    def rng(self, name: str) -> np.random.Generator:
        """A fresh generator on stream ``name``."""
        return np.random.default_rng(self.stream(name))

    # ---- devices -------------------------------------------------------------------------
    def place(self, k, w, name: str, keep_sign: bool = False):
        """Matrix ``name`` on its own devices: ``(w as programmed, the transforms its updates go
        through)``, both from stream ``name``; the fused device write is chosen here, once, from
        backend ``k`` (``k.fused("device_write")``).  ``keep_sign`` as in
        :func:`~bioplast.hardware.chain.program`."""
        seed = self.stream(name)
        return (
            program(k, self.profile, w, seed, keep_sign),
            device_transforms(self.profile, seed, k.fused("device_write")),
        )

    def program(self, k, w, name: str, keep_sign: bool = False):
        """Matrix ``name`` written onto the devices (static synapses: inference-only chips take them)."""
        return program(k, self.profile, w, self.stream(name), keep_sign)

    # ---- neurons ---------------------------------------------------------------------------
    def neurons(self, sizes, name: str = "neurons") -> Neurons | None:
        """The mismatch of rate layers of widths ``sizes`` (``None`` where the neurons match)."""
        mm = neuron_mismatch(self.profile, sizes, self.stream(name))
        return None if mm is None else Neurons(mm)

    def spiking_neurons(self, population, index: int, name: str = "neurons") -> dict | None:
        """Per-neuron ``v_rest``, ``v_reset``, ``v_thresh`` of spiking population number ``index``
        (:func:`~bioplast.hardware.physics.spiking_mismatch`), ``None`` where the neurons match."""
        return spiking_mismatch(self.profile, population, self.stream(name), index)

    # ---- reads -----------------------------------------------------------------------------
    @property
    def read_scale(self) -> float:
        """``σ_read S``: one read's standard deviation (0 for exact reads)."""
        return read_scale(self.profile)

    def reads(self, name: str = "reads") -> Reads | None:
        """The noisy reads of stream ``name`` with their counter at 0 (``None`` for exact reads)."""
        return None if self.read_scale == 0 else Reads(self.read_scale, self.stream(name))

    # ---- what the chip holds and costs -------------------------------------------------------
    @property
    def energy(self):
        return self.profile.energy

    def check_neurons(self, counts: dict) -> None:
        self.profile.check_neurons(counts)
