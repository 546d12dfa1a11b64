"""Put a spiking network on a substrate: its synapses on the profile's devices.

:func:`on_substrate` returns the same network with every dense projection's
weights written onto the devices (:func:`~bioplast.hardware.device.program`:
clipped, rounded to the weight format, stuck devices at their values, the
fan-in checked) and every plastic projection's plasticity extended by the
profile's transforms (:func:`~bioplast.hardware.device.device_transforms`),
so each STDP update goes through the device after the rule's own geometry —
the composition ``plasticity(rule, geometry…, device…)`` that rate networks
use.  Each projection draws its own device streams (``seed·1000 + i``).

Scalar projections (``one_to_one``, ``all_but_self``: fixed lateral wiring)
keep their exact value.  Neuron mismatch (``gain_mismatch``, ``offset_mismatch``)
gives every population per-neuron thresholds, resets and leak potentials
(:func:`~bioplast.hardware.physics.spiking_mismatch`), population ``i`` from the
stream ``(seed, 31, i)``.  ``state_bits`` puts every population's membrane
potential and synaptic current on the profile's fixed-point state grid
(:attr:`~bioplast.hardware.DeviceProfile.state_grid`).  Not modelled in spiking
networks yet: drift over time.  Read noise: every dense projection reads its
devices with the profile's ``σ_read S`` (``Projection.read_noise``), drawn from
``seed·1000 + 500 + i``.
"""
from __future__ import annotations

import dataclasses

from bioplast.hardware.device import DeviceProfile, place, program, read_scale
from bioplast.hardware.physics import spiking_mismatch


def on_substrate(net, profile: DeviceProfile, k=None, seed: int = 0):
    """``net`` (a :class:`~bioplast.dynamics.spiking.network.SpikingNetwork`) with its synapses on ``profile``."""
    from bioplast.backends import get_backend
    from bioplast.core import plasticity as compose
    from bioplast.dynamics.spiking.network import SpikingNetwork

    profile.check_neurons({p.name: p.size for p in net.populations})
    populations = []
    for i, p in enumerate(net.populations):
        varied = spiking_mismatch(profile, p, seed, i)
        if varied is not None:
            p = dataclasses.replace(p, per_neuron={**(p.per_neuron or {}), **varied})
        if profile.state_grid is not None:
            p = dataclasses.replace(p, state_grid=profile.state_grid)
        populations.append(p)
    k = k or get_backend("numpy", dtype="float64")
    projections = []
    for i, pr in enumerate(net.projections):
        if pr.connectivity != "dense":
            projections.append(pr)
            continue
        learn = pr.plasticity
        if learn is None:  # static synapses are only programmed (so inference-only chips take them)
            weights = program(k, profile, k.asarray(pr.weights), seed * 1000 + i)
        else:
            weights, transforms = place(k, profile, k.asarray(pr.weights), seed * 1000 + i)
            learn = compose(learn.rule, *learn.transforms, *transforms)
        weights = k.to_numpy(weights)
        noisy = read_scale(profile) > 0
        projections.append(dataclasses.replace(pr, weights=weights, plasticity=learn, read_noise=read_scale(profile),
                                               read_seed=seed * 1000 + 500 + i if noisy else 0))
    return SpikingNetwork(net.sources, populations, projections, net.dt)
