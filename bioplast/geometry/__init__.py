"""Geometry: HOW a rule's direction becomes an update.

``additive`` (Euclidean), ``exponentiated`` (EG, sign-preserving),
``mirror_descent`` (p-norm potentials), ``dale`` (sign projection), ``eg_pm``
(differential pair), ``adam``, ``masked``, ``normalise_incoming``
(homeostatic row normalisation); :func:`geometry_test` tells which
geometry a weight change came from (Pogodin et al. 2024).
"""

from bioplast.errors import unknown_name
from bioplast.geometry.adam import adam
from bioplast.geometry.additive import additive
from bioplast.geometry.dale import dale, eg_pm, lognormal_signed, sign_frozen
from bioplast.geometry.exponentiated import exponentiated
from bioplast.geometry.identify import POTENTIALS, geometry_test
from bioplast.geometry.mask import masked
from bioplast.geometry.mirror import mirror_descent
from bioplast.geometry.normalise import normalise_incoming

# optimisers the trainer can build from a name and a learning rate
OPTIMIZERS = {"sgd": additive, "adam": adam, "eg": exponentiated}


def optimizer(name: str, lr: float):
    """The learning-rate transform called ``name`` (``sgd`` = additive, ``adam``, ``eg`` = exponentiated)."""
    try:
        return OPTIMIZERS[name](lr)
    except KeyError:
        raise unknown_name("optimizer", name, OPTIMIZERS) from None


__all__ = [
    "additive",
    "masked",
    "adam",
    "exponentiated",
    "mirror_descent",
    "dale",
    "eg_pm",
    "lognormal_signed",
    "sign_frozen",
    "normalise_incoming",
    "geometry_test",
    "POTENTIALS",
    "optimizer",
    "bias_optimizer",
    "OPTIMIZERS",
]


def bias_optimizer(name: str, lr: float):
    """Biases have no sign to keep and start at zero, where EG could never move
    them: under ``eg`` they take additive steps."""
    return optimizer("sgd" if name == "eg" else name, lr)
