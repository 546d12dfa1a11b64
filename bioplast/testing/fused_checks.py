"""Each fused kernel a backend offers (``k.fused(name)``) against the generic path it replaces.

Used by :func:`bioplast.testing.conformance.check_fused`; every check builds a small problem, runs
it once through the backend's kernel and once through the generic code (the verbs of the same
backend, or the numpy reference), and compares within tolerances derived from the dtype and the
operation count (:mod:`bioplast.testing.tolerance`).
"""

from __future__ import annotations

import numpy as np

from bioplast.core import chain_init, chain_update, plasticity
from bioplast.data.teacher import teacher_student
from bioplast.dynamics import student_teacher
from bioplast.dynamics.activations import activation
from bioplast.dynamics.relaxation import EPNet, _relax_fused, _relax_steps
from bioplast.dynamics.spiking.engine import simulate
from bioplast.dynamics.spiking.network import Population, Projection, SpikeSource, SpikingNetwork
from bioplast.dynamics.spiking.neurons import LIF
from bioplast.geometry import additive
from bioplast.hardware import clip_bounds, device_transforms, get_substrate, program
from bioplast.rules.stdp import triplet_stdp
from bioplast.testing.tolerance import assert_close, libm_disagreement, tolerance, worst_case


def check_device_write(k, seed: int = 0) -> None:
    """Three writes through each profile's chain with the kernel and without (the stages one by one,
    on the same backend): the same draws, the same operations — equal to a few roundings."""
    start = np.random.default_rng(seed).uniform(-0.9, 0.9, (17, 29))
    for name in ("loihi2-like", "reram-crossbar", "pcm-differential"):
        profile = get_substrate(name)
        runs = []
        for kernel in (k.fused("device_write"), None):
            w = program(k, profile, k.asarray(start), seed)
            chain = device_transforms(profile, seed, kernel)
            states, out = chain_init(k, chain, w), []
            for t in range(3):
                u = k.asarray(np.random.default_rng(t).normal(0, 0.05, (17, 29)))
                d, states = chain_update(k, chain, u, states, w)
                w = w + d
                out.append(np.asarray(k.to_numpy(w), dtype=np.float64))
            runs.append(out)
        for t, (a, b) in enumerate(zip(*runs, strict=True)):
            assert_close(
                a,
                b,
                dtype=k.dtype_name,
                rtol=3 * worst_case(k.dtype_name, 30),
                scale=1.0,
                what=f"{k.name} fused device write on {name}, write {t + 1}",
            )


def check_relax(k, seed: int = 0) -> None:
    """EP's relaxation in the fused kernel against the generic step loop (30 free steps and 10
    nudged ones of a 20-12-6 network): each step's drives are sums of ≤ 20 products and the
    activation is a library function, so the states agree within ``steps`` times that."""
    rng = np.random.default_rng(seed)
    sizes = [20, 12, 6]
    ws = [k.asarray(rng.uniform(-0.4, 0.4, (b, a))) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]
    bs = [k.asarray(rng.uniform(-0.1, 0.1, b)) for b in sizes[1:]]
    net = EPNet(ws, bs)
    x = k.asarray(rng.random((8, sizes[0])))
    drive = k.linear(x, net.weights[0], net.biases[0])
    start = [k.zeros((8, n)) for n in sizes[1:]]
    fused = _relax_fused(k.fused("relax"), net, drive, start, 30, "sigmoid4", None, 1.0)
    if fused is None:
        return  # the kernel declines this dtype (numba: float64): the generic loop runs, nothing to compare
    generic, _ = _relax_steps(k, net, x, start, 30, activation("sigmoid4"), None, 1.0, drive)
    rtol = 30 * (tolerance(k.dtype_name, 20) + libm_disagreement(k.dtype_name, 4) * 8)
    for a, b in zip(fused[0], generic, strict=True):
        assert_close(a, b, dtype=k.dtype_name, rtol=rtol, scale=1.0, what=f"{k.name} fused relaxation")


def check_spiking(k, seed: int = 0) -> None:
    """The fused event-driven engine against the generic engine on a learning network: the same
    spikes, and weights within the rounding of their STDP updates."""
    rng = np.random.default_rng(seed)
    stdp = plasticity(triplet_stdp(dt=1e-3), additive(1.0), clip_bounds(0.0, 1.0))
    net = SpikingNetwork(
        [SpikeSource("x", 12)],
        [Population("p", 6, LIF(tau_mem=20e-3, v_thresh=1.0))],
        [Projection("x", "p", "v", rng.uniform(0.2, 0.6, (6, 12)), plasticity=stdp)],
        1e-3,
    )
    spikes = {"x": rng.random((200, 2, 12)) < 0.1}
    st_f, rec_f = simulate(net, spikes, backend=k, engine="fused", record=("spikes",))
    st_g, rec_g = simulate(net, spikes, backend=k, engine="generic", record=("spikes",))
    if not np.array_equal(rec_f.spikes["p"], rec_g.spikes["p"]):
        raise AssertionError(f"{k.name} fused spiking engine: spikes differ from the generic engine's")
    assert_close(
        np.asarray(st_f.weights[0]),
        k.to_numpy(st_g.weights[0]),
        dtype=k.dtype_name,
        rtol=200 * worst_case(k.dtype_name, 12),
        scale=1.0,
        what=f"{k.name} fused spiking engine weights",
    )


def check_two_layer_sweep(k, seed: int = 0) -> None:
    """The fused student–teacher sweep against the numpy reference loop (float64 by construction)."""
    task = teacher_student(10, 4, 1, 40, 20, "tanh", seed=seed)
    rng = np.random.default_rng(seed)
    w1 = rng.standard_normal((3, 4, 10)) * 0.3
    w2 = rng.standard_normal((3, 1, 4)) * 0.3
    fused = student_teacher.sweep(w1, w2, task, 0.05, 200, batch=8, records=5, seed=seed, backend=k)
    ref = student_teacher.sweep(w1, w2, task, 0.05, 200, batch=8, records=5, seed=seed, backend="numpy")
    assert_close(
        fused.w1,
        ref.w1,
        dtype="float64",
        rtol=200 * tolerance("float64", 40),
        scale=1.0,
        what=f"{k.name} fused two-layer sweep",
    )


CHECKS = {
    "device_write": check_device_write,
    "relax": check_relax,
    "spiking": check_spiking,
    "two_layer_sweep": check_two_layer_sweep,
}
