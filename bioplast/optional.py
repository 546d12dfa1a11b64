"""Optional dependencies: which extra installs each one, and one error when it is missing.

The core (numpy, numba, scipy for numba's BLAS, tqdm) runs the rules, geometries, substrates and the numpy and numba
backends.  Everything else is an extra; :func:`require` imports it where it is needed and, when it
is absent, says what needed it and which ``pip install 'bioplast[EXTRA]'`` brings it in.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from bioplast.errors import ConfigError

#: top-level module → (the extra that installs it, the distribution's name on the package index)
EXTRAS = {
    "torch": ("torch", "torch"),
    "snntorch": ("spiking", "snntorch"),
    "brian2": ("spiking", "brian2"),
    "sklearn": ("data", "scikit-learn"),
    "mlxtend": ("data", "mlxtend"),
    "mnist1d": ("data", "mnist1d"),
    "PIL": ("data", "pillow"),
    "matplotlib": ("bench", "matplotlib"),
    "pyarrow": ("bench", "pyarrow"),
    "threadpoolctl": ("bench", "threadpoolctl"),
    "distributed": ("bench", "dask[distributed]"),
    "nir": ("nir", "nir"),
    "nirtorch": ("nir", "nirtorch"),
    "neurobench": ("metrics", "neurobench"),
}


class MissingDependency(ConfigError, ImportError):
    """An optional package that a feature needs is not installed."""


def require(module: str, purpose: str) -> ModuleType:
    """Import ``module`` (e.g. ``"torch"`` or ``"sklearn.datasets"``) for ``purpose``.

    :raises MissingDependency: the package is not installed; the message names ``purpose``, the
        package and the extra, e.g. ``the torch backend needs torch, which is not installed here:
        pip install 'bioplast[torch]'``.
    """
    top = module.split(".")[0]
    if top not in EXTRAS:
        raise ConfigError(f"{top!r} is not an optional dependency of bioplast; known: {', '.join(sorted(EXTRAS))}")
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        # only the package itself missing is ours to explain; a broken install deeper down keeps
        # its own message (it names the module that failed)
        if exc.name is None or exc.name.split(".")[0] != top:
            raise
        extra, dist = EXTRAS[top]
        raise MissingDependency(
            f"{purpose} needs {dist}, which is not installed here: pip install 'bioplast[{extra}]'"
        ) from None


def available(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):  # a finder that refuses it, or a half-imported module
        return False
