r"""Zeroth-order (perturbation) rules: a random probe, a global reinforcement signal, no backward pass.

Both rules turn "how much better did the network do when I was perturbed?"
into a weight change; the network evaluates the loss, the synapse only
correlates that global signal with its own (or its neuron's) perturbation.

* **Weight perturbation** (Jabri & Flower 1992, IEEE Trans. Neural Netw. 3:154;
  the antithetic form is Spall's SPSA, 1992, IEEE Trans. Autom. Control 37:332):
  every synapse adds ``σ ξ_ij`` (``ξ ~ N(0, 1)``, its own probe) and
  ``ΔW = ⟨r_p ξ_p⟩_p`` over the probes ``p`` of the step, with ``r_p ≈ −∇L · ξ_p``
  the reinforcement the network computed for probe ``p``.
* **Node perturbation** (Williams 1992, Mach. Learn. 8:229; Fiete & Seung 2006,
  PRL 97:048104; Werfel, Xie & Seung 2005, Neural Comput. 17:2699): every
  neuron adds ``σ ξ_i`` to its drive; ``ΔW = ⟨r_b ξ_b h_bᵀ⟩_b`` — a
  three-factor rule (reinforcement × the neuron's own noise × presynaptic activity).

Since ``E[ξ ξᵀ] = I``, both are unbiased estimates of ``−∇L`` to ``O(σ²)``
(:mod:`bioplast.dynamics.perturbation` computes ``r`` with antithetic
probes, a clean-pass baseline, a running baseline or none).  Reviewed as
zeroth-order optimisation in "A Unified Perspective on Optimization in
Machine Learning and Neuroscience: From Gradient Descent to Neural
Adaptation" (2025, arXiv:2510.18812), which argues that intrinsic — and on
chips, device — noise is the probe.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.core import Rule, RuleSpec
from bioplast.errors import ConfigError, unknown_name
from bioplast.validate import positive, positive_int

ESTIMATORS = ("antithetic", "forward", "running", "none")
NOISE_SOURCES = ("injected", "device")
CITATION_ZO = "arXiv:2510.18812 (2025) (zeroth-order review)"


class ProbeState(NamedTuple):
    """The probe stream of one layer: probes are a function of ``(seed, layer, step)``, so the
    network that evaluates the perturbed loss and the rule that correlates it draw the same ``ξ``."""

    seed: int
    step: int
    layer: int = 0


def weight_probe(k, state: ProbeState, shape, probes: int):
    """The ``probes`` weight probes ``ξ[P, n_post, n_pre] ~ N(0, 1)`` of the step ``state`` names.

    Drawn on the host from ``(seed, layer, step)``: every backend (and a resumed run) sees the same
    probes."""
    rng = np.random.default_rng([int(state.seed), int(state.layer), int(state.step), 11])
    return k.asarray(rng.standard_normal((int(probes), *map(int, shape))))


def _check(sigma, probes, estimator):
    positive("perturbation sigma", sigma)
    positive_int("probes", probes)
    if estimator not in ESTIMATORS:
        raise unknown_name("estimator", estimator, ESTIMATORS)


def weight_perturbation(sigma: float = 1e-3, probes: int = 8, estimator: str = "antithetic", seed: int = 0) -> Rule:
    r"""Weight perturbation: ``ΔW = (1/P) Σ_p r_p ξ_p``.

    ``signals.mod`` is the reinforcement ``r[P]`` (one global value per probe) or ``r[P, n_post]``
    (one per neuron and probe, e.g. a layer-local loss); ``pre``/``post`` carry the layer's
    batch-mean activity in each probe's trial and are not read.  The probes ``ξ_p`` come from
    :func:`weight_probe` with the rule's state; layer ``i`` (:meth:`~bioplast.core.Rule.at_layer`)
    draws from the stream ``(seed, i)``.  ``sigma``, ``probes`` and ``estimator`` tell the network how to
    compute ``r`` (:func:`bioplast.dynamics.perturbation.weight_perturbation_signals`).
    """
    _check(sigma, probes, estimator)
    spec = RuleSpec(
        "weight_perturbation",
        "zeroth-order",
        frozenset({"mod"}),
        "network",
        "ΔW = ⟨r_p ξ_p⟩_p,  r_p = −[L(W+σξ_p) − L(W−σξ_p)]/(2σ) (antithetic; or a baseline)",
        f"Jabri & Flower (1992) IEEE Trans. Neural Netw. 3:154; Spall (1992); {CITATION_ZO}",
        {
            "probe": "weight",
            "sigma": sigma,
            "probes": probes,
            "estimator": estimator,
            "noise": "injected",
            "seed": seed,
        },
    )

    def update(k, s, state, w):
        xi = weight_probe(k, state, tuple(w.shape), s.mod.shape[0])
        r = s.mod if s.mod.ndim == 2 else s.mod[:, None]
        direction = (xi * r[:, :, None]).mean(0)
        return direction, state._replace(step=state.step + 1)

    def at(i):
        return Rule(lambda k, w: ProbeState(seed, 0, i), update, spec, at)

    return at(0)


def node_perturbation(
    sigma: float = 0.05, probes: int = 1, estimator: str = "antithetic", noise: str = "injected"
) -> Rule:
    r"""Node perturbation: ``ΔW = ⟨r_b ξ_b h_bᵀ⟩_b``.

    ``signals.post`` is each neuron's standardised perturbation ``ξ[B, n_post]`` (its own noise,
    unit variance), ``signals.pre`` the presynaptic activity ``h[B, n_pre]`` of the same trial and
    ``signals.mod`` the reinforcement ``r[B]`` (global, per sample) or ``r[B, n_post]``.
    ``probes`` noisy copies of each sample are drawn per step.

    ``noise="injected"``: the network adds ``σ ξ`` to every drive.  ``noise="device"``: the
    substrate's own read noise is the probe (:func:`bioplast.hardware.reads.read_noise`; needs a
    profile with ``read_noise > 0``): the reinforcement compares two noisy reads of the same
    sample, so no noise-free pass and no generator of probes are needed.
    """
    _check(sigma, probes, estimator)
    if noise not in NOISE_SOURCES:
        raise unknown_name("noise", noise, NOISE_SOURCES)
    if noise == "device" and estimator == "antithetic":
        raise ConfigError(
            "node_perturbation(noise='device') cannot use the antithetic estimator: a device "
            "cannot read its own noise negated; use estimator='forward' (a second noisy read "
            "as baseline), 'running' or 'none'"
        )

    def update(k, s, state, w):
        r = s.mod[:, None] if s.mod.ndim == 1 else s.mod
        return k.outer_mean(s.post * r, s.pre), state

    return Rule(
        lambda k, w: (),
        update,
        RuleSpec(
            "node_perturbation",
            "zeroth-order",
            frozenset({"pre", "post", "mod"}),
            "network",
            "ΔW = ⟨r_b ξ_b h_bᵀ⟩_b,  ξ: the neuron's own perturbation, r_b = −ΔL_b/σ (global reinforcement)",
            f"Williams (1992) Mach. Learn. 8:229; Fiete & Seung (2006) PRL 97:048104; {CITATION_ZO}",
            {"probe": "node", "sigma": sigma, "probes": probes, "estimator": estimator, "noise": noise},
        ),
    )
