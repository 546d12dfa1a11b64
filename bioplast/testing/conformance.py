"""The conformance battery, over objects: any backend, any rule, any transform, against the numpy
float64 reference.

Public so that a third party can check its own pieces (the registry only supplies the default
lists)::

    from bioplast.testing import conformance
    conformance.check_backend(MyBackend())           # every verb and every fused kernel it offers
    conformance.check_rule(my_rule, MyBackend())      # direction and state against numpy float64
    conformance.check_locality(my_rule)               # the declared reads, proved by perturbation
    conformance.check_transform(my_transform, MyBackend())

Inputs are drawn on the host in float64 and cast once to the backend's dtype; the reference sees
the *cast* values, so only the backend's own arithmetic is judged, within the dtype-tied tolerances
of :mod:`bioplast.testing.tolerance`.  ``pytest -p bioplast.testing.plugin --bioplast-backend
package.module:MyBackend --pyargs bioplast.testing.suite`` runs the whole battery as a test suite.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from bioplast.backends import Backend, get_backend
from bioplast.backends.counter_rng import stream_key
from bioplast.core import Contrast, Local, Rule, Transform, plasticity
from bioplast.rules.registry import get_rule
from bioplast.testing import fused_checks
from bioplast.testing.tolerance import assert_close, libm_disagreement, to_host, worst_case

B, N_PRE, N_POST = 16, 23, 11


class KernelCase(NamedTuple):
    name: str
    make: Callable  # rng -> dict of host arrays / scalars
    call: Callable  # (k, inputs) -> result
    reduction: int  # number of summed terms per output element (for the tolerance)


def _signals(rng):
    return {
        "post": rng.standard_normal((B, N_POST)),
        "pre": rng.standard_normal((B, N_PRE)),
        "w": rng.standard_normal((N_POST, N_PRE)),
        "s": rng.random(N_POST) + 0.5,
    }


KERNELS = [
    KernelCase("outer_mean", _signals, lambda k, a: k.outer_mean(a["post"], a["pre"]), B),
    KernelCase("outer_mean_decay", _signals, lambda k, a: k.outer_mean_decay(a["post"], a["pre"], a["w"], a["s"]), B),
    KernelCase("row_scale", _signals, lambda k, a: k.row_scale(a["w"], a["s"]), 1),
    KernelCase("batch_mean", _signals, lambda k, a: k.batch_mean(a["pre"]), B),
    KernelCase("linear", _signals, lambda k, a: k.linear(a["pre"], a["w"]), N_PRE),
    KernelCase("linear_bias", _signals, lambda k, a: k.linear(a["pre"], a["w"], a["s"]), N_PRE),
    KernelCase("softmax", _signals, lambda k, a: k.softmax(a["post"]), N_POST),
    KernelCase("add", _signals, lambda k, a: k.add(a["w"], a["w"] * 0.5), 1),
    # grid step 1/8 is exact in binary, so rounding is decided identically in every dtype
    KernelCase("to_grid", _signals, lambda k, a: k.to_grid(a["w"], 0.125, -1.0, 1.0), 1),
    KernelCase("clip", _signals, lambda k, a: k.clip(a["w"], -0.5, 0.75), 1),
    KernelCase(
        "sign_project",
        lambda rng: {**_signals(rng), "signs": np.sign(rng.standard_normal(N_PRE))},
        lambda k, a: k.sign_project(a["w"], a["signs"]),
        1,
    ),
    KernelCase(
        "signed_expm1",
        lambda rng: {**_signals(rng), "d": rng.standard_normal((N_POST, N_PRE))},
        lambda k, a: k.signed_expm1(a["w"], a["d"], 0.5, 0.01),
        1,
    ),
    KernelCase(
        "decay_trace",
        lambda rng: {**_signals(rng), "ev": (rng.random((B, N_PRE)) < 0.2) * 1.0},
        lambda k, a: k.decay_trace(a["pre"], a["ev"], 0.9),
        1,
    ),
    # one Adam step: step = s m' / (√(v_s v') + ε) — a handful of elementwise operations
    KernelCase(
        "adam_step",
        lambda rng: {**_signals(rng), "v": rng.random((N_POST, N_PRE))},
        lambda k, a: k.adam_step(a["w"], a["v"], a["w"] * -0.5, 0.9, 0.999, 0.01, 1.2, 1e-8),
        8,
    ),
    KernelCase("read_error", _signals, lambda k, a: k.read_error(stream_key(1, 2, 16), a["pre"], 0.05, N_POST), N_PRE),
    KernelCase("zeros", _signals, lambda k, a: k.zeros((N_POST, N_PRE)) + a["w"], 1),
    KernelCase("to_complex", _signals, lambda k, a: k.to_complex(a["w"]).real * 2.0, 1),
]

# every verb of the Backend base the battery checks (a verb added without a check fails
# tests/testing/test_conformance.py)
VERBS = {c.name.replace("linear_bias", "linear") for c in KERNELS} | {
    "asarray",
    "to_numpy",
    "xp",
    "rng",
    "normal",
    "uniform",
    "counter_uniform",
    "counter_normal",
    "fused",
}


def _cast(k, host: dict) -> dict:
    return {n: k.asarray(v) if isinstance(v, np.ndarray) else v for n, v in host.items()}


def _reference(host_cast: dict) -> dict:
    """The same inputs as the backend sees, on the numpy float64 reference."""
    return {n: to_host(v).astype(np.float64) if not np.isscalar(v) else v for n, v in host_cast.items()}


def check_kernels(k, seed: int = 0) -> None:
    """Run every kernel on backend ``k`` and compare with numpy float64."""
    ref = get_backend("numpy", dtype="float64")
    for case in KERNELS:
        host = case.make(np.random.default_rng(seed))
        inputs = _cast(k, host)
        got = case.call(k, inputs)
        expected = case.call(ref, _reference(inputs))
        assert_close(got, expected, dtype=k.dtype_name, reduction=case.reduction, what=f"{k.name}.{case.name}")
    _check_normal(k, seed)
    _check_counter_draws(k)
    _check_plumbing(k, seed)


def _check_counter_draws(k) -> None:
    """Counter-based draws are the same bits on every backend (IEEE operations only)."""
    ref = get_backend("numpy", dtype=k.dtype_name)
    key = stream_key(3, 4, 5)
    for verb in ("counter_normal", "counter_uniform"):
        got, expected = to_host(getattr(k, verb)(key, (61, 37))), getattr(ref, verb)(key, (61, 37))
        if got.dtype != expected.dtype or not np.array_equal(got, expected):
            raise AssertionError(f"{k.name}.{verb} does not draw numpy's numbers for the same key")


def _check_plumbing(k, seed: int) -> None:
    host = np.random.default_rng(seed).standard_normal((5, 7))
    a = k.asarray(host)
    back = to_host(k.to_numpy(a))
    if back.shape != host.shape or str(back.dtype) != k.dtype_name:
        raise AssertionError(
            f"{k.name}: asarray/to_numpy gave {back.shape} {back.dtype}, expected {host.shape} {k.dtype_name}"
        )
    if not np.array_equal(back, host.astype(k.dtype_name)):
        raise AssertionError(f"{k.name}: asarray/to_numpy does not round-trip its dtype's values")
    if not hasattr(k.xp, "exp") or not hasattr(k.xp, "where"):
        raise AssertionError(f"{k.name}.xp has no array namespace (exp, where)")
    if k.fused("no such kernel") is not None:
        raise AssertionError(f"{k.name}.fused must return None for a kernel it does not have")


def check_backend(k, seed: int = 0) -> None:
    """Every verb of backend ``k`` against numpy float64 (:func:`check_kernels`) and every fused
    kernel it offers against the generic path it replaces (:func:`check_fused`)."""
    if not isinstance(k, Backend):
        raise TypeError(f"check_backend needs a bioplast Backend, got {type(k).__name__}")
    check_kernels(k, seed)
    check_fused(k, seed)


def _check_normal(k, seed: int) -> None:
    """``normal`` is checked in distribution (streams differ between libraries):
    mean and variance of 20,000 draws within 5 standard errors."""
    x = to_host(k.normal(k.rng(seed), (200, 100))).astype(np.float64)
    n = x.size
    if abs(x.mean()) > 5 / np.sqrt(n) or abs(x.var() - 1) > 5 * np.sqrt(2 / n):
        raise AssertionError(f"{k.name}.normal: mean {x.mean():.4f}, var {x.var():.4f} not standard normal")
    if not np.array_equal(x, to_host(k.normal(k.rng(seed), (200, 100))).astype(np.float64)):
        raise AssertionError(f"{k.name}.normal is not deterministic under a seed")
    u = to_host(k.uniform(k.rng(seed), (200, 100))).astype(np.float64)
    if (
        u.min() < 0
        or u.max() >= 1
        or abs(u.mean() - 0.5) > 5 * np.sqrt(1 / 12 / n)
        or abs(u.var() - 1 / 12) > 5 * np.sqrt(1 / 180 / n)
    ):
        raise AssertionError(
            f"{k.name}.uniform: range [{u.min():.3f}, {u.max():.3f}], mean {u.mean():.4f}, "
            f"var {u.var():.5f} not uniform on [0, 1)"
        )


def rule_signals(rng, n_pre: int = N_PRE, n_post: int = N_POST, batch: int = B) -> dict:
    return {
        "pre": rng.standard_normal((batch, n_pre)),
        "post": rng.standard_normal((batch, n_post)),
        "mod": rng.standard_normal((batch, n_post)),
        "w": rng.standard_normal((n_post, n_pre)),
    }


def signals_for(rule, a: dict):
    """Local signals, or for two-phase rules a Contrast whose nudged phase is an
    elementwise function of the same arrays (so perturbing one column/row of
    the inputs perturbs that column/row in both phases)."""
    free = Local(a["pre"], a["post"], a["mod"])
    if not rule.spec.contrast:
        return free
    nudged = Local(a["pre"] * 1.1 + 0.05, a["post"] * 0.9 - 0.02, a["mod"])
    return Contrast(free, nudged, 0.25)


def _direction(k, rule, host: dict, steps: int = 2):
    """Direction after ``steps`` updates from init (exercises rule state)."""
    a = _cast(k, host)
    state = rule.init(k, a["w"])
    for _ in range(steps):
        d, state = rule.update(k, signals_for(rule, a), state, a["w"])
    return d, state


def _rule(rule) -> Rule:
    """A :class:`~bioplast.core.Rule` object, or a name resolved like ``bioplast train --rule``."""
    return rule if isinstance(rule, Rule) else get_rule(rule)


def check_rule(rule, k, seed: int = 0) -> None:
    """The rule's direction and state on ``k`` match the numpy float64 reference; ``rule`` is a
    :class:`~bioplast.core.Rule` (or a name)."""
    rule = _rule(rule)
    name = rule.spec.name
    host = rule_signals(np.random.default_rng(seed))
    cast = _reference(_cast(k, host))
    d, state = _direction(k, rule, host)
    d_ref, state_ref = _direction(get_backend("numpy", dtype="float64"), rule, cast)
    assert_close(
        d,
        d_ref,
        dtype=k.dtype_name,
        reduction=B,
        scale=float(np.abs(d_ref).max()) + 1.0,
        what=f"{name} direction on {k.name}",
    )
    for got, exp in zip(_leaves(state), _leaves(state_ref), strict=True):
        assert_close(got, exp, dtype=k.dtype_name, reduction=B, what=f"{name} state on {k.name}")


def _leaves(state) -> list:
    """Arrays of a (possibly nested) rule state, depth first."""
    if isinstance(state, tuple):
        return [leaf for part in state for leaf in _leaves(part)]
    return [] if state is None or isinstance(state, (str, int, float)) else [state]


def check_locality(rule, k=None, seed: int = 0) -> None:
    """Prove a rule's ``reads`` declaration by perturbation.

    Perturbing presynaptic column ``j`` may change only column ``j`` of the
    direction; postsynaptic (or modulator) row ``i`` only row ``i``; weight
    ``(i, j)`` only entry ``(i, j)``.  A signal the rule does not declare
    must change nothing at all, and a declared one must change something.
    """
    k = k or get_backend("numpy", dtype="float64")
    rule = _rule(rule)
    name = rule.spec.name
    reads = rule.spec.reads
    rng = np.random.default_rng(seed)
    host = rule_signals(rng)
    # two steps, so that trace-based rules (STDP) have traces to read
    base, _ = _direction(k, rule, host, steps=2)
    base = to_host(base)
    i, j = 3, 5
    # a different amount per sample: a constant shift is invisible to a rule that centres its
    # signals over the batch (a covariance rule), which would read as "declared but unused"
    bump = np.linspace(0.5, 1.5, host["pre"].shape[0])
    cases = {
        "pre": (lambda h: h["pre"].__setitem__((slice(None), j), h["pre"][:, j] + bump), "column"),
        "post": (lambda h: h["post"].__setitem__((slice(None), i), h["post"][:, i] + bump), "row"),
        "mod": (lambda h: h["mod"].__setitem__((slice(None), i), h["mod"][:, i] + bump), "row"),
        "w": (lambda h: h["w"].__setitem__((i, j), h["w"][i, j] + 1.0), "entry"),
    }
    for signal, (perturb, scope) in cases.items():
        h = {n: v.copy() for n, v in host.items()}
        perturb(h)
        d, _ = _direction(k, rule, h, steps=2)
        changed = np.abs(to_host(d) - base) > 1e-9
        if signal not in reads:
            if changed.any():
                raise AssertionError(
                    f"rule {name!r} does not declare {signal!r} but its direction changed when {signal} was perturbed"
                )
            continue
        allowed = np.zeros_like(changed)
        if scope == "column":
            allowed[:, j] = True
        elif scope == "row":
            allowed[i, :] = True
        else:
            allowed[i, j] = True
        if (changed & ~allowed).any():
            where = np.argwhere(changed & ~allowed)[0]
            raise AssertionError(
                f"rule {name!r} is not local: perturbing {signal} at its {scope} "
                f"{j if scope == 'column' else i} changed direction entry {tuple(where)}"
            )
        if not changed.any():
            raise AssertionError(f"rule {name!r} declares {signal!r} but perturbing it changed nothing")


def check_plasticity_chain(rule, k, transforms=(), seed: int = 0) -> None:
    """``plasticity(rule, *transforms).step`` keeps shape/dtype and does not mutate its inputs."""
    p = plasticity(_rule(rule), *transforms)
    name = p.rule.spec.name
    host = rule_signals(np.random.default_rng(seed))
    a = _cast(k, host)
    before = {n: to_host(v).copy() for n, v in a.items()}
    state = p.init(k, a["w"])
    w2, _ = p.step(k, signals_for(p.rule, a), state, a["w"])
    if tuple(w2.shape) != tuple(a["w"].shape) or str(w2.dtype) != str(a["w"].dtype):
        raise AssertionError(f"{name} on {k.name}: weights changed shape/dtype {tuple(w2.shape)} {w2.dtype}")
    for n, v in a.items():
        if not np.array_equal(to_host(v), before[n]):
            raise AssertionError(f"{name} on {k.name}: input {n!r} was mutated")


def check_transform(transform: Transform, k, seed: int = 0, steps: int = 3) -> None:
    """A transform on ``k`` against the same transform on numpy float64 over ``steps`` updates
    (state carried, weights moved by each update): updates agree within the dtype's tolerance for
    a few elementwise operations and a library ``exp`` per step; shape and dtype are kept, inputs
    are not mutated, and the same inputs give the same updates (determinism)."""
    if not isinstance(transform, Transform):
        raise TypeError(f"check_transform needs a bioplast Transform, got {type(transform).__name__}")
    rng = np.random.default_rng(seed)
    w0 = rng.uniform(0.2, 0.9, (N_POST, N_PRE)) * np.where(rng.random(N_PRE) < 0.3, -1.0, 1.0)
    directions = [rng.standard_normal((N_POST, N_PRE)) * 0.05 for _ in range(steps)]

    def run(backend):
        w = backend.asarray(w0)
        state, out = transform.init(backend, w), []
        for d in directions:
            u = backend.asarray(d)
            before = to_host(u).copy()
            update, state = transform.update(backend, u, state, w)
            if not np.array_equal(to_host(u), before):
                raise AssertionError(f"{transform.name} on {backend.name}: the update mutated its input")
            if tuple(update.shape) != tuple(w.shape):
                raise AssertionError(
                    f"{transform.name} on {backend.name}: update shape {tuple(update.shape)}, expected {tuple(w.shape)}"
                )
            w = w + update
            out.append(to_host(w).astype(np.float64))
        return out

    got, again = run(k), run(k)
    for a, b in zip(got, again, strict=True):
        if not np.array_equal(a, b):
            raise AssertionError(f"{transform.name} on {k.name}: the same inputs gave different updates")
    ref = run(get_backend("numpy", dtype="float64"))
    rtol = steps * (worst_case(k.dtype_name, 12) + libm_disagreement(k.dtype_name, 2))
    for t, (a, b) in enumerate(zip(got, ref, strict=True)):
        assert_close(
            a,
            b,
            dtype=k.dtype_name,
            rtol=rtol,
            scale=float(np.abs(b).max()),
            what=f"{transform.name} on {k.name}, step {t + 1}",
        )


def check_fused(k, seed: int = 0) -> None:
    """Every fused kernel ``k`` offers (``k.fused(name)``) against the generic path it replaces."""
    for name, check in fused_checks.CHECKS.items():
        if k.fused(name) is not None:
            check(k, seed)
