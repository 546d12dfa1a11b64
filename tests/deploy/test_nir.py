"""NIR export/import: round trips through the file format, sidecar for plasticity, clear refusals."""

import json

import numpy as np
import pytest

pytest.importorskip("nir")

from bioplast.backends import get_backend  # noqa: E402
from bioplast.core import plasticity  # noqa: E402
from bioplast.data.encoders import poisson  # noqa: E402
from bioplast.deploy.nir import export_nir, import_nir, import_state, sidecar_path, state_path  # noqa: E402
from bioplast.dynamics.spiking.engine import simulate  # noqa: E402
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork  # noqa: E402
from bioplast.dynamics.spiking.neurons import LIF, CondLIF  # noqa: E402
from bioplast.errors import ConfigError, DataError  # noqa: E402
from bioplast.geometry import additive  # noqa: E402
from bioplast.hardware import clip_bounds  # noqa: E402
from bioplast.rules.stdp import diehl_cook_stdp  # noqa: E402
from bioplast.testing import worst_case  # noqa: E402
from bioplast.testing.spiking import drift, peak, stdp_weights  # noqa: E402

DT = 1e-3
K = get_backend("numpy", dtype="float64")
# NIR carries a jump w on v as the Dirac weight w·τ/R (w·τ_syn on syn), and the import divides it
# back: two roundings, so a reloaded weight is the original to γ₂ relative
ROUND_TRIP = worst_case("float64", 2)


def network(plastic=True):
    rng = np.random.default_rng(0)
    stdp = plasticity(diehl_cook_stdp(dt=DT, nu_pre=1e-3, nu_post=2e-2), additive(1.0), clip_bounds(0.0, 1.0))
    return SpikingNetwork(
        [SpikeSource("x", 30)],
        [
            Population("a", 8, LIF(tau_mem=15e-3, resistance=2.0, v_rest=0.1, v_reset=0.0, v_thresh=1.0)),
            Population("b", 5, LIF(tau_mem=20e-3, tau_syn=5e-3, v_thresh=0.8)),
        ],
        [
            Projection("x", "a", "v", rng.uniform(0, 0.4, (8, 30)), plasticity=stdp if plastic else None),
            Projection("a", "b", "syn", rng.uniform(0, 0.5, (5, 8))),
            Projection("a", "a", "v", -0.05, "all_but_self"),
        ],
        DT,
    )


def run(net, x):
    return simulate(net, {"x": x}, backend=K, record=("spikes", "v"))


def test_round_trip_through_the_file_reproduces_the_simulation(tmp_path):
    net = network()
    x = poisson(np.full((1, 30), 60.0), 400, DT, seed=1)
    path = tmp_path / "net.nir"
    export_nir(net, path, substrate="ideal")
    assert path.exists() and sidecar_path(path).exists()
    back = import_nir(path)
    st0, r0 = run(net, x)
    st1, r1 = run(back, x)
    assert r0.counts["a"].sum() > 20 and r0.counts["b"].sum() > 5
    # the same numpy code on weights that differ by ROUND_TRIP (the all-but-self weight travels as a
    # float: exact; so do the neuron parameters): the plastic weights differ by that plus the rounding
    # of their STDP updates; a's membrane (jumps on v: ≤ n active inputs, so n + 2 operations for the
    # sum and the all-but-self jump, 5 for the leak update) by what those weights change in its input;
    # b's current (8 inputs, 2 more for the rounded weights) and membrane as in bioplast.testing.spiking.drift
    w0, w1 = (np.asarray(pr.weights) for pr in net.projections[:2])
    dw = ROUND_TRIP * np.abs(w0).max() + stdp_weights(
        "float64", net.projections[0].plasticity, w0, x, r0.spikes["a"], traces_alike=True
    )
    a, b = (p.neuron for p in net.populations)
    active = int(x.sum(2).max())  # the most input spikes in one step; weights ≤ 1 (the clip)
    size_a = 4 * (np.abs(r0.v["a"]).max() + abs(a.v_rest) + active + 7 * 0.05)
    rho_s = np.exp(-DT / b.tau_syn)
    current = peak(r0.spikes["a"], w1, rho_s)
    bounds = {
        "a": drift("float64", active + 7, np.exp(-DT / a.tau_mem), size_a, extra=active * dw),
        "b": b.resistance * drift("float64", 12, rho_s, current)
        + drift("float64", 7, np.exp(-DT / b.tau_mem), 4 * (np.abs(r0.v["b"]).max() + current)),
    }
    for pop in ("a", "b"):
        np.testing.assert_array_equal(r1.spikes[pop], r0.spikes[pop])
        assert np.abs(r1.v[pop] - r0.v[pop]).max() <= bounds[pop]
    # the plastic projection came back plastic, with the same rule and transforms: same learning
    assert np.abs(st1.weights[0] - st0.weights[0]).max() <= dw
    assert back.projections[0].plasticity.name == net.projections[0].plasticity.name
    assert back.projections[2].connectivity == "all_but_self"


