"""Named substrates: presets (data, not code paths) and third-party profiles via entry points.

Each preset's figures are approximations of the cited platform, chosen to
show the platform's characteristic constraint; anything not taken from the
cited source is marked "assumption".  Third-party packages add profiles by
declaring an entry point in the group ``bioplast.substrates`` whose object is
a :class:`DeviceProfile` (or a function returning one)::

    [project.entry-points."bioplast.substrates"]
    my-chip = "my_package.profiles:MY_CHIP"
"""

from __future__ import annotations

import typing
from dataclasses import fields, replace

from bioplast.errors import ConfigError, unknown_name
from bioplast.hardware.energy import EnergyCosts
from bioplast.hardware.profile import DeviceProfile
from bioplast.plugins import Registry

# the reference every neuromorphic figure is read against: float32 arithmetic on a digital chip
DIGITAL_FP32 = EnergyCosts(
    synop=4.6e-12,
    neuron_update=4.6e-12,
    spike=5e-12,
    weight_write=5e-12,
    sources="45 nm CMOS, Horowitz (2014) ISSCC 'Computing's energy problem': float32 multiply 3.7 pJ + add "
    "0.9 pJ per synaptic op (arithmetic only: weight fetches, which often dominate, are not counted); "
    "assumptions: a neuron update is one multiply-add, a graded output message and a weight write are "
    "one 32-bit access to a small SRAM (half of the 10 pJ quoted for a 64-bit 8 KB read)",
)

PRESETS = {
    p.name: p
    for p in (
        DeviceProfile(
            "ideal",
            bounds="none",
            energy=DIGITAL_FP32,
            sources="floating-point weights, no device effects; energy: a digital float32 processor",
        ),
        DeviceProfile(
            "fixed-point",
            bits=8,
            w_min=-1.0,
            w_max=1.0,
            rounding="stochastic",
            sources="a generic digital synapse: fixed-point weights on [-1, 1] with stochastic rounding of "
            "updates (Gupta et al. 2015 ICML) and nothing else; the base of bit-width sweeps "
            "(substrate_params = {bits = …})",
        ),
        DeviceProfile(
            "loihi2-like",
            bits=8,
            w_min=-1.0,
            w_max=1.0,
            rounding="stochastic",
            update_bits=15,
            energy=EnergyCosts(
                synop=23.6e-12,
                spike=1.7e-12,
                neuron_update=52e-12,
                weight_write=120e-12,
                sources="Loihi figures of Davies et al. (2018) IEEE Micro 38:82 (synaptic spike "
                "op, within-tile spike, active neuron update, synaptic update), assumed for "
                "the loihi2-like profile; check against the paper before publishing",
            ),
            sources="8-bit synaptic weights with sign and stochastic rounding of learning updates: Davies et al. "
            "(2018) IEEE Micro 38:82 (Loihi); Orchard et al. (2021) SiPS (Loihi 2). Updates in a 15-bit "
            "register (7 bits below the weight's LSB) and the range [-1, 1]: assumptions. Learning epoch: 1 "
            "step (one minibatch) here; on chip it is a configurable number of time steps",
        ),
        DeviceProfile(
            "brainscales2-like",
            bits=6,
            w_min=-1.0,
            w_max=1.0,
            d2d=0.1,
            row_signs="paired",
            sources="6-bit weights with analog fixed-pattern spread: Pehle et al. (2022) Front. Neurosci. "
            "16:795876; each synapse row has a fixed sign, so a signed input drives an excitatory and an "
            "inhibitory row (hxtorch's mapping: weights -63..63, 127 levels); 10 % spread per device: "
            "assumption; large layers are split over several runs on chip, so no fan-in limit here",
        ),
        DeviceProfile(
            "xylo-like",
            bits=8,
            w_min=-1.0,
            w_max=1.0,
            inference_only=True,
            fan_in=63,
            max_neurons=1000,
            state_bits=16,
            sources="inference-only SNN processor, 8-bit weights, 16-bit synaptic and membrane state, 63 inputs per "
            "neuron, 1000 hidden neurons: SynSense Xylo documentation (Bos & Muir 2022); the neuron budget "
            "counts every layer here (on chip the readout neurons are separate): assumption; range: "
            "assumption; the state in units of the weight step and rounded to nearest after each update "
            "(Xylo's bit-shift decay truncates instead): assumption",
        ),
        DeviceProfile(
            "pcm-crossbar",
            w_min=0.0,
            w_max=1.0,
            bounds="soft",
            up=1.0,
            down=0.5,
            write_noise=0.3,
            d2d=0.2,
            read_noise=0.02,
            drift_nu=0.05,
            drift_nu_std=0.01,
            drift_t0=20.0,
            sources="phase-change memory: abrupt RESET makes depression weaker than potentiation in a one-sided "
            "device, large cycle-to-cycle and device-to-device variability, 1/f read noise and power-law "
            "conductance drift with ν ≈ 0.05 (Nandakumar et al. 2018 ISCAS; Joshi et al. 2020 Nat. Commun. "
            "11:2473); the numbers are assumptions of that order",
        ),
        DeviceProfile(
            "pcm-differential",
            w_min=-1.0,
            w_max=1.0,
            bounds="soft",
            write_noise=0.3,
            d2d=0.2,
            differential=True,
            read_noise=0.02,
            drift_nu=0.05,
            drift_nu_std=0.01,
            drift_t0=20.0,
            sources="two PCM devices per synapse, w = G⁺ − G⁻, SET-only programming and refresh (Burr et al. 2015 "
            "IEEE Trans. Electron Devices 62:3498; Nandakumar et al. 2020 Front. Neurosci. 14:406); "
            "device figures as pcm-crossbar (assumptions of that order)",
        ),
        DeviceProfile(
            "reram-crossbar",
            w_min=0.0,
            w_max=1.0,
            bounds="soft",
            up=1.0,
            down=0.8,
            write_noise=0.1,
            d2d=0.1,
            read_noise=0.01,
            sources="resistive RAM with soft bounds and asymmetric SET/RESET (Gokmen & Vlasov 2016 Front. "
            "Neurosci. 10:333; aihwkit ReRAM presets); the numbers are assumptions of that order",
        ),
    )
}


