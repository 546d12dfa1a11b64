"""Put a spiking network on a substrate: its synapses on the profile's devices.

:func:`on_substrate` returns the same network with every dense projection's weights written onto
the devices of a :class:`~bioplast.hardware.chip.Chip` (:func:`~bioplast.hardware.chain.program`:
clipped, rounded to the weight format, stuck devices at their values, the fan-in checked) and
every plastic projection's plasticity extended by the profile's transforms
(:func:`~bioplast.hardware.chain.device_transforms`), so each STDP update goes through the device
after the rule's own geometry — the composition ``plasticity(rule, geometry…, device…)`` that rate
networks use.  Each projection's devices draw from the chip stream of its name; the fused device
write is the kernel of ``run_on`` (the backend the network will run on), chosen once here.

Scalar projections (``one_to_one``, ``all_but_self``: fixed lateral wiring) keep their exact value.
Neuron mismatch (``gain_mismatch``, ``offset_mismatch``) gives every population per-neuron
thresholds, resets and leak potentials (:func:`~bioplast.hardware.physics.spiking_mismatch`).
``state_bits`` puts every population's membrane potential and synaptic current on the profile's
fixed-point state grid (:attr:`~bioplast.hardware.profile.DeviceProfile.state_grid`).  Read noise:
every dense projection reads its devices with the profile's ``σ_read S`` (``Projection.read_noise``),
all of them drawing from the chip's ``"reads"`` stream (projection ``p`` under salt
``READ_SALT + p``).  Not modelled in spiking networks yet: drift over time.
"""

from __future__ import annotations

import dataclasses

from bioplast.backends import get_backend
from bioplast.core import plasticity as compose
from bioplast.dynamics.spiking.network import SpikingNetwork
from bioplast.hardware.chain import device_transforms
from bioplast.hardware.chip import Chip
from bioplast.hardware.profile import DeviceProfile


def on_substrate(net, profile: DeviceProfile, k=None, seed: int = 0, run_on=None):
    """``net`` (a :class:`~bioplast.dynamics.spiking.network.SpikingNetwork`) with its synapses on
    ``profile``, on the chip of ``seed``; ``k`` programs the weights (default: numpy float64),
    ``run_on`` (a backend or its name; default ``k``) gives the fused device write."""
    chip = Chip(profile, seed)
    profile.check_neurons({p.name: p.size for p in net.populations})
    populations = []
    for i, p in enumerate(net.populations):
        varied = chip.spiking_neurons(p, i)
        if varied is not None:
            p = dataclasses.replace(p, per_neuron={**(p.per_neuron or {}), **varied})
        if profile.state_grid is not None:
            p = dataclasses.replace(p, state_grid=profile.state_grid)
        populations.append(p)
    k = k or get_backend("numpy", dtype="float64")
    kernel = (get_backend(run_on) if run_on is not None else k).fused("device_write")
    reads = chip.reads()
    projections = []
    for pr in net.projections:
        if pr.connectivity != "dense":
            projections.append(pr)
            continue
        learn = pr.plasticity
        weights = chip.program(k, k.asarray(pr.weights), pr.name)  # static synapses: inference-only chips take them
        if learn is not None:
            learn = compose(learn, *device_transforms(profile, chip.stream(pr.name), kernel))
        weights = k.to_numpy(weights)
        projections.append(
            dataclasses.replace(
                pr,
                weights=weights,
                plasticity=learn,
                read_noise=chip.read_scale,
                read_seed=0 if reads is None else reads.seed,
            )
        )
    return SpikingNetwork(net.sources, populations, projections, net.dt)
