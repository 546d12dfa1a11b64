"""Geometry: HOW a rule's direction becomes an update (additive, masked, adam, …)."""
from ..errors import unknown_name
from .adam import adam
from .additive import additive
from .mask import masked

# optimisers the trainer can build from a name and a learning rate
OPTIMIZERS = {"sgd": additive, "adam": adam}


def optimizer(name: str, lr: float):
    """The learning-rate transform called ``name`` (``sgd`` = additive, ``adam``)."""
    try:
        return OPTIMIZERS[name](lr)
    except KeyError:
        raise unknown_name("optimizer", name, OPTIMIZERS) from None


__all__ = ["additive", "masked", "adam", "optimizer", "OPTIMIZERS"]
