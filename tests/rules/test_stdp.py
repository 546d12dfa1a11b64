"""STDP family and three-factor rule: hand-derived cases (derivations in comments).

Tolerance of the closed forms (:data:`REL`): the rules decay each trace by a factor e^{−dt/τ}
computed once with ``math.exp``; the closed forms call ``math.exp`` on −k·dt/τ.  One library on
both sides, within LIBM_ULPS ulp per call: a factor raised to the k ≤ T steps it decays over
carries ≤ k·LIBM_ULPS·ε, and at most two traces enter a product (≤ 2T), the closed form's ≤ 2
calls add 2·LIBM_ULPS·ε.  Each argument (|k·dt/τ| ≤ 1 here) is rounded 3 times on either side
(two decimal literals, a division): ≤ 2γ₃ on the result.  The trace multiplications and the
amplitude products and sums are ≤ 2T + 8 correctly rounded operations: γ_{2T+8}.
"""

import math

import numpy as np
import pytest

from bioplast.backends import get_backend
from bioplast.core import Local
from bioplast.errors import ConfigError
from bioplast.rules.stdp import diehl_cook_stdp, pair_stdp, triplet_stdp
from bioplast.rules.three_factor import reward_modulated
from bioplast.testing import LIBM_ULPS, eps, worst_case

K = get_backend("numpy", dtype="float64")
DT = 1e-3
T = 40  # the longest run below (steps)
REL = (2 * T + 2) * LIBM_ULPS * eps("float64") + 2 * worst_case("float64", 3) + worst_case("float64", 2 * T + 8)


def run(rule, pre_steps, post_steps, T=40, w=None, mod=None):
    """Step ``rule`` through one pre and one post neuron; return the summed change of W[0, 0]."""
    w = K.asarray(np.full((1, 1), 0.5) if w is None else w)
    state = rule.init(K, w)
    total = 0.0
    for t in range(T):
        pre = K.asarray([[1.0 if t in pre_steps else 0.0]])
        post = K.asarray([[1.0 if t in post_steps else 0.0]])
        m = None if mod is None else K.asarray([mod[t]])
        d, state = rule.update(K, Local(pre, post, m), state, w)
        total += float(d[0, 0])
    return total


def test_pair_stdp_window():
    rule = pair_stdp(a_plus=0.01, a_minus=0.012, tau_plus=20e-3, tau_minus=30e-3, dt=DT)
    # pre at 5, post at 12: potentiation A₊ e^{−7 dt/τ₊}
    assert run(rule, {5}, {12}) == pytest.approx(0.01 * math.exp(-7e-3 / 20e-3), rel=REL)
    # post at 5, pre at 12: depression −A₋ e^{−7 dt/τ₋}
    assert run(rule, {12}, {5}) == pytest.approx(-0.012 * math.exp(-7e-3 / 30e-3), rel=REL)
    # same step: the presynaptic pathway runs first, so r₁ = 1 when the post spike reads it: +A₊
    # (exact: no earlier spikes, so every trace read is 0 or 1 and no decay factor enters)
    assert run(rule, {8}, {8}) == 0.01


def test_all_to_all_and_nearest_traces_differ_as_derived():
    # two pre spikes (steps 2 and 6) then one post spike (step 10)
    a = 0.01
    tau = 20e-3
    all_to_all = pair_stdp(a_plus=a, a_minus=0.0, tau_plus=tau, dt=DT)
    nearest = pair_stdp(a_plus=a, a_minus=0.0, tau_plus=tau, dt=DT, traces="nearest")
    # all-to-all: every earlier pre spike pairs with the post spike
    assert run(all_to_all, {2, 6}, {10}) == pytest.approx(
        a * (math.exp(-8e-3 / tau) + math.exp(-4e-3 / tau)), rel=REL
    )  # a sum of two positive terms: no cancellation
    # nearest: the trace resets to 1, only the last pre spike counts
    assert run(nearest, {2, 6}, {10}) == pytest.approx(a * math.exp(-4e-3 / tau), rel=REL)


