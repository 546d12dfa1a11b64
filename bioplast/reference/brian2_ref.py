"""Brian2 as the independent reference for spiking dynamics and STDP.

:func:`run_brian2` builds the same network as a bioplast
:class:`~bioplast.dynamics.spiking.network.SpikingNetwork` in Brian2 — equations
written out here as Brian2 strings, integrated by Brian2's own
``exponential_euler`` code generation, synapses and event-driven STDP traces
as Brian2 ``Synapses`` — and runs it on one sample.  Nothing of bioplast's
engines is shared: only the description (parameters and weights) crosses.

Quantities are dimensionless except time (seconds), so bioplast's numbers
are passed through unchanged.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from bioplast.dynamics.spiking.engine import _inputs
from bioplast.dynamics.spiking.network import SpikingNetwork, lower, stdp_projection
from bioplast.dynamics.spiking.neurons import CondLIF
from bioplast.errors import ConfigError, DataError
from bioplast.optional import require


class Brian2Run(NamedTuple):
    """``spikes[name]``: bool ``[T, n]``; ``v[name]``: ``[T, n]`` after each step;
    ``weights[projection name]``: final dense weights ``[n_post, n_pre]``."""

    spikes: dict
    v: dict
    weights: dict


def _neuron_equations(m, has_current: bool) -> str:
    cur = " + I_ext(t, i)" if has_current else ""
    if isinstance(m, CondLIF):
        eqs = [
            "dv/dt = ((v_rest - v) + ge*(e_exc - v) + gi*(e_inh - v))/tau_mem : 1 (unless refractory)",
            "dge/dt = -ge/tau_ge : 1",
            "dgi/dt = -gi/tau_gi : 1",
        ]
    elif m.tau_syn is not None:
        eqs = [
            f"dv/dt = (v_rest - v + resistance*(syn{cur}))/tau_mem : 1 (unless refractory)",
            "dsyn/dt = -syn/tau_syn : 1",
        ]
    else:
        eqs = [f"dv/dt = (v_rest - v + resistance*(0{cur}))/tau_mem : 1 (unless refractory)"]
    eqs.append("dtheta/dt = -theta/tau_theta : 1" if m.tau_theta else "theta : 1")
    return "\n".join(eqs)


def _namespace(m, b2) -> dict:
    ns = {k: getattr(m, k) for k in ("v_rest", "v_reset", "v_thresh", "theta_plus")}
    ns["tau_mem"] = m.tau_mem * b2.second
    if m.tau_theta:
        ns["tau_theta"] = m.tau_theta * b2.second
    if isinstance(m, CondLIF):
        ns.update(e_exc=m.e_exc, e_inh=m.e_inh, tau_ge=m.tau_ge * b2.second, tau_gi=m.tau_gi * b2.second)
    else:
        ns["resistance"] = m.resistance
        if m.tau_syn is not None:
            ns["tau_syn"] = m.tau_syn * b2.second
    return ns


def _stdp_code(fs, target):
    """Brian2 model / on_pre / on_post strings of a fused STDP chain (see :mod:`bioplast.rules.stdp`)."""
    p = fs.rule
    model = "\n".join(
        ["w : 1"]
        + [
            f"d{x}/dt = -{x}/{tau} : 1 (event-driven)"
            for x, tau in (("r1", "tau_plus"), ("r2", "tau_x"), ("o1", "tau_minus"), ("o2", "tau_y"))
        ]
    )
    bump = (lambda x: f"{x} = 1") if p.nearest else (lambda x: f"{x} += 1")
    dep = "lr*o1*(a2_minus + a3_minus*r2)" + ("*(w - w_min)" if p.soft else "")
    pot = "lr*r1*(a2_plus + a3_plus*o2)" + ("*(w_max - w)" if p.soft else "")
    clip = (lambda e: f"clip({e}, lo, hi)") if fs.lo is not None else (lambda e: e)
    on_pre = "\n".join([f"{target}_post += w", "w = " + clip(f"w - {dep}"), bump("r1"), bump("r2")])
    on_post = "\n".join(["w = " + clip(f"w + {pot}"), bump("o1"), bump("o2")])
    return model, on_pre, on_post


def _stdp_namespace(fs, b2) -> dict:
    p = fs.rule
    ns = {n: getattr(p, n) for n in ("a2_plus", "a3_plus", "a2_minus", "a3_minus", "w_min", "w_max")}
    ns.update({n: getattr(p, n) * b2.second for n in ("tau_plus", "tau_x", "tau_minus", "tau_y")})
    ns.update(lr=fs.lr, lo=fs.lo if fs.lo is not None else 0.0, hi=fs.hi if fs.hi is not None else 0.0)
    return ns


def brian2_network(net: SpikingNetwork, sources: dict, *, learn: bool = True, currents=None, record_v: bool = True):
    """Build ``net`` in Brian2 around the given Brian2 groups for its ``sources`` (name → group,
    e.g. a ``SpikeGeneratorGroup`` or ``PoissonGroup``).  ``currents``: population name →
    ``[T, n]`` external current.  Returns ``(network, groups, synapses, monitors)``."""
    b2 = require("brian2", "the Brian2 reference")

    low = lower(net)
    if any(pr.read_noise for pr in net.projections):
        raise ConfigError("the Brian2 reference reads synapses exactly; this network has read noise")
    if low.state_step.any():
        raise ConfigError(
            "the Brian2 reference integrates exact neuron states; this network keeps them on a "
            "fixed-point grid (state_grid), which Brian2 does not model"
        )
    dt = net.dt * b2.second
    b2.defaultclock.dt = dt
    groups, monitors, synapses = dict(sources), {}, {}
    for p in net.populations:
        a, n = low.offsets[p.name]
        m = p.neuron
        ns = _namespace(m, b2)
        current = (currents or {}).get(p.name)
        if current is not None:
            ns["I_ext"] = b2.TimedArray(current, dt=dt)
        reset = "v = v_reset" if m.reset == "zero" else "v -= (v_thresh - v_reset)"
        varying = sorted(p.per_neuron or {})  # per-neuron parameters become constant state variables
        eqs = "\n".join([_neuron_equations(m, current is not None)] + [f"{f} : 1 (constant)" for f in varying])
        for f in varying:
            ns.pop(f)
        g = b2.NeuronGroup(
            n,
            eqs,
            threshold="v > v_thresh + theta",
            reset=reset + "\ntheta += theta_plus",
            refractory=low.ref_steps[a] * dt,
            method="exponential_euler",
            namespace=ns,
            name=f"pop_{p.name}",
        )
        for f in varying:
            setattr(g, f, p.values(f))
        g.v = p.values("v_rest")
        g.theta = m.theta_init
        groups[p.name] = g
        monitors[p.name] = (b2.SpikeMonitor(g),) + (
            (b2.StateMonitor(g, "v", record=True, when="end"),) if record_v else ()
        )
    for k, pr in enumerate(net.projections):
        if pr.plasticity is not None and learn:
            fs = stdp_projection(pr.plasticity)
            if fs is None:
                raise ConfigError(
                    f"projection {pr.name}: the Brian2 reference runs STDP-family rules with "
                    f"additive/clip_bounds transforms, got {pr.plasticity.name!r}"
                )
            model, on_pre, on_post = _stdp_code(fs, pr.target)
            syn = b2.Synapses(
                groups[pr.pre],
                groups[pr.post],
                model=model,
                on_pre=on_pre,
                on_post=on_post,
                namespace=_stdp_namespace(fs, b2),
                name=f"syn{k}",
            )
        else:
            syn = b2.Synapses(
                groups[pr.pre], groups[pr.post], model="w : 1", on_pre=f"{pr.target}_post += w", name=f"syn{k}"
            )
        if pr.connectivity == "dense":
            w = np.asarray(pr.weights, dtype=np.float64)
            post, pre = np.nonzero(np.ones_like(w))
            syn.connect(i=pre, j=post)
            syn.w = w[post, pre]
        else:
            syn.connect(j="i") if pr.connectivity == "one_to_one" else syn.connect(condition="i != j")
            syn.w = float(pr.weights)
        synapses[pr.name] = syn
    network = b2.Network(*groups.values(), *synapses.values(), *(x for pair in monitors.values() for x in pair))
    return network, groups, synapses, monitors


def dense_weights(net: SpikingNetwork, synapses: dict) -> dict:
    """Dense weight matrices ``[n_post, n_pre]`` read back from Brian2 synapses."""
    out = {}
    for pr in net.projections:
        if pr.connectivity == "dense":
            syn = synapses[pr.name]
            w = np.zeros(np.shape(pr.weights))
            w[np.asarray(syn.j), np.asarray(syn.i)] = np.asarray(syn.w)
            out[pr.name] = w
    return out


def run_brian2(net: SpikingNetwork, inputs: dict, *, learn: bool = True, target: str = "numpy") -> Brian2Run:
    """Run ``net`` in Brian2 on one sample: ``inputs`` as for
    :func:`bioplast.dynamics.spiking.engine.simulate` with batch ``B = 1``.

    ``target``: Brian2's code-generation target (``"numpy"`` or ``"cython"``).
    """
    b2 = require("brian2", "the Brian2 reference")

    low = lower(net)
    T, B, src_spikes, current = _inputs(net, low, inputs)
    if B != 1:
        raise DataError(f"the Brian2 reference runs one sample; inputs have batch {B}")
    b2.start_scope()
    b2.prefs.codegen.target = target
    dt = net.dt * b2.second
    sources = {}
    for s in net.sources:
        a, n = low.source_offsets[s.name]
        steps, idx = np.nonzero(src_spikes[:, 0, a : a + n])
        sources[s.name] = b2.SpikeGeneratorGroup(n, idx, steps * dt, name=f"src_{s.name}")
    currents = {name: current[:, 0, a : a + n] for name, (a, n) in low.offsets.items() if name in inputs}
    network, groups, synapses, monitors = brian2_network(net, sources, learn=learn, currents=currents)
    network.run(T * dt, namespace={})
    spikes, v = {}, {}
    for name, (sm, vm) in monitors.items():
        n = groups[name].N
        arr = np.zeros((T, n), dtype=bool)
        steps = np.rint(np.asarray(sm.t / dt)).astype(np.int64)
        arr[steps, np.asarray(sm.i)] = True
        spikes[name], v[name] = arr, np.asarray(vm.v).T
    return Brian2Run(spikes, v, dense_weights(net, synapses))
