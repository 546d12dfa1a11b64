"""The saddle-escape experiment (Ninou et al. 2025, Fig. 5): protocol, early stopping, paired runs."""

import numpy as np
import pytest

from bioplast import ConfigError
from bioplast.dynamics.student_teacher import sweep
from bioplast.experiments import saddle as sx

TINY = {"n_train": 120, "n_test": 50, "max_steps": 300, "records": 25}


def test_the_protocol_defaults_are_the_papers_reference_setting():
    p = sx.SaddleProtocol()
    assert (p.activation, p.n_in, p.n_hidden, p.n_test) == ("tanh", 100, 10, 100)
    assert (p.init_scale, p.teacher_scale, p.flipped, p.lr, p.threshold) == (2.0, 1.0, 1, 0.1, 1e-3)


def test_weights_are_uniform_within_the_scaled_fan_in_bound():
    rng = np.random.default_rng(0)
    w = sx._uniform(rng, (10, 100), 2.0)
    bound = 2.0 / np.sqrt(100)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound  # 1000 draws reach the edge
    task = sx._task(sx.SaddleProtocol(**TINY), rng)
    assert np.abs(task.w1).max() <= 1 / np.sqrt(100) and np.abs(task.w2).max() <= 1 / np.sqrt(10)
    # inputs of variance 1/2, targets tanh(W2 tanh(W1 x)) of the teacher
    assert abs(task.x_train.var() - 0.5) < 0.05  # 12,000 draws: sd of the variance estimate ≈ 0.0065
    np.testing.assert_allclose(task.y_test, np.tanh(np.tanh(task.x_test @ task.w1.T) @ task.w2.T))


def test_stepping_record_by_record_is_one_uninterrupted_run():
    """The early-stopping runner advances the weights interval by interval; with a threshold no run
    reaches it equals one sweep over the whole budget.  The two differ only in the norm the
    renormalisation holds, recomputed at each of the ~25 interval starts: a rounding of ≤ 2 ulp
    (4.4e-16) each, so ≤ 1.1e-14 relative in the weights; 1e-9 leaves a factor 10⁵ for the growth of
    such a perturbation over 300 steps of η = 0.1 (learning time 30)."""
    p = sx.SaddleProtocol(**TINY, threshold=1e-30)
    rng = np.random.default_rng(3)
    task = sx._task(p, rng)
    w1 = np.stack([sx._uniform(rng, (10, 100), 2.0)] * 2)
    w2 = np.stack([sx._uniform(rng, (1, 10), 2.0)] * 2)
    d2 = np.ones((2, 10))
    d2[1, 0] = -1
    at, chunked = sx._until_threshold(w1, w2, task, d2, None, p)
    whole = sweep(w1, w2, task, p.lr, p.max_steps, None, d2, renormalise=True, records=p.records)
    np.testing.assert_array_equal(at, whole.steps)
    np.testing.assert_allclose(chunked, whole.test_error, rtol=1e-9)
    assert not np.allclose(chunked[0], chunked[1])  # the flip changed the run


def test_runs_stop_once_every_learner_is_below_the_threshold():
    p = sx.SaddleProtocol(**{**TINY, "max_steps": 3000}, threshold=0.05)
    res = sx.saddle_escape(p, seeds=1, learners=("GD", "curl"))
    errors = res.test_error[0, 0]
    last = int(np.isfinite(errors).all(0).nonzero()[0].max())
    assert last < res.steps.size - 1  # stopped before the budget
    assert (np.nanmin(errors[:, : last + 1], axis=1) < 0.05).all()  # ... because both had reached it
    assert np.isfinite(res.hit).all() and (res.hit <= res.steps[last]).all()


def test_learners_share_the_start_and_differ_only_in_their_rule():
    res = sx.saddle_escape(TINY, seeds=2)
    first = res.test_error[:, 0, :, 0]  # step 0: the same weights for every learner of a seed
    np.testing.assert_array_equal(first, first[:, :1].repeat(4, 1))
    assert first[0, 0] != first[1, 0]  # another teacher, another start
    later = res.test_error[0, 0, :, -1]
    assert len(set(np.round(later[np.isfinite(later)], 12))) == np.isfinite(later).sum()  # four rules


def test_a_cache_shares_runs_and_gives_the_same_numbers():
    cache: dict = {}
    a = sx.saddle_escape(TINY, seeds=1, learners=("GD", "curl"), cache=cache)
    assert len(cache) == 1
    b = sx.saddle_escape(TINY, "init_scale", (2.0, 0.5), seeds=1, learners=("GD", "curl"), cache=cache)
    assert len(cache) == 2  # only the new scale ran
    np.testing.assert_array_equal(a.test_error[:, 0], b.test_error[:, 0])


def test_speedup_counts_censored_runs():
    at = np.array([0, 10, 100])
    hit = np.array([[[100.0, 10.0]], [[np.inf, 10.0]], [[10.0, np.inf]], [[np.inf, np.inf]]])
    res = sx.SaddleEscape("init_scale", (2.0,), ("GD", "curl"), at, np.zeros((4, 1, 2, 3)), hit, sx.SaddleProtocol())
    assert res.curl_faster(0) == (2, 3)  # the last seed decided nothing
    assert res.speedup(0) == 10.0  # median of 10, inf and 0
    assert res.rows()[0]["GD reached"] == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"activation": "relu"}, "saddle-escape activation 'relu'"),
        ({"flipped": 11}, "flipped"),
        ({"init_scale": -1.0}, "init_scale"),
        ({"max_steps": 10**7}, "max_steps"),
    ],
)
def test_bad_protocols_are_named(change, message):
    with pytest.raises(ConfigError, match=message):
        sx.SaddleProtocol(**change)


def test_bad_sweeps_are_named():
    with pytest.raises(ConfigError, match="saddle-escape parameter 'init_scal'.*init_scale"):
        sx.saddle_escape(TINY, "init_scal", (1.0,))
    with pytest.raises(ConfigError, match="learner 'BP'"):
        sx.saddle_escape(TINY, learners=("GD", "BP"))
    with pytest.raises(ConfigError, match="saddle-escape figure '5z'"):
        sx.paper_figures(TINY, seeds=1, figures=("5z",))
