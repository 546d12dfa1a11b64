"""Exponentiated gradient: mirror descent with the negative-entropy potential.

Kivinen & Warmuth (1997), "Exponentiated Gradient versus Gradient Descent for
Linear Predictors"; for signed weights with fixed signs (Dale's principle)
as in Cornford et al. (2021) and Pogodin et al. (2024):

    w ← w ⊙ exp(η sign(w) ⊙ d − η λ)

``d`` is the rule's direction (``−∇L`` for a gradient rule).  The step is
multiplicative, so no weight ever changes sign, magnitudes move on a log
scale (log-normal weights emerge), and ``λ > 0`` is weight decay as
multiplicative shrinkage.  As ``η → 0`` it is the additive step scaled per
synapse by ``|w|`` (tested).  A weight that is exactly zero can never move:
the transform refuses such weights at ``init`` rather than leave them dead.
"""

from __future__ import annotations

from bioplast.core import Transform, stateless, transform_factory
from bioplast.errors import ConfigError
from bioplast.validate import positive


@transform_factory("exponentiated")
def exponentiated(lr: float, decay: float = 0.0) -> Transform:
    """``Δw = w ⊙ expm1(η sign(w) ⊙ d − ηλ)`` with ``η = lr > 0``, ``λ = decay ≥ 0``."""
    eta = positive("lr", lr)
    shrink = eta * positive("decay", decay, allow_zero=True)
    name = f"exponentiated({eta:g}" + (f", decay={decay:g})" if decay else ")")
    update = stateless(name, lambda k, d, w: k.signed_expm1(w, d, eta, shrink)).update

    def init(k, w):
        zeros = int((k.to_numpy(w) == 0).sum())
        if zeros:
            raise ConfigError(
                f"exponentiated geometry: {zeros} weight(s) are exactly zero and could never move "
                "under a multiplicative update; initialise away from zero (e.g. "
                "bioplast.geometry.lognormal_signed) or use eg_pm for weights that must cross zero"
            )
        return ()

    return Transform(init, update, name)
