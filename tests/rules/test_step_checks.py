"""``Plasticity.step`` refuses to turn weights into NaN: non-finite signals, or an update that
overflows, are a DivergenceError naming the rule and the cause, on every backend; ``apply`` (the
trainers' inner loop, which checks per epoch) is the same arithmetic without the check."""

import numpy as np
import pytest

from bioplast import DivergenceError, Local, plasticity
from bioplast.geometry import additive, exponentiated
from bioplast.rules import hebb, oja


def _signals(k, rng, bad=None):
    pre, post = rng.random((4, 3)), rng.random((4, 2))
    if bad == "pre":
        pre[1, 2] = np.nan
    if bad == "post":
        post[0, 0] = np.inf
    return Local(pre=k.asarray(pre), post=k.asarray(post))


@pytest.mark.parametrize("bad", ["pre", "post"])
def test_non_finite_signals_are_named(backend, bad):
    rng = np.random.default_rng(0)
    learn = plasticity(oja(), additive(0.1))
    w = backend.asarray(rng.random((2, 3)))
    with pytest.raises(DivergenceError, match=rf"oja → additive.*non-finite {bad} signals"):
        learn.step(backend, _signals(backend, rng, bad), learn.init(backend, w), w)


def test_an_overflowing_update_is_named(backend):
    rng = np.random.default_rng(0)
    learn = plasticity(hebb(), exponentiated(1e4))  # e^{ηd} overflows at this rate
    w = backend.asarray(rng.random((2, 3)) + 0.5)
    with pytest.raises(DivergenceError, match="an update that overflowed"):
        learn.step(backend, _signals(backend, rng), learn.init(backend, w), w)


def test_apply_is_step_without_the_check(backend):
    rng = np.random.default_rng(1)
    learn = plasticity(oja(), additive(0.1))
    w = backend.asarray(rng.random((2, 3)))
    sig = _signals(backend, rng)
    a, _ = learn.step(backend, sig, learn.init(backend, w), w)
    b, _ = learn.apply(backend, sig, learn.init(backend, w), w)
    assert np.array_equal(backend.to_numpy(a), backend.to_numpy(b))
    nan, _ = learn.apply(backend, _signals(backend, rng, "pre"), learn.init(backend, w), w)
    assert not np.isfinite(backend.to_numpy(nan)).all()
