"""Backends: WHERE a rule runs.  ``get_backend(name, device=..., dtype=...)``.

=========  =========================================================
numpy      reference implementation and oracle (always available)
numba      njit CPU kernels, compiled once and cached on disk
torch      PyTorch kernels; ``device='cpu'`` or ``'cuda'``
=========  =========================================================
"""
from __future__ import annotations

from bioplast.backends.base import Backend, BackendInfo
from bioplast.backends.numba.backend import NumbaBackend, numba_info
from bioplast.backends.numpy_backend import NumpyBackend
from bioplast.backends.torch_backend import TorchBackend, torch_infos
from bioplast.errors import ConfigError, unknown_name

BACKENDS = ("numpy", "numba", "torch")


def list_backends() -> list:
    """One :class:`BackendInfo` per (backend, device), available or not."""
    return [NumpyBackend.info(), numba_info(), *torch_infos()]


def available_backends() -> list:
    """``(name, device)`` pairs that can run here."""
    return [(i.name, i.device) for i in list_backends() if i.available]


def get_backend(name: str = "numpy", *, device: str = "cpu", dtype: str = "float32") -> Backend:
    """Instantiate a backend by name; ``'torch:cuda'`` is shorthand for ``('torch', device='cuda')``."""
    if isinstance(name, Backend):
        return name
    if not isinstance(name, str):
        raise ConfigError(f"backend name must be a string, got {name!r}")
    if ":" in name:
        name, device = name.split(":", 1)
    if name not in BACKENDS:
        raise unknown_name("backend", name, BACKENDS)
    if name == "torch":
        return TorchBackend(dtype=dtype, device=device)
    if device != "cpu":
        raise ConfigError(f"backend {name!r} runs on 'cpu' only, got device {device!r}")
    if name == "numba":
        if not numba_info().available:
            raise ConfigError(f"backend 'numba' is unavailable: {numba_info().note}")
        return NumbaBackend(dtype=dtype)
    return NumpyBackend(dtype=dtype)


__all__ = ["Backend", "BackendInfo", "BACKENDS", "get_backend", "list_backends", "available_backends"]
