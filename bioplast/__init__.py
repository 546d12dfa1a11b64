"""bioplast: local plasticity rules, checked against independent references.

Public API (see README):

>>> from bioplast import plasticity, get_backend, Local
>>> from bioplast.rules import oja
>>> from bioplast.geometry import additive
"""

__version__ = "0.1.0"

# the geometries and the device transforms register their spec kinds on import, so that
# core.from_spec reads any transform record (a NIR sidecar, a suite) whatever was imported first
import bioplast.geometry  # noqa: E402, F401
import bioplast.hardware  # noqa: E402, F401
from bioplast.backends import available_backends, get_backend, list_backends  # noqa: E402
from bioplast.core import Contrast, Local, Oscillation, Plasticity, Rule, RuleSpec, Transform, apply_updates, plasticity  # noqa: E402
from bioplast.errors import BioplastError, ConfigError, DataError, DivergenceError  # noqa: E402

__all__ = [
    "__version__",
    "Local",
    "Contrast",
    "Oscillation",
    "Rule",
    "RuleSpec",
    "Transform",
    "Plasticity",
    "plasticity",
    "apply_updates",
    "get_backend",
    "list_backends",
    "available_backends",
    "BioplastError",
    "ConfigError",
    "DataError",
    "DivergenceError",
]
