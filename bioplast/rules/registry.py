"""The rule registry: one list feeds the CLI, the trainer and the conformance battery."""

from __future__ import annotations

import inspect
from collections.abc import Callable

from bioplast.core import Rule
from bioplast.errors import ConfigError
from bioplast.plugins import Registry, origin_of
from bioplast.rules.backprop import backprop, feedback_alignment
from bioplast.rules.curl import curl
from bioplast.rules.eqprop import eqprop, gen_eqprop, holo_eqprop
from bioplast.rules.hebbian import anti_hebb, bcm, delta, hebb, oja
from bioplast.rules.perturbation import node_perturbation, weight_perturbation
from bioplast.rules.stdp import diehl_cook_stdp, pair_stdp, triplet_stdp
from bioplast.rules.three_factor import reward_modulated

RULES: dict[str, Callable[..., Rule]] = {
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


def _as_factory(obj, label: str):
    """A rule plugin is a factory returning a :class:`~bioplast.core.Rule` (called with the rule's
    parameters) or a ready :class:`~bioplast.core.Rule` (which takes none)."""
    if isinstance(obj, Rule):
        return lambda **params: _no_params(obj, params, label)
    if callable(obj):
        return obj
    raise ConfigError(f"{label} is a {type(obj).__name__}; expected a Rule or a factory returning one")


def _no_params(rule: Rule, params: dict, label: str) -> Rule:
    if params:
        raise ConfigError(f"{label} is a ready Rule; it takes no parameters, got {sorted(params)}")
    return rule


REGISTRY = Registry("rule", RULES, _as_factory)


def get_rule(name, **params) -> Rule:
    """The rule called ``name`` — built-in, an installed ``bioplast.rules`` plugin, or a
    ``package.module:factory`` reference — with its parameters; a :class:`~bioplast.core.Rule`
    object is returned as it is."""
    if isinstance(name, Rule):
        return _no_params(name, params, f"rule {name.spec.name!r}")
    factory = REGISTRY.get(name)
    try:
        inspect.signature(factory).bind(**params)
    except TypeError:
        valid = list(inspect.signature(factory).parameters)
        raise ConfigError(
            f"rule {name!r} got parameters {sorted(params)}; it accepts {', '.join(valid) if valid else 'none'}"
        ) from None
    except ValueError:  # a builtin without a signature: let the call say
        pass
    rule = factory(**params)
    if not isinstance(rule, Rule):
        raise ConfigError(
            f"rule {name!r} ({origin_of(REGISTRY, name)}) returned a {type(rule).__name__}; expected "
            "a bioplast.core.Rule (make it with Rule(init, update, RuleSpec(...)))"
        )
    return rule


def rule_names() -> list:
    """Built-in rules, then installed plugins."""
    return REGISTRY.names()
