r"""Spiking neuron models as plain, hardware-neutral parameter records.

Every model is integrated with the **exponential Euler** scheme: during one
step of width ``dt`` the input (synaptic variables, external current) is held
at its value from the start of the step and the membrane equation, which is
then linear in ``v``, is solved exactly.  Brian2's ``exponential_euler``
method is the same scheme, which is what lets
:mod:`bioplast.reference.brian2_ref` check the engines step for step.

Current-based LIF (:class:`LIF`)::

    τ_m dv/dt = v_rest − v + R (I_ext + I_syn)        τ_syn dI_syn/dt = −I_syn
    v ← v_rest + R I + (v − v_rest − R I) · e^{−dt/τ_m},   I = I_ext + I_syn

Conductance-based LIF (:class:`CondLIF`), conductances in units of the leak
conductance as in Diehl & Cook (2015)::

    τ_m dv/dt = (v_rest − v) + g_e (E_e − v) + g_i (E_i − v)
    τ_e dg_e/dt = −g_e,   τ_i dg_i/dt = −g_i
    v ← A + (v − A) · e^{−(1 + g_e + g_i) dt/τ_m},   A = (v_rest + g_e E_e + g_i E_i) / (1 + g_e + g_i)

Spike and reset (both models), with an optional adaptive threshold ``θ``
(homeostatic: ``θ ← θ + θ₊`` per spike, ``τ_θ dθ/dt = −θ``)::

    spike  ⇔  v > v_thresh + θ  and the neuron is not refractory
    reset "zero":      v ← v_reset
    reset "subtract":  v ← v − (v_thresh − v_reset)

A refractory neuron holds ``v`` (it neither integrates nor spikes) for
``round(refractory/dt)`` steps counted from its spike, as Brian2's
``(unless refractory)`` does; synaptic variables keep decaying.
Spikes of a projection reach their target at the end of the step in which
they were emitted (Brian2's default schedule), so a spike at step ``t`` acts
on the membrane from step ``t + 1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from bioplast.errors import ConfigError
from bioplast.validate import positive

RESETS = ("zero", "subtract")


def _finite(name, value):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise ConfigError(f"{name} must be finite, got {value!r}")
    return v


def _time_constant(owner, name, value, *, optional=False):
    if optional and value is None:
        return None
    v = _finite(f"{owner}.{name}", value)
    if v <= 0:
        raise ConfigError(f"{owner}.{name} is a time constant and must be > 0 seconds, got {value!r}")
    return v


@dataclass(frozen=True)
class _Neuron:
    v_rest: float
    v_reset: float
    v_thresh: float
    tau_mem: float
    refractory: float = 0.0
    reset: str = "zero"
    theta_plus: float = 0.0  # threshold increment per spike (0: fixed threshold)
    tau_theta: float | None = None  # None: θ does not decay
    theta_init: float = 0.0

    def _check_common(self):
        name = type(self).__name__
        for f in ("v_rest", "v_reset", "v_thresh", "theta_plus", "theta_init"):
            _finite(f"{name}.{f}", getattr(self, f))
        _time_constant(name, "tau_mem", self.tau_mem)
        _time_constant(name, "tau_theta", self.tau_theta, optional=True)
        positive(f"{name}.refractory", self.refractory, allow_zero=True)
        if self.reset not in RESETS:
            raise ConfigError(f"{name}.reset must be one of {RESETS}, got {self.reset!r}")
        if self.theta_plus < 0:
            raise ConfigError(f"{name}.theta_plus must be >= 0, got {self.theta_plus!r}")

    def time_constants(self) -> dict:
        """Every time constant of the model (name → seconds), for the ``dt`` check."""
        return {
            f.name: getattr(self, f.name) for f in fields(self) if f.name.startswith("tau") and getattr(self, f.name)
        }

    def check_dt(self, dt: float) -> None:
        """``dt`` must not exceed the shortest time constant: exponential Euler
        stays stable beyond it, but synaptic input held for a step longer than
        its own decay time is no longer a faithful discretisation."""
        for name, tau in self.time_constants().items():
            if dt > tau:
                raise ConfigError(
                    f"dt = {dt:g} s is larger than {type(self).__name__}.{name} = {tau:g} s; use dt <= {tau:g} s"
                )
        if self.refractory and abs(self.refractory / dt - round(self.refractory / dt)) > 1e-6:
            raise ConfigError(
                f"{type(self).__name__}.refractory = {self.refractory:g} s is not a whole "
                f"number of steps of dt = {dt:g} s"
            )


@dataclass(frozen=True)
class LIF(_Neuron):
    """Current-based leaky integrate-and-fire neuron (equations in the module docstring).

    ``tau_syn = None`` gives instantaneous synapses (projections then target
    ``"v"`` and jump the membrane); otherwise projections target ``"syn"``, an
    exponentially decaying current.
    """

    v_rest: float = 0.0
    v_reset: float = 0.0
    v_thresh: float = 1.0
    tau_mem: float = 20e-3
    resistance: float = 1.0
    tau_syn: float | None = None

    def __post_init__(self):
        self._check_common()
        _finite("LIF.resistance", self.resistance)
        _time_constant("LIF", "tau_syn", self.tau_syn, optional=True)

    @property
    def targets(self):
        return ("v",) if self.tau_syn is None else ("v", "syn")


@dataclass(frozen=True)
class CondLIF(_Neuron):
    """Conductance-based LIF neuron with excitatory and inhibitory conductances
    (dimensionless, in units of the leak); projections target ``"ge"`` or ``"gi"``."""

    v_rest: float = -65e-3
    v_reset: float = -65e-3
    v_thresh: float = -52e-3
    tau_mem: float = 100e-3
    e_exc: float = 0.0
    e_inh: float = -100e-3
    tau_ge: float = 1e-3
    tau_gi: float = 2e-3

    def __post_init__(self):
        self._check_common()
        _finite("CondLIF.e_exc", self.e_exc)
        _finite("CondLIF.e_inh", self.e_inh)
        _time_constant("CondLIF", "tau_ge", self.tau_ge)
        _time_constant("CondLIF", "tau_gi", self.tau_gi)

    @property
    def targets(self):
        return ("v", "ge", "gi")


def from_snntorch(
    beta: float, threshold: float = 1.0, reset_mechanism: str = "subtract", reset_delay: bool = True, dt: float = 1e-3
) -> LIF:
    r"""The :class:`LIF` that reproduces ``snntorch.Leaky(beta, threshold, reset_mechanism)``.

    snnTorch's update is ``U[t] = β U[t−1] + X[t] − R[t]`` with ``S[t] = H(U[t] − U_thr)``.
    With ``e^{−dt/τ} = β`` and ``R = 1/(1−β)`` the exponential-Euler LIF gives
    ``β v + X`` exactly.  Reset to zero is the same in both.  snnTorch's default
    (``reset_delay=True``) subtracts ``U_thr`` *after* the next decay, which is an
    immediate subtraction of ``U_thr/β``: hence ``v_reset = U_thr − U_thr/β``.
    """
    b = _finite("beta", beta)
    if not 0 < b < 1:
        raise ConfigError(f"beta must be in (0, 1) to map onto a leaky neuron, got {beta!r}")
    if reset_mechanism not in RESETS:
        raise ConfigError(f"reset_mechanism must be one of {RESETS}, got {reset_mechanism!r}")
    thr = _finite("threshold", threshold)
    drop = thr / b if (reset_mechanism == "subtract" and reset_delay) else thr
    return LIF(
        v_rest=0.0,
        v_reset=thr - drop if reset_mechanism == "subtract" else 0.0,
        v_thresh=thr,
        tau_mem=-dt / math.log(b),
        resistance=1.0 / (1.0 - b),
        reset=reset_mechanism,
    )


def _one_value(name: str, value) -> float:
    """A module parameter that must be one number for the whole layer (a 0-d or one-element tensor)."""
    arr = np.asarray(value.detach().cpu() if hasattr(value, "detach") else value, dtype=np.float64).ravel()
    if arr.size != 1:
        raise ConfigError(
            f"{name} has {arr.size} values; a population has one neuron model, so give each "
            f"value its own population (got {arr[:4].tolist()}…)"
        )
    return float(arr[0])


def is_snntorch_neuron(obj) -> bool:
    return type(obj).__module__.startswith("snntorch")


def from_snntorch_module(module, dt: float) -> LIF:
    """The :class:`LIF` of an ``snntorch.Leaky`` layer at time step ``dt``, so that an snnTorch module can
    be a population's neuron directly (``Population("h", 100, snn.Leaky(beta=0.9))``): its current
    β and threshold (learned ones included, as numbers), reset mechanism and reset delay, through
    :func:`from_snntorch`.  Features with no LIF equivalent are refused by name."""
    kind = type(module).__name__
    if not is_snntorch_neuron(module) or kind != "Leaky":
        raise ConfigError(f"snnTorch neurons usable as populations: Leaky; got {type(module).__module__}.{kind}")
    unsupported = [
        name
        for name, on in (
            ("inhibition", module.inhibition),
            ("state_quant", bool(module.state_quant)),
            ("graded_spikes_factor ≠ 1", _one_value("graded_spikes_factor", module.graded_spikes_factor) != 1.0),
        )
        if on
    ]
    if unsupported:
        raise ConfigError(f"this snntorch.Leaky uses {', '.join(unsupported)}, which a LIF population does not model")
    return from_snntorch(
        _one_value("snntorch.Leaky beta", module.beta),
        _one_value("snntorch.Leaky threshold", module.threshold),
        module.reset_mechanism,
        bool(module.reset_delay),
        dt,
    )