@pytest.mark.parametrize("substrate", ["loihi2-like", "brainscales2-like", "reram-crossbar"])
def test_a_network_on_a_substrate_reloads_with_its_device_writes(tmp_path, substrate):
    """The sidecar records the fused device write stage by stage, with each stage's seed: the
    reloaded network learns exactly as the original from the same weights."""
    from bioplast.deploy import on_substrate
    from bioplast.hardware import get_substrate

    net = on_substrate(network(), get_substrate(substrate), seed=2)
    kinds = [t.kind for t in net.projections[0].plasticity.transforms]
    assert kinds[-1] == "device_write"
    path = tmp_path / "chip.nir"
    export_nir(net, path, substrate=substrate)
    back = import_nir(path)
    assert back.projections[0].plasticity.name == net.projections[0].plasticity.name
    assert (back.projections[0].read_noise, back.projections[0].read_seed) == (
        net.projections[0].read_noise,
        net.projections[0].read_seed,
    )
    x = poisson(np.full((1, 30), 60.0), 300, DT, seed=1)
    st0, r0 = run(net, x)
    st1, _ = run(back, x)
    assert not np.allclose(st0.weights[0], net.projections[0].weights)  # it learned
    # float weights pass through NIR's w·τ/R units and back (ROUND_TRIP).  A write is non-expansive in
    # w (gain and soft bounds shrink changes near the bounds, the noise adds the same draws, the clip;
    # a grid re-lands both on one level unless a level boundary lies within that difference) and
    # rounds ≤ 16 times on operands ≤ 2 (|w|, |change| ≤ 1): ≤ 2γ₁₆·2 per write, at most N writes
    n = int(np.max(x[:, 0].sum(0)[None, :] + r0.spikes["a"][:, 0].sum(0)[:, None]))
    bound = ROUND_TRIP * np.abs(np.asarray(net.projections[0].weights)).max() + n * 2 * worst_case("float64", 16) * 2
    assert np.abs(st1.weights[0] - st0.weights[0]).max() <= bound


def test_graph_alone_is_a_static_dense_network_in_nir_units(tmp_path):
    import nir

    net = network(plastic=False)
    graph = export_nir(net)
    # a jump of w on v is a Dirac input of weight w τ/R; on syn, w τ_syn.  Exact: the export computes
    # w·(τ/R), and τ/R = 15e-3/2 is an exact halving, so w·(τ/R) = (w·τ)/2 bit for bit
    np.testing.assert_array_equal(graph.nodes["projection0"].weight, np.asarray(net.projections[0].weights) * 15e-3 / 2)
    np.testing.assert_array_equal(graph.nodes["projection1"].weight, np.asarray(net.projections[1].weights) * 5e-3)
    assert isinstance(graph.nodes["b"], nir.CubaLIF) and isinstance(graph.nodes["a"], nir.LIF)
    back = import_nir(graph)  # no sidecar: dt from the graph's metadata, dense projections
    assert all(p.connectivity == "dense" for p in back.projections)
    x = poisson(np.full((1, 30), 60.0), 300, DT, seed=2)
    np.testing.assert_array_equal(run(back, x)[1].spikes["b"], run(net, x)[1].spikes["b"])


def test_continuing_a_learning_network_after_reload(tmp_path):
    """Export mid-training with the learnt weights, reload, continue: the weights go on learning."""
    net = network()
    x = poisson(np.full((1, 30), 60.0), 600, DT, seed=3)
    state, _ = run(net, x[:300])
    path = tmp_path / "mid.nir"
    export_nir(net, path, weights={"x->a": np.asarray(state.weights[0])})
    back = import_nir(path)
    assert np.all(
        np.abs(np.asarray(back.projections[0].weights) - state.weights[0]) <= ROUND_TRIP * np.abs(state.weights[0])
    )
    later, _ = run(back, x[300:])
    assert np.abs(later.weights[0] - state.weights[0]).max() > 1e-4


