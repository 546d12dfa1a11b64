"""Spiking neurons and STDP against the field's references: snnTorch's Leaky neuron and Brian2.

``lif-snntorch``: a layer of bioplast LIF neurons built from snnTorch's ``Leaky`` parameters
(:func:`~bioplast.dynamics.spiking.neurons.from_snntorch`: ``U[t+1] = βU[t] + I[t] − S[t]·θ``
with subtractive or zero reset; Eshraghian et al. 2023) fires spike for spike as ``snn.Leaky``
on the same currents, float64 on both sides.

``stdp-brian2``: four STDP rules (pair all-to-all, pair nearest-spike with soft bounds, triplet
(Pfister & Gerstner 2006), Diehl & Cook's) give the weights Brian2 (Stimberg et al. 2019) gives on
the same prescribed spikes, within the float64 rounding bound of
:func:`bioplast.testing.stdp_check.brian2_stdp_bound`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bioplast.backends import get_backend
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, SpikingNetwork
from bioplast.dynamics.spiking.neurons import from_snntorch
from bioplast.figures import pyplot, save_png
from bioplast.optional import require
from bioplast.reference.brian2_ref import run_brian2
from bioplast.reproduce.claims import Claim, Outcome
from bioplast.testing.stdp_check import brian2_stdp_bound, prescribed_trains, stdp_network, stdp_rules

BETA = 0.875  # exact in binary: snnTorch's β and ours are the same number


def _snntorch_spikes(current: np.ndarray, reset: str) -> tuple:
    torch, snn = require("torch", "the snnTorch comparison"), require("snntorch", "the snnTorch comparison")
    leaky = snn.Leaky(beta=BETA, threshold=1.0, reset_mechanism=reset)
    mem = torch.zeros(current.shape[1:], dtype=torch.float64)
    spikes, trace = [], []
    with torch.no_grad():
        for t in range(len(current)):
            spk, mem = leaky(torch.as_tensor(current[t]), mem)
            spikes.append(spk.numpy() > 0)
            trace.append(mem[0, 0].item())
    return np.stack(spikes), np.array(trace)


def _lif(budget: str, out: Path, seed: int = 0) -> Outcome:
    steps, batch, n = (200, 2, 16) if budget == "quick" else (1000, 4, 512)
    current = np.random.default_rng(seed).uniform(-0.1, 0.45, (steps, batch, n))
    details, numbers, traces = [], {}, {}
    for reset in ("subtract", "zero"):
        ref, ref_v = _snntorch_spikes(current, reset)
        net = SpikingNetwork([], [Population("p", n, from_snntorch(BETA, 1.0, reset, dt=1e-3))], [], dt=1e-3)
        _, rec = simulate(net, {"p": current}, backend=get_backend("numpy", dtype="float64"), record=("spikes", "v"))
        ours = rec.spikes["p"]
        differ = int((ours != ref).sum())
        numbers[reset] = {"spikes_snntorch": int(ref.sum()), "spikes_ours": int(ours.sum()), "differing": differ}
        traces[reset] = (ref, ours, ref_v, rec.v["p"][:, 0, 0])
        details.append(
            {
                "part": f"{reset} reset, {n} neurons × {batch} × {steps} steps",
                "paper": "snnTorch Leaky's spikes",
                "ours": f"{int(ours.sum())} spikes, {differ} differ from snnTorch's {int(ref.sum())}",
                "verdict": "reproduced" if differ == 0 and ref.sum() > 0 else "not reproduced",
            }
        )
    _plot_lif(traces, out / "lif.png")
    ok = all(d["verdict"] == "reproduced" for d in details)
    total = sum(v["spikes_ours"] for v in numbers.values())
    ours = f"{total} spikes, {sum(v['differing'] for v in numbers.values())} differ"
    return Outcome(ours, "reproduced" if ok else "not reproduced", "lif.png", tuple(details), numbers)


def _plot_lif(traces: dict, path: Path) -> None:
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(11, 6))
    for col, (reset, (ref, ours, ref_v, our_v)) in enumerate(traces.items()):
        shown = slice(0, min(200, len(ref)))
        t, i = np.nonzero(ref[shown, 0, :24])
        axes[0, col].plot(t, i, "o", ms=5, mfc="none", color="C0", label="snnTorch")
        t, i = np.nonzero(ours[shown, 0, :24])
        axes[0, col].plot(t, i, ".", ms=3, color="C1", label="bioplast")
        axes[0, col].set(title=f"{reset} reset: spikes of 24 neurons", xlabel="step", ylabel="neuron")
        axes[0, col].legend(fontsize=7, frameon=False, loc="upper right")
        axes[1, col].plot(ref_v[shown], color="C0", lw=2, label="snnTorch")
        axes[1, col].plot(our_v[shown], color="C1", lw=0.8, ls="--", label="bioplast")
        axes[1, col].set(xlabel="step", ylabel="membrane of neuron 0")
        axes[1, col].legend(fontsize=7, frameon=False)
    fig.tight_layout()
    save_png(fig, path)
    plt.close(fig)


def _stdp(budget: str, out: Path, seed: int = 0) -> Outcome:
    require("brian2", "the Brian2 comparison")
    rules = stdp_rules()
    names = list(rules)[:2] if budget == "quick" else list(rules)
    details, numbers, changes = [], {}, {}
    inputs = prescribed_trains(seed=[5, seed])
    for name in names:
        net = stdp_network(*rules[name])
        ref = run_brian2(net, inputs)
        st, rec = simulate(net, inputs, backend=get_backend("numpy", dtype="float64"), record=("spikes",))
        w0 = np.asarray(net.projections[0].weights)
        diff = float(np.abs(st.weights[0] - ref.weights["x->post"]).max())
        bound = float(brian2_stdp_bound(net, inputs, rec.spikes["post"]))
        same_spikes = bool((rec.spikes["post"][:, 0] == ref.spikes["post"]).all())
        numbers[name] = {"max_difference": diff, "bound": bound, "same_post_spikes": same_spikes}
        changes[name] = (ref.weights["x->post"] - w0, np.asarray(st.weights[0]) - w0)
        details.append(
            {
                "part": name,
                "paper": "Brian2's weights",
                "ours": f"max |Δ| = {diff:.1e} (rounding bound {bound:.1e})",
                "verdict": "reproduced" if same_spikes and diff <= bound else "not reproduced",
            }
        )
    _plot_stdp(changes, out / "stdp.png")
    ok = all(d["verdict"] == "reproduced" for d in details)
    ours = f"{sum(d['verdict'] == 'reproduced' for d in details)} of {len(details)} rules within the rounding bound"
    return Outcome(ours, "reproduced" if ok else "not reproduced", "stdp.png", tuple(details), numbers)


def _plot_stdp(changes: dict, path: Path) -> None:
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 5))
    for j, (name, (theirs, ours)) in enumerate(changes.items()):
        ax.plot(theirs.ravel(), ours.ravel(), "o", ms=4, color=f"C{j}", label=name)
    lim = max(float(np.abs(c).max()) for pair in changes.values() for c in pair)
    ax.plot([-lim, lim], [-lim, lim], color="gray", lw=1)
    ax.set(xlabel="weight change, Brian2", ylabel="weight change, bioplast", title="STDP on prescribed spikes")
    ax.legend(fontsize=7, frameon=False)
    save_png(fig, path)
    plt.close(fig)


LIF_CLAIM = Claim(
    name="lif-snntorch",
    title="LIF neurons fire as snnTorch's Leaky",
    source="Eshraghian et al. 2023, Proc. IEEE 111:1016 (snnTorch)",
    paper="snnTorch Leaky: U[t+1] = βU[t] + I[t] − S[t]θ, spikes where U > θ",
    run=_lif,
)
STDP_CLAIM = Claim(
    name="stdp-brian2",
    title="STDP rules give Brian2's weights",
    source="Stimberg, Brette & Goodman 2019, eLife 8:e47314 (Brian2); Pfister & Gerstner 2006",
    paper="Brian2's weights after the same spikes",
    run=_stdp,
)
