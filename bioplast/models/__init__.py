"""Models: a network, one Plasticity per plastic matrix and a Chip, behind one Model protocol.

Kinds (the registry :data:`MODELS`): ``error_driven``, ``delta_readout``, ``clamped_readout``,
``zeroth_order`` (the rate MLP family, :mod:`~bioplast.models.mlp`), ``ep``
(:mod:`~bioplast.models.ep`), ``dale`` (:mod:`~bioplast.models.dale`), ``diehl_cook``
(:mod:`~bioplast.models.diehl_cook`) and ``surrogate`` (:mod:`~bioplast.models.surrogate`).
"""

from bioplast.models import dale, diehl_cook, ep, mlp, surrogate  # noqa: F401  (each registers its kinds)
from bioplast.models.base import (
    LEARNING_OPS,
    MODELS,
    Directions,
    Model,
    Plan,
    RateModel,
    Step,
    build_model,
    register_model,
)
from bioplast.models.mlp import MLP, mlp_builder

__all__ = [
    "LEARNING_OPS",
    "MODELS",
    "Model",
    "Plan",
    "Step",
    "Directions",
    "RateModel",
    "MLP",
    "build_model",
    "register_model",
    "mlp_builder",
]
