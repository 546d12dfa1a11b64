"""The conformance battery: every kernel and every registered rule, on any
backend, against the numpy float64 reference.

Public so that a third-party backend can run it::

    from bioplast.testing import conformance
    conformance.check_kernels(my_backend)
    for name in bioplast.rules.RULES:
        conformance.check_rule(name, my_backend)
        conformance.check_locality(name, my_backend)

Inputs are drawn on the host in float64 and cast once to the backend's
dtype; the reference sees the *cast* values, so only the backend's own
arithmetic is judged.
"""
from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from bioplast.backends import get_backend
from bioplast.core import Contrast, Local, plasticity
from bioplast.rules.registry import get_rule
from bioplast.testing.tolerance import assert_close, to_host

B, N_PRE, N_POST = 16, 23, 11


class KernelCase(NamedTuple):
    name: str
    make: Callable  # rng -> dict of host arrays / scalars
    call: Callable  # (k, inputs) -> result
    reduction: int  # number of summed terms per output element (for the tolerance)


def _signals(rng):
    return {"post": rng.standard_normal((B, N_POST)), "pre": rng.standard_normal((B, N_PRE)),
            "w": rng.standard_normal((N_POST, N_PRE)), "s": rng.random(N_POST) + 0.5}


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
    KernelCase("sign_project", lambda rng: {**_signals(rng), "signs": np.sign(rng.standard_normal(N_PRE))},
               lambda k, a: k.sign_project(a["w"], a["signs"]), 1),
    KernelCase("signed_expm1", lambda rng: {**_signals(rng), "d": rng.standard_normal((N_POST, N_PRE))},
               lambda k, a: k.signed_expm1(a["w"], a["d"], 0.5, 0.01), 1),
    KernelCase("decay_trace", lambda rng: {**_signals(rng), "ev": (rng.random((B, N_PRE)) < 0.2) * 1.0},
               lambda k, a: k.decay_trace(a["pre"], a["ev"], 0.9), 1),
]


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
        assert_close(got, expected, dtype=k.dtype_name, reduction=case.reduction,
                     what=f"{k.name}.{case.name}")
    _check_normal(k, seed)


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
    if u.min() < 0 or u.max() >= 1 or abs(u.mean() - 0.5) > 5 * np.sqrt(1 / 12 / n) \
            or abs(u.var() - 1 / 12) > 5 * np.sqrt(1 / 180 / n):
        raise AssertionError(f"{k.name}.uniform: range [{u.min():.3f}, {u.max():.3f}], mean {u.mean():.4f}, "
                             f"var {u.var():.5f} not uniform on [0, 1)")


def rule_signals(rng, n_pre: int = N_PRE, n_post: int = N_POST, batch: int = B) -> dict:
    return {"pre": rng.standard_normal((batch, n_pre)), "post": rng.standard_normal((batch, n_post)),
            "mod": rng.standard_normal((batch, n_post)), "w": rng.standard_normal((n_post, n_pre))}


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


def check_rule(name: str, k, seed: int = 0) -> None:
    """The rule's direction and state on ``k`` match the numpy float64 reference."""
    rule = get_rule(name)
    host = rule_signals(np.random.default_rng(seed))
    cast = _reference(_cast(k, host))
    d, state = _direction(k, rule, host)
    d_ref, state_ref = _direction(get_backend("numpy", dtype="float64"), rule, cast)
    assert_close(d, d_ref, dtype=k.dtype_name, reduction=B, scale=float(np.abs(d_ref).max()) + 1.0,
                 what=f"{name} direction on {k.name}")
    for got, exp in zip(_leaves(state), _leaves(state_ref)):
        assert_close(got, exp, dtype=k.dtype_name, reduction=B, what=f"{name} state on {k.name}")


def _leaves(state) -> list:
    """Arrays of a (possibly nested) rule state, depth first."""
    if isinstance(state, tuple):
        return [leaf for part in state for leaf in _leaves(part)]
    return [] if state is None or isinstance(state, (str, int, float)) else [state]


def check_locality(name: str, k=None, seed: int = 0) -> None:
    """Prove a rule's ``reads`` declaration by perturbation.

    Perturbing presynaptic column ``j`` may change only column ``j`` of the
    direction; postsynaptic (or modulator) row ``i`` only row ``i``; weight
    ``(i, j)`` only entry ``(i, j)``.  A signal the rule does not declare
    must change nothing at all, and a declared one must change something.
    """
    k = k or get_backend("numpy", dtype="float64")
    rule = get_rule(name)
    reads = rule.spec.reads
    rng = np.random.default_rng(seed)
    host = rule_signals(rng)
    # two steps, so that trace-based rules (STDP) have traces to read
    base, _ = _direction(k, rule, host, steps=2)
    base = to_host(base)
    i, j = 3, 5
    cases = {
        "pre": (lambda h: h["pre"].__setitem__((slice(None), j), h["pre"][:, j] + 1.0), "column"),
        "post": (lambda h: h["post"].__setitem__((slice(None), i), h["post"][:, i] + 1.0), "row"),
        "mod": (lambda h: h["mod"].__setitem__((slice(None), i), h["mod"][:, i] + 1.0), "row"),
        "w": (lambda h: h["w"].__setitem__((i, j), h["w"][i, j] + 1.0), "entry"),
    }
    for signal, (perturb, scope) in cases.items():
        h = {n: v.copy() for n, v in host.items()}
        perturb(h)
        d, _ = _direction(k, rule, h, steps=2)
        changed = np.abs(to_host(d) - base) > 1e-9
        if signal not in reads:
            if changed.any():
                raise AssertionError(f"rule {name!r} does not declare {signal!r} but its direction changed "
                                     f"when {signal} was perturbed")
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
            raise AssertionError(f"rule {name!r} is not local: perturbing {signal} at its {scope} "
                                 f"{j if scope == 'column' else i} changed direction entry {tuple(where)}")
        if not changed.any():
            raise AssertionError(f"rule {name!r} declares {signal!r} but ignoring it changed nothing")


def check_plasticity_chain(name: str, k, transforms=(), seed: int = 0) -> None:
    """``plasticity(rule, *transforms).step`` keeps shape/dtype and does not mutate its inputs."""
    p = plasticity(get_rule(name), *transforms)
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
