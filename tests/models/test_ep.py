"""Training every EP rule through the public trainer."""

import numpy as np
import pytest

from bioplast import ConfigError
from bioplast.testing import LIBM_ULPS, eps, libm_disagreement, tolerance
from bioplast.training import TrainConfig, train

CASES = [
    ("eqprop", {"estimator": "one_sided"}, "sgd", 0.05),
    ("eqprop", {"estimator": "random_sign"}, "sgd", 0.05),
    ("eqprop", {"estimator": "symmetric", "cost": "cross_entropy"}, "adam", 2e-3),
    ("holo_eqprop", {"cost": "cross_entropy", "points": 4}, "sgd", 0.1),
    ("gen_eqprop", {"asymmetry": 1.0, "homeostasis": 0.5}, "sgd", 0.05),
]


@pytest.mark.parametrize("rule,params,opt,lr", CASES)
def test_every_ep_rule_learns_digits(tmp_path, rule, params, opt, lr):
    rec = train(
        TrainConfig(rule=rule, task="digits", backend="numba", epochs=2, lr=lr, optimizer=opt, rule_params=params),
        out=tmp_path,
        progress=False,
    )
    assert rec[0]["test_acc"] < 0.25 and rec[-1]["test_acc"] > 0.75, rec  # chance is 0.1
    arrays = np.load(tmp_path / "weights.npz", allow_pickle=False)
    expect = {"W0", "b0", "W1", "b1"} if params.get("cost") != "cross_entropy" else {"W0", "b0", "W_out", "b_out"}
    if rule == "gen_eqprop":
        expect |= {"B1"}  # the top-down partner of W1
    assert expect <= set(arrays.files)


def test_same_seed_same_run():
    cfg = dict(rule="eqprop", task="digits", backend="numba", epochs=1, rule_params={"estimator": "random_sign"})
    a = train(TrainConfig(**cfg), progress=False)
    b = train(TrainConfig(**cfg), progress=False)
    for ra, rb in zip(a, b, strict=True):
        for key in ("loss", "train_acc", "test_acc", "synops"):  # everything but the wall clock
            np.testing.assert_array_equal(ra[key], rb[key])


def test_unknown_optimizer_is_a_clear_error():
    with pytest.raises(ConfigError, match="unknown optimizer 'sdg'; did you mean 'sgd'"):
        train(TrainConfig(rule="eqprop", optimizer="sdg"), progress=False)


@pytest.mark.parametrize(
    "rule,params",
    [
        ("eqprop", {"estimator": "symmetric", "cost": "cross_entropy"}),
        ("eqprop", {"estimator": "one_sided", "dt": 0.5}),
        ("holo_eqprop", {"cost": "cross_entropy", "points": 3}),
        ("gen_eqprop", {"asymmetry": 0.5, "homeostasis": 0.3}),
    ],
)
def test_one_training_batch_agrees_across_backends(rule, params):
    """numpy (reference), numba (fused float32 relaxation) and torch run the same step, up to
    rounding.  A state carries ≤ tolerance(float32, 64) (the longest reduction, the 64-input drive;
    the relaxation contracts, so the 40 steps do not accumulate it) and the difference of two
    libraries' tanh/exp: libm_disagreement(float32) for torch's, 18 + LIBM_ULPS ulp for numba's
    fused float32 kernels (exp32-based tanh within 18 ε₃₂, tests/backends/test_numba_kernels.py);
    the estimate divides the contrast of states of size O(1) moved
    by O(β) by 2β (symmetric) or |β| (one-sided, holomorphic): relative to the step lr·d.  The
    float32 weights w + lr·d then round, each side by ≤ ½ ulp: ε₃₂·|w| together."""
    from bioplast.backends import get_backend
    from bioplast.data import load_task, one_hot
    from bioplast.hardware import Chip
    from bioplast.models.ep import EPModel
    from bioplast.rules import get_rule

    d = load_task("digits", 0)
    x, y = d.x_train[:16], one_hot(d.y_train[:16], 10)
    out = {}
    for name in ("numpy", "numba", "torch"):
        k = get_backend(name, dtype="float32")
        # SGD: Adam's first step d/(|d| + ε) would magnify float32 noise where d ≈ 0
        m = EPModel(k, get_rule(rule, **params), [64, 32, 10], Chip(None, 0), activation="tanh", lr=0.1)
        if name == "numpy":
            start = {key: np.array(a, dtype=np.float64) for key, a in m.arrays().items()}
        m.train_batch(k.asarray(x), k.asarray(y))
        out[name] = m.arrays()
    p = get_rule(rule, **params).spec.params
    contrast = 2 * p["beta"] if p["estimator"] == "symmetric" else abs(p["beta"])
    for name in ("numba", "torch"):
        tanh = (18 + LIBM_ULPS) * eps("float32") if name == "numba" else libm_disagreement("float32")
        rel = (tolerance("float32", 64) + tanh) / contrast
        for key, ref in out["numpy"].items():
            step = np.abs(np.asarray(ref, dtype=np.float64) - start[key]).max()
            atol = rel * step + eps("float32") * np.abs(ref).max()
            np.testing.assert_allclose(out[name][key], ref, rtol=0, atol=atol, err_msg=f"{name} {key}")
