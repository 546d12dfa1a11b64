"""Curl of STDP's expected update field: closed form, exact zero for time-symmetric input, bad input."""

import numpy as np
import pytest

from bioplast import ConfigError, DataError
from bioplast.analysis.stdp_field import (
    expected_stdp_field,
    pair_jacobian_block,
    palindrome,
    poisson_raster,
    sequence_raster,
    stdp_curl,
)
from bioplast.rules import get_rule
from bioplast.rules.stdp import pair_stdp
from bioplast.testing import eps, tolerance, worst_case

W = np.full((2, 8), 2.0)
EPS_FD = 1e-4  # stdp_curl's central-difference step


def _fd_error(pre, jacobian, rate="linear", gain=1.0):
    """Bound on max|J̃ − J| of stdp_curl's central differences for the pair rule at W.

    F̃ − F: the field is a float64 mean over the T steps of per-step changes, each a trial mean of
    trace products (a trace ≈ 1/(1 − d) terms): random-walk tolerance over n = T + 1/(1 − d) + trials
    + 4 terms relative to the size of the summands, S = F_pot − F_dep (the field's potentiating and
    depressing parts, each one-signed, from the rule with the other amplitude zeroed).  Central
    differences turn it into ≤ tol·S/ε; for a rate e^{g u} they also truncate by ≤ ε²/6·g³·S
    (∂³p/∂w³ = g³ s³ p, s ∈ {0, 1}, and F is linear in p); the difference and division round
    (γ₃|J|), and θ ± ε rounds the step by ≤ u|θ|, a relative u|θ|/ε of J."""
    p = get_rule("pair_stdp").spec.params
    kw = dict(tau_plus=p["tau_plus"], tau_minus=p["tau_minus"], dt=p["dt"])
    parts = [
        expected_stdp_field(pair_stdp(a_plus=ap, a_minus=am, **kw), pre, W.shape[0], rate, gain=gain)(W.ravel())
        for ap, am in ((p["a2_plus"], 0.0), (0.0, p["a2_minus"]))
    ]
    size = float(np.max(parts[0] - parts[1]))
    n = pre.shape[1] + 1 / (1 - np.exp(-p["dt"] / p["tau_plus"])) + pre.shape[0] + 4
    truncation = EPS_FD**2 / 6 * gain**3 * size if rate == "exponential" else 0.0
    top = float(np.abs(jacobian).max())
    return (
        tolerance("float64", n) * size / EPS_FD
        + truncation
        + (worst_case("float64", 3) + eps("float64") / 2 * float(np.abs(W).max()) / EPS_FD) * top
    )


def test_pair_stdp_jacobian_matches_the_correlogram_closed_form():
    """Running the registered pair rule on firing probabilities gives J = I ⊗ M with M from the raster's
    cross-correlograms; the field is linear in W for linear neurons, so central differences are exact
    up to rounding: the field's float64 sums over 300 steps divided by ε = 1e-4 (:func:`_fd_error`)."""
    rule = get_rule("pair_stdp")
    p = rule.spec.params
    seq = sequence_raster(8, 300, trials=2)
    curl = stdp_curl(rule, seq, W)
    m = pair_jacobian_block(seq, p["a2_plus"], p["a2_minus"], p["tau_plus"], p["tau_minus"], p["dt"])
    j = np.kron(np.eye(2), m)
    assert np.abs(curl.jacobian - j).max() <= _fd_error(seq, curl.jacobian)
    # a temporal order makes STDP rotate the weights: measured ρ = 0.83 (a gradient field has ρ = 0)
    assert curl.rho > 0.5


def test_stdp_is_a_gradient_flow_for_time_reversal_symmetric_input():
    """A palindromic raster makes every correlogram symmetric, so J is symmetric: ρ = 0 to rounding,
    whatever the neuron's rate function; the triplet rule's ν_post² term breaks it.  Rounding: the
    antisymmetric part of J̃ is that of its error E, ‖(E − Eᵀ)/2‖_F ≤ ‖E‖_F ≤ n max|E| (n = 16
    coordinates), max|E| ≤ :func:`_fd_error`, so ρ ≤ n max|E| / ‖J̃‖_F."""
    seq = sequence_raster(8, 150, trials=2)
    pal = palindrome(seq)
    pair = get_rule("pair_stdp")
    for rate, gain in (("linear", 1.0), ("exponential", 0.5)):
        curl = stdp_curl(pair, pal, W, rate=rate, gain=gain)
        assert curl.rho <= W.size * _fd_error(pal, curl.jacobian, rate, gain) / np.linalg.norm(curl.jacobian)
    # measured 0.10: five orders of magnitude above the pair rule's rounding bound (≈ 3e-7)
    assert stdp_curl(get_rule("triplet_stdp"), pal, W).rho > 0.03


@pytest.mark.slow
def test_stationary_poisson_input_has_curl_only_from_sampling():
    """ρ shrinks like 1/√T with the window for independent Poisson trains (measured 0.48, 0.23, 0.13):
    1/√T predicts a factor 4 from 250 to 4000 steps; 2.5 leaves room for the sampling spread."""
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
