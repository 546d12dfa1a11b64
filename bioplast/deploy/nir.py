r"""Export and import spiking networks as NIR graphs, with a sidecar for what NIR cannot say.

NIR (the Neuromorphic Intermediate Representation, Pedersen et al. 2024,
Nat. Commun. 15:8122) describes networks in continuous time and carries no
plasticity, so:

* **Neurons.** A current-based :class:`~bioplast.dynamics.spiking.neurons.LIF` with
  instantaneous synapses becomes ``nir.LIF`` (``τ v̇ = (v_leak − v) + R I``),
  one with an exponential synaptic current becomes ``nir.CubaLIF``
  (``τ_syn İ = −I + w_in x``); both with reset to ``v_reset``.  Features NIR
  has no field for — conductance-based neurons, refractoriness, adaptive
  thresholds, subtractive reset — are refused with an error naming them, so
  no graph ever says less than the network does.
* **Weights and time.** NIR inputs are spike trains of Dirac pulses. A
  bioplast projection onto ``v`` jumps the membrane by ``w`` per spike, which
  in ``τ v̇ = … + R I`` is a Dirac input of weight ``w τ / R``; onto ``syn`` it
  jumps the current by ``w``, a Dirac input of weight ``w τ_syn / w_in``.
  The exported ``nir.Linear`` weights carry those factors (per postsynaptic
  row) and :func:`import_nir` divides them out.  One-to-one and all-but-self
  projections become dense matrices.  NIR has no time step: ``dt`` goes into
  the graph's metadata and the sidecar (continuous-time tools ignore it).
* **Sidecar** (``PATH.bioplast.json``, written next to the graph): format
  name and version, ``dt``, each projection's connectivity, target and — for
  plastic projections — the rule (registry name and parameters) and its
  transforms (each transform's ``params``), a projection's read noise and its
  seed, and the substrate name.  With it,
  :func:`import_nir` rebuilds the learning network exactly; without it, a
  static network with dense projections.  JSON only: nothing in either file
  is executed on load.
* **State** (``PATH.bioplast-state/``, written only with ``export_nir(…, state=)``):
  the simulation's whole :class:`~bioplast.dynamics.spiking.engine.SimState` as a
  :mod:`bioplast.training.checkpoints` (plain ``.npz`` + JSON) — membranes, rule traces,
  exact weights, and the devices' draw counters (write noise, stochastic
  rounding, read noise), which are what a learning network on a noisy
  substrate needs to go on with the draws it would have made.  :func:`import_state`
  refills it, so export → import → continue equals an uninterrupted run bit
  for bit.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

import bioplast.geometry  # noqa: F401  (its transform kinds register for from_spec)
import bioplast.hardware  # noqa: F401  (its transform kinds register for from_spec)
from bioplast.backends import get_backend
from bioplast.core import RuleSpec, Transform, from_spec
from bioplast.core import plasticity as make_plasticity
from bioplast.deploy.sidecar import check_sidecar
from bioplast.dynamics.spiking.engine import initial_state
from bioplast.dynamics.spiking.network import PER_NEURON, Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.errors import ConfigError, DataError
from bioplast.io import atomic_write_json
from bioplast.optional import require
from bioplast.rules.stdp import stdp_from_spec
from bioplast.training import checkpoints as checkpoint

SIDECAR_FORMAT = "bioplast-nir-sidecar"
SIDECAR_VERSION = 2  # 2: transforms are their spec records (bioplast.core.from_spec)


def _dense(pr: Projection, n_pre: int, n_post: int) -> np.ndarray:
    if pr.connectivity == "dense":
        return np.asarray(pr.weights, dtype=np.float64)
    eye = np.eye(n_post, n_pre)
    return float(pr.weights) * (eye if pr.connectivity == "one_to_one" else 1.0 - eye)


def _input_scale(neuron: LIF, target: str) -> float:
    """NIR Dirac weight per unit of bioplast jump (see the module docstring)."""
    if target == "v":
        return neuron.tau_mem / neuron.resistance
    if neuron.tau_syn is None:
        raise DataError("a projection onto the synaptic current needs a neuron with a synapse (tau_syn)")
    return neuron.tau_syn


def _check_exportable(p: Population) -> LIF:
    m = p.neuron
    why = []
    if not isinstance(m, LIF):
        why.append(f"{type(m).__name__} (NIR 1.0 has no conductance-based neuron)")
    else:
        if m.refractory:
            why.append(f"refractory = {m.refractory:g} s")
        if m.theta_plus or m.theta_init:
            why.append("an adaptive threshold")
        if m.reset != "zero":
            why.append(f"reset = {m.reset!r}")
        if m.resistance == 0:
            why.append("resistance = 0")
    if why:
        raise ConfigError(
            f"population {p.name!r} cannot be written as NIR: it has {', '.join(why)}; NIR's LIF "
            "and CubaLIF have no field for this"
        )
    return m


def _transform_params(t) -> dict:
    """A transform as the sidecar records it: its spec record as a dict (kind and arguments)."""
    if t.spec is None:
        raise ConfigError(
            f"transform {t.name!r} has no spec record (it was not made by a transform factory), so "
            "the sidecar cannot record it"
        )
    return t.spec.to_dict()


def _transform_from(params) -> Transform:
    """The transform a sidecar entry records (:func:`bioplast.core.from_spec`: unknown kinds and
    arguments are :class:`~bioplast.errors.DataError`)."""
    return from_spec(params)


def export_nir(
    net: SpikingNetwork, path=None, *, weights: dict | None = None, substrate: str | None = None, state=None
):
    """``net`` as a ``nir.NIRGraph``; with ``path``, also write it (NIR's HDF5 file) and the sidecar.

    ``weights``: projection name → current dense weights (e.g. from a simulation's state),
    replacing the description's.  ``state``: a :class:`~bioplast.dynamics.spiking.engine.SimState` of
    ``net`` to continue from — its weights are exported and the whole state is written to
    ``PATH.bioplast-state/`` for :func:`import_state` (needs ``path``; excludes ``weights``).
    """
    nir = require("nir", "NIR export and import")

    if state is not None:
        if path is None:
            raise ConfigError("export_nir(state=…) writes the state next to the graph file: pass path=")
        if weights:
            raise ConfigError("pass weights= or state= to export_nir, not both: a state carries its weights")
        if len(state.weights) != len(net.projections):
            raise DataError(
                f"state has {len(state.weights)} projections' weights, the network "
                f"{len(net.projections)}: it is not a state of this network"
            )
        weights = {
            pr.name: np.asarray(w.detach().cpu() if hasattr(w, "detach") else w)
            for pr, w in zip(net.projections, state.weights, strict=True)
            if w is not None
        }
    if weights:
        net = net.with_weights(weights)
    nodes, edges = {}, []
    for s in net.sources:
        nodes[s.name] = nir.Input(input_type={"input": np.array([s.size])})
    pops = {p.name: p for p in net.populations}
    for p in net.populations:
        m = _check_exportable(p)
        n = p.size
        common = dict(
            r=np.full(n, m.resistance),
            v_leak=p.values("v_rest"),
            v_threshold=p.values("v_thresh"),
            v_reset=p.values("v_reset"),
        )
        if m.tau_syn is None:
            nodes[p.name] = nir.LIF(tau=np.full(n, m.tau_mem), **common)
        else:
            nodes[p.name] = nir.CubaLIF(
                tau_syn=np.full(n, m.tau_syn), tau_mem=np.full(n, m.tau_mem), w_in=np.ones(n), **common
            )
        nodes[f"{p.name}_output"] = nir.Output(output_type={"output": np.array([n])})
        edges.append((p.name, f"{p.name}_output"))
    sidecar_projections = []
    for i, pr in enumerate(net.projections):
        post = pops[pr.post]
        w = _dense(pr, net.size(pr.pre), post.size) * _input_scale(post.neuron, pr.target)
        node = f"projection{i}"
        nodes[node] = nir.Linear(weight=w)
        edges += [(pr.pre, node), (node, pr.post)]
        entry = {"node": node, "pre": pr.pre, "post": pr.post, "target": pr.target, "connectivity": pr.connectivity}
        if pr.connectivity != "dense":
            entry["weight"] = float(pr.weights)
        if pr.read_noise:
            entry.update(read_noise=float(pr.read_noise), read_seed=int(pr.read_seed))
        if pr.plasticity is not None:
            spec = pr.plasticity.rule.spec
            if spec.family != "stdp":
                raise ConfigError(
                    f"projection {pr.name}: the sidecar records STDP-family rules; "
                    f"{spec.name!r} ({spec.family}) is not one yet"
                )
            entry["plasticity"] = {
                "rule": spec.name,
                "family": spec.family,
                "citation": spec.citation,
                "params": spec.params,
                "transforms": [_transform_params(t) for t in pr.plasticity.transforms],
            }
        sidecar_projections.append(entry)
    graph = nir.NIRGraph(nodes=nodes, edges=edges, metadata={"bioplast_dt": net.dt})
    if path is not None:
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        nir.write(tmp, graph)
        os.replace(tmp, path)
        sidecar = {
            "format": SIDECAR_FORMAT,
            "version": SIDECAR_VERSION,
            "dt": net.dt,
            "substrate": substrate,
            "projections": sidecar_projections,
        }
        if state is not None:
            # the state before the sidecar that names it: an interrupted export leaves no dangling reference
            batch = int(state.v.shape[0])
            state_path(path).mkdir(exist_ok=True)
            checkpoint.save(state_path(path), state, {"graph": path.name, "batch": batch})
            sidecar["state"] = {"folder": state_path(path).name, "batch": batch, "step": int(state.step)}
        atomic_write_json(sidecar_path(path), sidecar)
    return graph


def sidecar_path(path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".bioplast.json")


def state_path(path) -> Path:
    """The folder :func:`export_nir` writes a simulation state to, next to the graph ``path``."""
    path = Path(path)
    return path.with_name(path.name + ".bioplast-state")


def import_state(path, net: SpikingNetwork | None = None, backend="numpy"):
    """The :class:`~bioplast.dynamics.spiking.engine.SimState` exported with the graph at ``path``
    (``export_nir(…, state=)``), on ``backend``, to pass as ``simulate(net, …, state=)``.

    ``net`` (default: ``import_nir(path)``) fixes the state's layout; a state that does not fit it
    — another network, batch or version — is refused with the first difference.
    """

    sidecar = _read_sidecar(path)
    if sidecar is None or "state" not in sidecar:
        raise DataError(f"{path} was exported without a simulation state (export_nir(…, state=) writes one)")
    net = net if net is not None else import_nir(path)
    k = get_backend(backend)
    batch = int(sidecar["state"]["batch"])
    template = _batched_like(initial_state(net, k, batch), checkpoint.stored_fingerprint(state_path(path)), batch, k)
    state, _ = checkpoint.load(state_path(path), template, k, {"graph": Path(path).name})
    return state


def _batched_like(template, stored: list, batch: int, k):
    """``template`` with each ``[1, n]`` rule-state array that the stored state holds as ``[batch, n]``
    broadcast to it: rule traces start unbatched and take the batch on their first step."""
    leaves, prints = checkpoint.flatten(template)
    shapes = {fp[0]: fp[2] for fp in stored if len(fp) > 2 and fp[1] == "array"}
    out = []
    for leaf, fp in zip(leaves, checkpoint.fingerprint_leaves(prints), strict=True):
        if fp[1] == "array" and fp[2][:1] == [1] and shapes.get(fp[0]) == [batch] + fp[2][1:]:
            leaf = leaf + k.zeros((batch, *fp[2][1:]))
        out.append(leaf)
    return checkpoint.unflatten(template, out, k)


def _read_sidecar(path) -> dict | None:
    p = sidecar_path(path)
    if not p.exists():
        return None
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"sidecar {p} is not valid JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != SIDECAR_FORMAT or data.get("version") != SIDECAR_VERSION:
        got = (data.get("format"), data.get("version")) if isinstance(data, dict) else (type(data).__name__, None)
        raise DataError(
            f"{p} is not a version-{SIDECAR_VERSION} {SIDECAR_FORMAT} file (format={got[0]!r}, version={got[1]!r})"
        )
    return check_sidecar(p, data)


def read_graph(path):
    """``nir.read(path)`` with clear errors: a missing file, or one NIR cannot read (malformed)."""
    nir = require("nir", "NIR export and import")

    if not Path(path).exists():
        raise DataError(f"no NIR file at {path}")
    try:
        return nir.read(path)
    except Exception as exc:  # noqa: BLE001 - h5py and nir raise many types for a bad file
        raise DataError(f"{path} is not a readable NIR graph ({type(exc).__name__}: {exc})") from None


def import_nir(graph_or_path, *, dt: float | None = None) -> SpikingNetwork:
    """A :class:`SpikingNetwork` from a NIR graph or file (and its sidecar when present).

    ``dt`` is needed only when neither the sidecar nor the graph's metadata holds one.
    """
    nir = require("nir", "NIR export and import")

    sidecar = None
    if isinstance(graph_or_path, (str, Path)):
        if not Path(graph_or_path).exists():
            raise DataError(f"no NIR file at {graph_or_path}")
        sidecar = _read_sidecar(graph_or_path)
        graph = read_graph(graph_or_path)
    else:
        graph = graph_or_path
    dt = dt if dt is not None else (sidecar or {}).get("dt", graph.metadata.get("bioplast_dt"))
    if dt is None:
        raise ConfigError("this NIR graph holds no time step; pass dt=")
    sources, pops = [], {}
    for name, node in sorted(graph.nodes.items()):
        if isinstance(node, nir.Input):
            sources.append(SpikeSource(name, int(np.prod(node.input_type["input"]))))
        elif isinstance(node, (nir.LIF, nir.CubaLIF)):
            pops[name] = Population(name, int(np.size(node.v_threshold)), *_neuron_from(node))
        elif not isinstance(node, (nir.Output, nir.Linear, nir.Affine)):
            raise DataError(f"NIR node {name!r} is a {type(node).__name__}, which bioplast does not import")
    incoming = {dst: src for src, dst in graph.edges}
    outgoing = {src: dst for src, dst in graph.edges}
    by_node = {e["node"]: e for e in (sidecar or {}).get("projections", [])}
    projections = []
    for name, node in sorted(graph.nodes.items(), key=lambda kv: _order(kv[0])):
        if not isinstance(node, (nir.Linear, nir.Affine)):
            continue
        if isinstance(node, nir.Affine) and np.any(np.asarray(node.bias) != 0):
            raise DataError(f"NIR node {name!r} has a nonzero bias; bioplast projections have none")
        pre, post = incoming.get(name), outgoing.get(name)
        if pre is None or post is None:
            raise DataError(f"NIR node {name!r} must have one input and one output edge")
        if post not in pops:
            raise DataError(f"NIR node {name!r} must feed a LIF or CubaLIF node, feeds {post!r}")
        neuron = pops[post].neuron
        entry = by_node.get(name, {})
        target = entry.get("target", "v" if neuron.tau_syn is None else "syn")
        w = np.asarray(node.weight, dtype=np.float64) / _input_scale(neuron, target)
        connectivity = entry.get("connectivity", "dense")
        weights = entry["weight"] if connectivity != "dense" else w
        plastic = None
        if "plasticity" in entry:
            spec = entry["plasticity"]
            rule = stdp_from_spec(
                RuleSpec(
                    spec["rule"], spec["family"], frozenset(), "spiking", "", spec.get("citation", ""), spec["params"]
                )
            )
            plastic = make_plasticity(rule, *[_transform_from(t) for t in spec["transforms"]])
        projections.append(
            Projection(
                pre,
                post,
                target,
                weights,
                connectivity,
                plastic,
                float(entry.get("read_noise", 0.0)),
                int(entry.get("read_seed", 0)),
            )
        )
    return SpikingNetwork(sources, [pops[n] for n in sorted(pops)], projections, float(dt))


def _order(name: str):
    # projection nodes in the order they were written (projection0, projection1, …), others after
    digits = name[len("projection") :] if name.startswith("projection") else ""
    return (0, int(digits)) if digits.isdigit() else (1, name)


def _neuron_from(node) -> tuple:
    """``(LIF, per_neuron)`` of a NIR LIF or CubaLIF node: leak, threshold and reset may vary neuron
    by neuron (the model holds their mean, ``per_neuron`` the values); other fields may not."""
    nir = require("nir", "NIR export and import")

    varying = {}

    def one(field, ours=None):
        values = np.asarray(getattr(node, field), dtype=np.float64).reshape(-1)
        if np.unique(values).size == 1:
            return float(values[0])
        if ours not in PER_NEURON:
            raise DataError(
                f"NIR neuron field {field!r} varies across neurons; bioplast populations vary only "
                f"{PER_NEURON} neuron by neuron (split the population)"
            )
        varying[ours] = values
        return float(values.mean())

    v_reset = one("v_reset", "v_reset") if node.v_reset is not None else one("v_leak", "v_reset")
    common = dict(v_rest=one("v_leak", "v_rest"), v_reset=v_reset, v_thresh=one("v_threshold", "v_thresh"))
    if isinstance(node, nir.CubaLIF):
        if one("w_in") != 1.0:
            raise DataError("CubaLIF with w_in != 1 is not imported (scale the incoming weights instead)")
        neuron = LIF(tau_mem=one("tau_mem"), resistance=one("r"), tau_syn=one("tau_syn"), **common)
    else:
        neuron = LIF(tau_mem=one("tau"), resistance=one("r"), **common)
    return neuron, (varying or None)
