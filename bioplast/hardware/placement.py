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
keep their exact value.  Not modelled in spiking networks yet: read noise and
neuron mismatch (refused by name), drift over time.
"""
from __future__ import annotations

import dataclasses

from ..errors import ConfigError
from .device import DeviceProfile, place


def on_substrate(net, profile: DeviceProfile, k=None, seed: int = 0):
    """``net`` (a :class:`~bioplast.dynamics.network.SpikingNetwork`) with its synapses on ``profile``."""
    from ..backends import get_backend
    from ..core import plasticity as compose
    from ..dynamics.network import SpikingNetwork

    unsupported = profile.neuron_level_effects()
    if unsupported:
        found = ", ".join(f"{f} = {v:g}" for f, v in unsupported.items())
        raise ConfigError(f"substrate {profile.name!r} has {found}; "
                          "spiking networks do not model read noise or neuron mismatch yet (set them to 0)")
    profile.check_neurons({p.name: p.size for p in net.populations})
    k = k or get_backend("numpy", dtype="float64")
    projections = []
    for i, pr in enumerate(net.projections):
        if pr.connectivity != "dense":
            projections.append(pr)
            continue
        weights, transforms = place(k, profile, k.asarray(pr.weights), seed * 1000 + i)
        learn = pr.plasticity
        if learn is not None:
            learn = compose(learn.rule, *learn.transforms, *transforms)
        weights = k.to_numpy(weights)
        projections.append(dataclasses.replace(pr, weights=weights, plasticity=learn))
    return SpikingNetwork(net.sources, net.populations, projections, net.dt)