def _as_profile(obj, label: str) -> DeviceProfile:
    """A substrate plugin is a :class:`DeviceProfile` or a function returning one."""
    profile = obj() if callable(obj) and not isinstance(obj, DeviceProfile) else obj
    if not isinstance(profile, DeviceProfile):
        raise ConfigError(f"{label} gives a {type(profile).__name__}; expected a bioplast DeviceProfile")
    return profile


REGISTRY = Registry("substrate", PRESETS, _as_profile)


def substrates() -> dict:
    """Every usable substrate: the presets, then any registered by installed packages (a plugin that
    fails to load is left out here; ``bioplast substrates`` shows its error)."""
    return {row.name: row.value for row in REGISTRY.listing() if row.error is None}


def _override(name: str, value, hint):
    """``value`` for the profile field ``name`` of type ``hint``, checked: booleans are ``true`` /
    ``false`` only, integers are integers, numbers are numbers (a string is never taken as one)."""
    kinds = tuple(t for t in typing.get_args(hint) if t is not type(None)) or (hint,)
    if value is None and type(None) in typing.get_args(hint):
        return None
    if bool in kinds:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"substrate parameter {name} must be true or false, got {value!r}")
    if int in kinds and float not in kinds:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(
            f"substrate parameter {name} must be an integer{' or none' if None in kinds else ''}, got {value!r}"
        )
    if float in kinds:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"substrate parameter {name} must be a number, got {value!r}")
    if str in kinds:
        if isinstance(value, str):
            return value
        raise ConfigError(f"substrate parameter {name} must be a string, got {value!r}")
    return value


def get_substrate(name, overrides: dict | None = None) -> DeviceProfile:
    """A substrate's device profile by name (presets, plugins, ``module:attribute`` references; or a
    :class:`DeviceProfile` itself), with ``overrides`` of its fields (``{"bits": 4}``): the result is
    named ``"name[bits=4]"`` and validated like any profile."""
    profile = name if isinstance(name, DeviceProfile) else REGISTRY.get(name)
    if not overrides:
        return profile
    if not isinstance(overrides, dict):
        raise ConfigError(f"substrate parameters are a table of field = value, got {overrides!r}")
    hints = typing.get_type_hints(DeviceProfile)
    valid = {f.name for f in fields(DeviceProfile)} - {"name", "sources", "energy"}
    typed = {}
    for key, value in overrides.items():
        if key not in valid:
            raise unknown_name("substrate parameter", key, sorted(valid))
        typed[key] = _override(key, value, hints[key])
    label = ",".join(f"{k}={v}" for k, v in sorted(typed.items()))
    return replace(profile, name=f"{profile.name}[{label}]", **typed)
