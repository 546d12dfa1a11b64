"""Every kernel and every registered rule on every available backend vs numpy float64."""
import pytest

from bioplast.geometry import adam, additive, exponentiated, mirror_descent
from bioplast.rules import RULES
from bioplast.testing import conformance


def test_kernels_match_reference(backend):
    conformance.check_kernels(backend)


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_matches_reference(rule, backend):
    conformance.check_rule(rule, backend)


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_reads_are_local(rule):
    conformance.check_locality(rule)


@pytest.mark.parametrize("rule", list(RULES))
def test_chain_keeps_shape_dtype_and_inputs(rule, backend):
    conformance.check_plasticity_chain(rule, backend, (additive(0.1),))
    conformance.check_plasticity_chain(rule, backend, (exponentiated(0.1, decay=0.01),))
    conformance.check_plasticity_chain(rule, backend, (adam(0.01), mirror_descent(1.0, 3.0)))


def test_locality_check_catches_a_nonlocal_rule(monkeypatch):
    """The battery must fail on a rule that mixes rows (normalises by a global sum)."""
    from bioplast.core import Rule, RuleSpec
    from bioplast.rules import registry

    def update(k, s, state, w):
        d = k.outer_mean(s.post, s.pre)
        return d / (1.0 + (d ** 2).sum()), state

    bad = Rule(lambda k, w: (), update, RuleSpec("bad", "test", frozenset({"pre", "post"}), "feature", "", ""))
    monkeypatch.setitem(registry.RULES, "bad", lambda: bad)
    with pytest.raises(AssertionError, match="not local"):
        conformance.check_locality("bad")


def test_locality_check_catches_an_undeclared_read(monkeypatch):
    from bioplast.core import Rule, RuleSpec
    from bioplast.rules import registry

    sneaky = Rule(lambda k, w: (), lambda k, s, st, w: (k.outer_mean(s.post, s.pre) - w, st),
                  RuleSpec("sneaky", "test", frozenset({"pre", "post"}), "feature", "", ""))
    monkeypatch.setitem(registry.RULES, "sneaky", lambda: sneaky)
    with pytest.raises(AssertionError, match="does not declare 'w'"):
        conformance.check_locality("sneaky")


def test_assert_close_rejects_a_real_error():
    import numpy as np

    from bioplast.testing import assert_close

    x = np.linspace(1, 2, 10)
    assert_close(x * (1 + 1e-7), x, dtype="float32")
    with pytest.raises(AssertionError):
        assert_close(x * (1 + 1e-4), x, dtype="float32")