@pytest.mark.parametrize("backend", ["numpy", "numba", "torch"])
def test_continuing_on_a_noisy_substrate_after_reload_equals_an_uninterrupted_run(tmp_path, backend):
    """With the exported state the reloaded network goes on with the draws it would have made
    (write noise, stochastic rounding, read noise): bit for bit the uninterrupted run.  Without it
    the devices' counters start again and the weights part (the failure this guards against)."""
    from bioplast.deploy import on_substrate
    from bioplast.hardware import get_substrate

    x = poisson(np.full((2, 30), 20.0), 400, DT, seed=5)  # 60 Hz saturates loihi2-like's weights
    for name in ("loihi2-like", "reram-crossbar"):  # stochastic rounding; write and read noise
        chip = on_substrate(network(), get_substrate(name), seed=4)
        whole, rec = simulate(chip, {"x": x}, backend=backend, record=("spikes",))
        half, _ = simulate(chip, {"x": x[:200]}, backend=backend)
        path = tmp_path / f"{name}.nir"
        export_nir(chip, path, state=half)
        assert state_path(path).is_dir() and json.loads(sidecar_path(path).read_text())["state"]["step"] == 200
        back = import_nir(path)
        resumed = import_state(path, back, backend=backend)
        assert resumed.step == half.step == 200
        rest, rec_rest = simulate(back, {"x": x[200:]}, backend=backend, state=resumed, record=("spikes",))
        np.testing.assert_array_equal(np.asarray(rest.weights[0]), np.asarray(whole.weights[0]))
        np.testing.assert_array_equal(rec_rest.spikes["a"], rec.spikes["a"][200:])
        restarted, _ = simulate(
            back,
            {"x": x[200:]},
            backend=backend,
            state=half._replace(
                plasticity=tuple(
                    pr.plasticity.init(get_backend(backend), w) if pr.plasticity else None
                    for pr, w in zip(back.projections, half.weights, strict=True)
                ),
                step=0,
            ),
        )
        assert np.abs(np.asarray(restarted.weights[0]) - np.asarray(whole.weights[0])).max() > 1e-3


def test_a_state_that_does_not_fit_is_refused(tmp_path):
    net = network()
    x = poisson(np.full((1, 30), 60.0), 50, DT, seed=6)
    state, _ = run(net, x)
    with pytest.raises(ConfigError, match="path="):
        export_nir(net, state=state)
    with pytest.raises(ConfigError, match="not both"):
        export_nir(net, tmp_path / "a.nir", state=state, weights={"x->a": np.zeros((8, 30))})
    export_nir(net, tmp_path / "plain.nir")
    with pytest.raises(DataError, match="without a simulation state"):
        import_state(tmp_path / "plain.nir")
    export_nir(net, tmp_path / "s.nir", state=state)
    other = network(plastic=False)  # no rule state: another layout
    with pytest.raises(DataError, match="does not fit"):
        import_state(tmp_path / "s.nir", other)


def test_what_nir_cannot_say_is_refused(tmp_path):
    cond = SpikingNetwork(
        [SpikeSource("x", 2)], [Population("p", 2, CondLIF())], [Projection("x", "p", "ge", np.ones((2, 2)))], 0.5e-3
    )
    with pytest.raises(ConfigError, match="CondLIF \\(NIR 1.0 has no conductance-based neuron\\)"):
        export_nir(cond)
    refractory = SpikingNetwork([], [Population("p", 2, LIF(refractory=2e-3, reset="subtract"))], [], DT)
    with pytest.raises(ConfigError, match="refractory = 0.002 s, reset = 'subtract'"):
        export_nir(refractory)
    path = tmp_path / "n.nir"
    export_nir(network(), path)
    sidecar_path(path).write_text(json.dumps({"format": "something else", "version": 1}))
    with pytest.raises(DataError, match="is not a version-2 bioplast-nir-sidecar file"):
        import_nir(path)
    with pytest.raises(DataError, match="no NIR file"):
        import_nir(tmp_path / "missing.nir")