def test_triplet_term_needs_a_previous_post_spike():
    # A₃⁺ multiplies o₂, the postsynaptic trace *before* the current post spike
    rule = triplet_stdp(a2_plus=0.0, a3_plus=0.02, a2_minus=0.0, a3_minus=0.0, tau_plus=10e-3, tau_y=50e-3, dt=DT)
    assert run(rule, {3}, {5}) == 0.0  # a single post spike: o₂ = 0, no triplet potentiation
    # post spikes at 5 and 9, pre at 3: second post spike reads r₁ = e^{−6/10}, o₂ = e^{−4/50}
    expected = 0.02 * math.exp(-6e-3 / 10e-3) * math.exp(-4e-3 / 50e-3)
    assert run(rule, {3}, {5, 9}) == pytest.approx(expected, rel=REL)


def test_diehl_cook_rule_is_the_nearest_triplet_special_case():
    rule = diehl_cook_stdp(nu_pre=1e-4, nu_post=1e-2, dt=DT)
    # pre at 10 after post at 4: depression −ν_pre e^{−6/20}
    assert run(rule, {10}, {4}) == pytest.approx(-1e-4 * math.exp(-6e-3 / 20e-3), rel=REL)
    # pre at 2, posts at 6 and 14: the second post potentiates ν_post r₁ o₂ = e^{−12/20} e^{−8/40}
    expected = 1e-2 * math.exp(-12e-3 / 20e-3) * math.exp(-8e-3 / 40e-3)
    assert run(rule, {2}, {6, 14}) == pytest.approx(expected, rel=REL)


def test_soft_bounds_scale_by_distance_to_the_bound():
    soft = pair_stdp(a_plus=0.01, a_minus=0.0, dt=DT, weight_dependence="soft", w_max=1.0)
    hard = pair_stdp(a_plus=0.01, a_minus=0.0, dt=DT)
    # exact: both rules compute the same potentiation p (a₋ = 0: no depression), the soft one then
    # p·(w_max − w) — the same two correctly rounded operations as (1 − w0)·p here
    for w0 in (0.2, 0.9):
        assert run(soft, {1}, {3}, w=np.full((1, 1), w0)) == (1 - w0) * run(hard, {1}, {3})


def test_reward_modulated_stdp_gates_the_eligibility():
    inner = pair_stdp(a_plus=0.01, a_minus=0.0, tau_plus=20e-3, dt=DT)
    rule = reward_modulated(inner, tau_eligibility=50e-3, dt=DT)
    T = 40
    no_reward = np.zeros(T)
    assert run(rule, {5}, {8}, T=T, mod=no_reward) == 0.0
    # pairing at step 8 leaves e = A₊ e^{−3/20}; a unit reward at step 20 reads e · e^{−12/50}
    reward = np.zeros(T)
    reward[20] = 1.0
    expected = 0.01 * math.exp(-3e-3 / 20e-3) * math.exp(-12e-3 / 50e-3)
    assert run(rule, {5}, {8}, T=T, mod=reward) == pytest.approx(expected, rel=REL)


def test_rule_parameters_are_checked():
    with pytest.raises(ConfigError, match="tau_plus"):
        pair_stdp(tau_plus=-1.0)
    with pytest.raises(ConfigError, match="traces must be one of"):
        pair_stdp(traces="closest")
    with pytest.raises(ConfigError, match="differs from the inner rule's dt"):
        reward_modulated(pair_stdp(dt=1e-3), dt=0.5e-3)
    with pytest.raises(ConfigError, match="was built for dt"):
        from bioplast.core import plasticity
        from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
        from bioplast.dynamics.spiking.neurons import LIF

        SpikingNetwork(
            [SpikeSource("x", 2)],
            [Population("p", 2, LIF())],
            [Projection("x", "p", "v", np.zeros((2, 2)), plasticity=plasticity(pair_stdp(dt=1e-3)))],
            dt=0.5e-3,
        )
