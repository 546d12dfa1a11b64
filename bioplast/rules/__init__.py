"""Rules: WHAT changes.  One family per module; all listed in :data:`RULES`."""

from bioplast.rules.backprop import backprop, feedback_alignment
from bioplast.rules.curl import curl, sign_diverse
from bioplast.rules.eqprop import eqprop, gen_eqprop, holo_eqprop
from bioplast.rules.hebbian import anti_hebb, bcm, delta, hebb, oja
from bioplast.rules.perturbation import node_perturbation, weight_perturbation
from bioplast.rules.registry import RULES, get_rule, rule_names

__all__ = [
    "hebb",
    "anti_hebb",
    "oja",
    "bcm",
    "delta",
    "backprop",
    "feedback_alignment",
    "RULES",
    "get_rule",
    "rule_names",
    "curl",
    "sign_diverse",
    "eqprop",
    "holo_eqprop",
    "gen_eqprop",
    "weight_perturbation",
    "node_perturbation",
]
