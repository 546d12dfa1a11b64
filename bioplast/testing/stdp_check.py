"""The STDP-against-Brian2 check: a network whose spikes are prescribed, four rules, the bound.

Pre spikes come from a source, post spikes are forced at prescribed steps, and the plastic weights
are too small to cause spikes, so both simulators see the same spikes and any weight difference is
the rules' arithmetic.  :func:`brian2_stdp_bound` is the largest difference float64 rounding allows
(:func:`bioplast.testing.spiking.stdp_weights`), plus Brian2's clock: its trace decays use
``t = i·dt`` rounded, ≤ 3u·T·dt at step T.  Used by the test suite and by ``bioplast reproduce
stdp-brian2``.
"""

from __future__ import annotations

import numpy as np

from bioplast.core import plasticity
from bioplast.data.encoders import spike_trains
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.geometry import additive
from bioplast.hardware import clip_bounds
from bioplast.rules.stdp import diehl_cook_stdp, pair_stdp, triplet_stdp
from bioplast.testing import eps
from bioplast.testing.spiking import stdp_weights


def stdp_network(rule, transforms, seed: int = 4) -> SpikingNetwork:
    """Pre spikes from source ``x``; post spikes forced by source ``teach`` (one-to-one onto v,
    above threshold); plastic weights too small to cause spikes."""
    post = LIF(tau_mem=5e-3, v_thresh=1.0, v_reset=0.0)
    w = np.random.default_rng(seed).uniform(0.01, 0.02, (3, 6))
    return SpikingNetwork(
        [SpikeSource("x", 6), SpikeSource("teach", 3)],
        [Population("post", 3, post)],
        [
            Projection("x", "post", "v", w, plasticity=plasticity(rule, *transforms)),
            Projection("teach", "post", "v", 5.0, "one_to_one"),
        ],
        dt=1e-3,
    )


def prescribed_trains(seed=5, steps: int = 400) -> dict:
    """Random pre and post trains that never spike in the same step: with a pre and a post spike
    in one step Brian2 runs the two pathways one after the other (the second sees the weight the
    first wrote), bioplast applies both to the weight of the step's start — the two differ by
    O(A²) under soft bounds (documented in :mod:`bioplast.rules.stdp`)."""
    rng = np.random.default_rng(seed)
    order = rng.permutation(steps - 2)
    pre_steps = np.sort(order[:60])
    post_steps = np.sort(order[60:85]) - 1  # teacher spikes fire the neuron one step later
    x = spike_trains(rng.integers(0, 6, 60), pre_steps, 6, steps)
    teach = spike_trains(rng.integers(0, 3, 25), post_steps, 3, steps)
    return {"x": x, "teach": teach}


def stdp_rules() -> dict:
    """The rules checked: ``name → (rule, geometry and bounds)``."""
    return {
        "pair all-to-all": (pair_stdp(a_plus=0.004, a_minus=0.003, dt=1e-3), (additive(1.0),)),
        "pair nearest, soft bounds": (
            pair_stdp(dt=1e-3, traces="nearest", weight_dependence="soft", w_max=0.05),
            (additive(0.5),),
        ),
        "triplet all-to-all": (triplet_stdp(dt=1e-3), ()),
        "Diehl & Cook, clipped": (
            diehl_cook_stdp(dt=1e-3, nu_pre=1e-3, nu_post=1e-2),
            (additive(1.0), clip_bounds(0.0, 0.02)),
        ),
    }


def brian2_stdp_bound(net: SpikingNetwork, inputs: dict, post_spikes) -> float:
    """The largest |w_ours − w_Brian2| float64 rounding allows after the run (see the module)."""
    clock = 3 * eps("float64") / 2 * len(inputs["x"]) * net.dt
    w0 = np.asarray(net.projections[0].weights)
    return stdp_weights("float64", net.projections[0].plasticity, w0, inputs["x"], post_spikes, libm=1, clock=clock)
