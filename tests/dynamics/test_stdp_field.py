"""Curl of STDP's expected update field: closed form, exact zero for time-symmetric input, bad input."""
import numpy as np
import pytest

from bioplast import ConfigError, DataError
from bioplast.dynamics.stdp_field import (expected_stdp_field, pair_jacobian_block, palindrome, poisson_raster,
                                          sequence_raster, stdp_curl)
from bioplast.rules import get_rule

W = np.full((2, 8), 2.0)


def test_pair_stdp_jacobian_matches_the_correlogram_closed_form():
    """Running the registered pair rule on firing probabilities gives J = I ⊗ M with M from the raster's
    cross-correlograms; the field is linear in W for linear neurons, so central differences are exact
    up to rounding (measured 1.2e-10 relative: float64 sums over 300 steps divided by ε = 1e-4)."""
    rule = get_rule("pair_stdp")
    p = rule.spec.params
    seq = sequence_raster(8, 300, trials=2)
    curl = stdp_curl(rule, seq, W)
    m = pair_jacobian_block(seq, p["a2_plus"], p["a2_minus"], p["tau_plus"], p["tau_minus"], p["dt"])
    j = np.kron(np.eye(2), m)
    assert np.abs(curl.jacobian - j).max() < 1e-8 * np.abs(j).max()
    # a temporal order makes STDP rotate the weights: measured ρ = 0.83
    assert curl.rho > 0.5


def test_stdp_is_a_gradient_flow_for_time_reversal_symmetric_input():
    """A palindromic raster makes every correlogram symmetric, so J is symmetric: ρ = 0 to rounding
    (measured 7e-11), whatever the neuron's rate function; the triplet rule's ν_post² term breaks it."""
    seq = sequence_raster(8, 150, trials=2)
    pal = palindrome(seq)
    pair = get_rule("pair_stdp")
    assert stdp_curl(pair, pal, W).rho < 1e-8
    assert stdp_curl(pair, pal, W, rate="exponential", gain=0.5).rho < 1e-8
    assert stdp_curl(get_rule("triplet_stdp"), pal, W).rho > 0.03  # measured 0.10


def test_stationary_poisson_input_has_curl_only_from_sampling():
    """ρ shrinks like 1/√T with the window for independent Poisson trains (measured 0.48, 0.23, 0.13)."""
    pair = get_rule("pair_stdp")
    rho = [stdp_curl(pair, poisson_raster(8, t, trials=2, seed=1), W).rho for t in (250, 1000, 4000)]
    assert rho[0] > rho[1] > rho[2] and rho[2] < rho[0] / 2.5


def test_bad_input_is_named():
    pair = get_rule("pair_stdp")
    seq = sequence_raster(4, 50)
    with pytest.raises(ConfigError, match="not an STDP-family rule"):
        expected_stdp_field(get_rule("oja"), seq, 2)
    with pytest.raises(ConfigError, match="nearest-spike traces"):
        expected_stdp_field(get_rule("diehl_cook_stdp"), seq, 2)
    with pytest.raises(DataError, match="0 or 1"):
        expected_stdp_field(pair, seq * 2, 2)
    with pytest.raises(DataError, match="n_pre = 4"):
        stdp_curl(pair, seq, np.ones((2, 5)))
    with pytest.raises(ConfigError, match="outside \\[0, 1\\]"):
        stdp_curl(pair, seq, np.full((2, 4), 2000.0))
    with pytest.raises(ConfigError, match="rate must be one of"):
        expected_stdp_field(pair, seq, 2, rate="sigmoid")
    with pytest.raises(ConfigError, match="shorter than the sequence"):
        sequence_raster(10, 100, spacing=3, period=20)
