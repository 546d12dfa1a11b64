"""Backends: WHERE a rule runs.  ``get_backend(name, device=..., dtype=...)``.

=========  =========================================================
numpy      reference implementation and oracle (always available)
numba      njit CPU kernels, compiled once and cached on disk
torch      PyTorch kernels; ``device='cpu'`` or ``'cuda'``
=========  =========================================================
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

from bioplast.backends.base import Backend, BackendInfo
from bioplast.backends.numba.backend import NumbaBackend, numba_info
from bioplast.backends.numpy_backend import NumpyBackend
from bioplast.backends.torch_backend import TorchBackend, torch_infos
from bioplast.errors import ConfigError
from bioplast.plugins import Registry, is_reference

BACKENDS = ("numpy", "numba", "torch")


def list_backends() -> list:
    """One :class:`BackendInfo` per (backend, device), available or not."""
    return [NumpyBackend.info(), numba_info(), *torch_infos()]


def available_backends() -> list:
    """``(name, device)`` pairs that can run here."""
    return [(i.name, i.device) for i in list_backends() if i.available]


def _as_factory(obj, label: str):
    """A backend plugin is a :class:`Backend` subclass or a factory; either is called with ``dtype``
    (and ``device`` where it takes one) and must give a :class:`Backend`."""
    if isinstance(obj, Backend):
        return lambda **kw: obj
    if callable(obj):
        return obj
    raise ConfigError(f"{label} is a {type(obj).__name__}; expected a Backend subclass or a factory returning one")


REGISTRY = Registry("backend", dict.fromkeys(BACKENDS), _as_factory)


def _plugin(name: str, device: str, dtype: str) -> Backend:
    factory = REGISTRY.get(name)
    params: Mapping[str, inspect.Parameter]
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        params = {}
    kw = {"dtype": dtype, **({"device": device} if "device" in params else {})}
    if device != "cpu" and "device" not in params:
        raise ConfigError(f"backend {name!r} takes no device; got device {device!r}")
    backend = factory(**kw)
    if not isinstance(backend, Backend):
        raise ConfigError(
            f"backend {name!r} gave a {type(backend).__name__}; expected a bioplast Backend "
            "(a subclass of bioplast.backends.Backend)"
        )
    return backend


def get_backend(name: str = "numpy", *, device: str = "cpu", dtype: str = "float32") -> Backend:
    """A backend by name — ``numpy``, ``numba``, ``torch`` (``'torch:cuda'`` is shorthand for
    ``('torch', device='cuda')``), an installed ``bioplast.backends`` plugin or a
    ``package.module:Backend`` reference; a :class:`Backend` itself is returned as it is."""
    if isinstance(name, Backend):
        return name
    if not isinstance(name, str):
        raise ConfigError(f"backend name must be a string, got {name!r}")
    if ":" in name and name.split(":", 1)[0] in BACKENDS:  # "torch:cuda": a built-in on a device
        name, device = name.split(":", 1)
    elif is_reference(name):
        return _plugin(name, device, dtype)
    if name not in BACKENDS:
        return _plugin(name, device, dtype)
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
