"""``gradcheck`` checks a two-phase rule's own update, whoever wrote the rule."""

import dataclasses

import pytest

from bioplast.analysis.gradcheck import ep_gradcheck
from bioplast.core import Rule
from bioplast.errors import ConfigError
from bioplast.rules import eqprop, oja

SMALL = dict(task="digits", hidden=(16,), samples=8, backend="numpy", dtype="float64")


def _doubled(rule):
    def update(k, c, state, w):
        d, state = rule.update(k, c, state, w)
        return 2 * d, state

    return Rule(rule.init, update, dataclasses.replace(rule.spec, name="doubled"))


def test_the_weights_rows_come_from_the_rules_own_update():
    base = eqprop(beta=0.05, estimator="symmetric", cost="mse", free_steps=20, nudge_steps=8)
    a = {r["param"]: r for r in ep_gradcheck(base, **SMALL)}
    b = {r["param"]: r for r in ep_gradcheck(_doubled(base), **SMALL)}
    # doubling is exact in binary floating point, so the cosine of 2e with the oracle is the cosine
    # of e, bit for bit; the relative error is that of 2e: ‖2e − r‖ ≥ ‖e − r‖ when e ≈ r
    for name in ("W1", "W2"):
        assert b[name]["cosine"] == a[name]["cosine"]
        assert b[name]["relative_error"] > 0.5 > a[name]["relative_error"]
    # the biases follow EP's own contrast either way
    assert b["b1"] == a["b1"] and b["b2"] == a["b2"]


def test_a_rule_that_is_not_two_phase_or_lacks_phase_parameters_is_named():
    with pytest.raises(ConfigError, match="'oja' is not one"):
        ep_gradcheck(oja(), **SMALL)
    base = eqprop()
    bare = Rule(base.init, base.update, dataclasses.replace(base.spec, name="bare", params={"beta": 0.1}))
    with pytest.raises(ConfigError, match="'bare' does not declare free_steps, nudge_steps, estimator"):
        ep_gradcheck(bare, **SMALL)
