"""The records a fused student–teacher sweep (``k.fused("two_layer_sweep")``) receives.

``R`` independent two-layer training runs over one dataset
(:func:`bioplast.dynamics.student_teacher.sweep`): the runs' weights and signs, the data, and the
settings every run shares.  Activation codes: :data:`ACTIVATION_CODES`.
"""

from __future__ import annotations

from typing import NamedTuple

ACTIVATION_CODES = {"identity": 0, "relu": 1, "tanh": 2}


class SweepRuns(NamedTuple):
    w1: object  # [R, N, M], trained in place
    w2: object  # [R, P, N], trained in place
    d1: object  # [R, M] plasticity signs of the inputs
    d2: object  # [R, N] plasticity signs of the hidden units
    feedback: object  # [R, P, N] fixed feedback (or [1, 1, 1] when unused)
    use_feedback: bool
    streams: object  # [R] int64: each run's minibatch stream


class SweepData(NamedTuple):
    x: object
    y: object
    x_test: object
    y_test: object


class SweepSettings(NamedTuple):
    activation: int  # ACTIVATION_CODES
    readout: int
    lr: float
    steps: int
    batch: int
    minibatch: bool  # False: full batch
    renormalise: bool
    record_at: object  # int64 steps at which the errors are recorded
    seed: int
