"""Alignment with backprop, as every training record measures it (``grad_alignment``).

The references are independent of the rule under test: backprop's errors for the one-phase
rules, the float64 autograd oracle (recurrent backprop) for EP.
"""

import math

import numpy as np
import pytest

from bioplast.analysis.alignment import gradient_alignment, standard_measures
from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.testing import worst_case
from bioplast.training import TrainConfig, train
from bioplast.training import model_for as build_model

# The cosine of a float32 vector with an equal one: the rule's direction and the reference come
# from the same calls on the same arrays (bit for bit), so a·b and ‖a‖², ‖b‖² are the same dot
# product; what is left is the two square roots, their product and the division: γ₄ (float32).
SELF_ALIGNED = worst_case("float32", 4)


def _alignments(**kw):
    records = train(TrainConfig(task="digits", backend="numpy", **kw), progress=False, measures=standard_measures())
    return [r["grad_alignment"] for r in records]


def test_backprop_is_aligned_with_itself_and_hebbian_readouts_are_undefined():
    assert all(abs(a - 1) <= SELF_ALIGNED for a in _alignments(rule="backprop", epochs=1))
    assert all(math.isnan(a) for a in _alignments(rule="oja", epochs=1))


def test_feedback_alignment_aligns_during_training():
    """Lillicrap et al. (2016): the forward weights come to align with the fixed random feedback, so
    the FA update's angle to backprop's shrinks as training goes on (from ~0.4 at init on digits)."""
    a = _alignments(rule="feedback_alignment", epochs=4, hidden=(64,))
    assert 0.1 < a[0] < 0.7
    assert a[-1] > a[0] + 0.1


def test_ep_alignment_is_measured_against_the_autograd_oracle():
    """Symmetric-nudge EP is second-order accurate in β (Laborieux et al. 2021): its estimate is
    within a few degrees of the recurrent-backprop gradient at β = 0.2 (cosine > 0.995; measured
    0.998-0.999), closer than the first-order one-sided estimate (0.995)."""
    one_sided = _alignments(rule="eqprop", epochs=1, hidden=(32,), rule_params={"estimator": "one_sided", "beta": 0.2})
    symmetric = _alignments(rule="eqprop", epochs=1, hidden=(32,), rule_params={"estimator": "symmetric", "beta": 0.2})
    assert min(symmetric) > 0.995
    assert all(s > o for s, o in zip(symmetric, one_sided, strict=True))


def test_dale_networks_report_the_direction_before_the_optimiser():
    """The E/I MLP steps along −∇L (cosine 1); DANN's corrections (Cornford et al. 2021) rescale the
    inhibitory parameters' gradients, turning its direction away from −∇L (measured 0.66-0.69)."""
    ei = _alignments(rule="backprop", network="ei_mlp", epochs=1, hidden=(32,))
    dann = _alignments(rule="backprop", network="dann", epochs=1, hidden=(32,))
    assert all(abs(a - 1) <= SELF_ALIGNED for a in ei)  # scale 1.0 on every matrix: the same gradient twice
    assert all(0.3 < a < 0.95 for a in dann)


@pytest.mark.parametrize(
    "rule, kw",
    [
        (
            "node_perturbation",
            {"substrate": "pcm-differential", "rule_params": {"noise": "device", "estimator": "forward"}},
        ),
        ("weight_perturbation", {}),
        ("eqprop", {"rule_params": {"estimator": "random_sign"}}),
    ],
)
def test_measuring_alignment_leaves_the_training_untouched(rule, kw):
    """The measurement draws its own probes, read noise and signs of β: the model's state (weights,
    read counter, probe step, random streams) is the same before and after."""
    k = get_backend("numpy")
    data = load_task("digits", 0)
    model = build_model(k, TrainConfig(rule=rule, hidden=(16,), **kw), data.n_features, data.n_classes)
    x, t = data.x_train[:32], one_hot(data.y_train[:32], data.n_classes)
    model.train_batch(k.asarray(x), k.asarray(t))
    before = repr(model.state())
    assert np.isfinite(gradient_alignment(model, x, t))
    assert repr(model.state()) == before
