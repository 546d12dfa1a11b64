"""The rule registry: one list feeds the CLI, the trainer and the conformance battery."""
from __future__ import annotations

from typing import Callable, Dict

from bioplast.core import Rule
from bioplast.errors import ConfigError, unknown_name
from bioplast.rules.backprop import backprop, feedback_alignment
from bioplast.rules.curl import curl
from bioplast.rules.eqprop import eqprop, gen_eqprop, holo_eqprop
from bioplast.rules.hebbian import anti_hebb, bcm, delta, hebb, oja
from bioplast.rules.perturbation import node_perturbation, weight_perturbation
from bioplast.rules.stdp import diehl_cook_stdp, pair_stdp, triplet_stdp
from bioplast.rules.three_factor import reward_modulated

RULES: Dict[str, Callable[..., Rule]] = {
    "hebb": hebb,
    "anti_hebb": anti_hebb,
    "oja": oja,
    "bcm": bcm,
    "delta": delta,
    "backprop": backprop,
    "feedback_alignment": feedback_alignment,
    "eqprop": eqprop,
    "holo_eqprop": holo_eqprop,
    "gen_eqprop": gen_eqprop,
    "curl": curl,
    "weight_perturbation": weight_perturbation,
    "node_perturbation": node_perturbation,
    "pair_stdp": pair_stdp,
    "triplet_stdp": triplet_stdp,
    "diehl_cook_stdp": diehl_cook_stdp,
    "reward_stdp": reward_modulated,
}

# Backends each rule runs on; every rule written against the kernel
# vocabulary runs on all of them.
RULE_BACKENDS = ("numpy", "numba", "torch")


def get_rule(name: str, **params) -> Rule:
    """Instantiate a registered rule by name with its parameters."""
    try:
        factory = RULES[name]
    except KeyError:
        raise unknown_name("rule", name, RULES) from None
    try:
        return factory(**params)
    except TypeError:
        import inspect

        valid = list(inspect.signature(factory).parameters)

        raise ConfigError(f"rule {name!r} got parameters {sorted(params)}; it accepts "
                          f"{', '.join(valid) if valid else 'none'}") from None


def rule_names() -> list:
    return list(RULES)
