"""Rules: WHAT changes.  One family per module; all listed in :data:`RULES`."""
from bioplast.rules.backprop import backprop, backprop_errors, feedback_alignment
from bioplast.rules.curl import curl, sign_diverse
from bioplast.rules.eqprop import ep_estimate, ep_phases, eqprop, gen_eqprop, holo_eqprop
from bioplast.rules.hebbian import anti_hebb, bcm, delta, hebb, oja
from bioplast.rules.perturbation import node_perturbation, weight_perturbation
from bioplast.rules.registry import RULES, get_rule, rule_names

__all__ = ["hebb", "anti_hebb", "oja", "bcm", "delta", "backprop", "backprop_errors", "feedback_alignment",
           "RULES", "get_rule", "rule_names", "curl", "sign_diverse", "eqprop", "holo_eqprop", "gen_eqprop", "ep_estimate", "ep_phases",
           "weight_perturbation", "node_perturbation"]