def test_snntorch_reads_our_nir_graph_with_its_documented_conventions(tmp_path):
    """The independent check: snnTorch's own NIR importer (via nirtorch) runs our exported graph.

    Its conventions, measured here: it fixes dt = 1e-4 s, maps the LIF to ``Leaky`` with the
    forward-Euler ``β = 1 − dt/τ`` (we integrate exactly: ``e^{−dt/τ}``), keeps NIR's weights
    ``w τ/R`` and divides the threshold by ``R dt/τ``, and adds a step's input before its
    threshold test, i.e. it reads a spike as a current of one step, not NIR's Dirac: fed spikes of
    height ``1/dt`` and compared with our LIF at the τ whose exact decay is its β, the membranes
    agree (to NIR's float32 storage) until each neuron's first spike.  The spike itself comes one step earlier
    there or at the same step: we apply synaptic jumps after the threshold test (Brian2's order),
    so a jump over threshold fires at the next step."""
    import math

    pytest.importorskip("nirtorch")
    import snntorch.utils
    import torch
    from snntorch.import_nir import import_from_nir

    dt, tau, n_in, n = 1e-4, 10e-3, 10, 4
    w = np.random.default_rng(0).uniform(0, 0.3, (n, n_in))

    def network(tau_mem):
        return SpikingNetwork(
            [SpikeSource("x", n_in)],
            [Population("p", n, LIF(tau_mem=tau_mem, v_thresh=1.0, reset="zero"))],
            [Projection("x", "p", "v", w)],
            dt=dt,
        )

    export_nir(network(tau), tmp_path / "net.nir")
    import nir

    module = import_from_nir(nir.read(tmp_path / "net.nir")).double()
    snntorch.utils.reset(module)
    # float32 in the graph, and snnTorch computes in it: β = 1 − dt/τ rounds dt/τ ≤ 3 times (the casts of
    # dt and τ, the division) and the difference once (≤ u₃₂ near 1); the threshold v_th/(r dt/τ) ≤ 5 times
    beta_err = worst_case("float32", 1) + dt / tau * worst_case("float32", 3)
    assert np.all(np.abs(module.p.beta.detach().numpy() - (1 - dt / tau)) <= beta_err)
    threshold = 1.0 / (dt / tau)
    assert np.all(np.abs(module.p.threshold.detach().numpy() - threshold) <= worst_case("float32", 5) * threshold)
    x = poisson(np.full((1, n_in), 200.0), 1500, dt, seed=1)
    spikes, mem, state = [], [], None
    for t in range(len(x)):
        out, state = module(torch.as_tensor(x[t], dtype=torch.float64) / dt, state)
        spikes.append(out.detach().numpy()[0])
        mem.append(module.p.mem.detach().numpy()[0] * (dt / tau))  # back to our units of v
    spikes, mem = np.array(spikes) > 0, np.array(mem)
    _, rec = simulate(
        network(-dt / math.log(1 - dt / tau)),
        {"x": x},
        backend=get_backend("numpy", dtype="float64"),
        record=("v", "spikes"),
    )
    ours, v = rec.spikes["p"][:, 0] > 0, rec.v["p"][:, 0]
    # before the first spike both are v_t = β v_{t−1} + w x_t (theirs in units of v: mem·dt/τ, weights
    # w·τ/R held in float32, ≤ γ₂ of float32).  Their β differs from our e^{−dt/τ'} = 1 − dt/τ by
    # ≤ beta_err (float32), our float64 updates and the unit conversions round ≤ 8 times: the
    # difference e_t = β e_{t−1} + beta_err |v_{t−1}| + γ₂(f32) w x_t + γ₈ (|v_{t−1}| + w x_t)
    inc = x[:, 0].astype(np.float64) @ w.T
    err, bound = np.zeros(n), np.zeros((len(x), n))
    for t in range(len(x)):
        prev = np.abs(v[t - 1]) if t else np.zeros(n)
        err = (
            (1 - dt / tau) * err
            + beta_err * prev
            + worst_case("float32", 2) * inc[t]
            + worst_case("float64", 8) * (prev + inc[t])
        )
        bound[t] = err
    for i in range(n):
        first_theirs, first_ours = np.argmax(spikes[:, i]), np.argmax(ours[:, i])
        assert spikes[:, i].any() and ours[:, i].any()
        assert first_ours - first_theirs in (0, 1)
        assert np.all(np.abs(v[:first_theirs, i] - mem[:first_theirs, i]) <= bound[:first_theirs, i])


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_JUNK = st.none() | st.booleans() | st.integers(-2, 3) | st.floats() | st.text(max_size=6) | st.just([]) | st.just({})


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("nir") / "net.nir"
    export_nir(network(), path, substrate="ideal")
    return path, json.loads(sidecar_path(path).read_text())


def _mutations(sidecar: dict):
    """(path of keys, junk) pairs: any field of the sidecar replaced, or removed (junk None)."""
    paths = []

    def walk(node, at):
        items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else []
        for key, value in items:
            paths.append((*at, key))
            walk(value, (*at, key))

    walk(sidecar, ())
    return st.tuples(st.sampled_from(paths), _JUNK, st.booleans())


@settings(max_examples=150, deadline=None, derandomize=True)
@given(data=st.data())
def test_a_mutated_sidecar_imports_or_gives_a_data_error(exported, tmp_path_factory, data):
    """Any one field of a real sidecar replaced by junk (or deleted): the import either succeeds or
    raises a DataError/ConfigError naming the problem — never a KeyError, TypeError or a division by
    zero from deep inside."""
    import copy

    path, sidecar = exported
    keys, junk, delete = data.draw(_mutations(sidecar))
    mutated = copy.deepcopy(sidecar)
    node = mutated
    for key in keys[:-1]:
        node = node[key]
    if delete and isinstance(node, dict):
        del node[keys[-1]]
    else:
        node[keys[-1]] = junk
    folder = tmp_path_factory.mktemp("mutated")
    target = folder / path.name
    target.write_bytes(path.read_bytes())
    sidecar_path(target).write_text(json.dumps(mutated))
    try:
        import_nir(target)
    except (DataError, ConfigError) as exc:
        assert str(exc)
