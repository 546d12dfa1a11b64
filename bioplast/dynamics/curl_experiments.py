"""Paper experiments of Ninou, Kadmon & Cayco-Gajic (2025) on the student–teacher lab.

:func:`saddle_escape` — does a flipped readout neuron speed up learning from
large initial weights?  The protocol follows the paper's reference setting:
a 100-10-1 teacher and student with ``ψ = φ`` on the readout, inputs of
standard deviation 1/√2, student weights ``N(0, r²/M)`` and ``N(0, r²/N)``
for an initial scale ``r``, minibatches of 10, and one hidden unit whose
readout plasticity is flipped (``D₂ = diag(−1, 1, …, 1)``); it records the
step at which the test error first falls below a threshold (1e-3) for GD,
curl descent, feedback alignment and feedback alignment with the flip.
Every learner of a seed starts from the same weights (a paired comparison)
and all the runs of one teacher are one :func:`~.student_teacher.sweep`.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..data import teacher_student
from ..validate import positive, positive_int
from .student_teacher import sweep

LEARNERS = ("GD", "curl", "FA", "FA + flip")


class SaddleEscape(NamedTuple):
    scales: tuple
    steps: np.ndarray          # recorded steps
    test_error: np.ndarray     # [seed, scale, learner, record]
    hit: np.ndarray            # [seed, scale, learner]: first recorded step below threshold (inf: never)
    threshold: float

    def curl_faster(self, scale_index: int) -> tuple:
        """``(seeds where curl reached the threshold first, seeds where either reached it)``."""
        gd, cd = self.hit[:, scale_index, 0], self.hit[:, scale_index, 1]
        decided = np.isfinite(gd) | np.isfinite(cd)
        return int((cd < gd).sum()), int(decided.sum())


def saddle_escape(activation: str = "tanh", scales=(0.3, 3.0), seeds: int = 6, steps: int = 400_000,
                  lr: float = 0.02, n_train: int = 4000, n_in: int = 100, n_hidden: int = 10, batch: int = 10,
                  threshold: float = 1e-3, records: int = 150, backend: str = "numba") -> SaddleEscape:
    """Time to ``threshold`` test error for each learner, initial scale and seed (teacher ``seed``)."""
    positive("threshold", threshold)
    scales = tuple(positive("initial scale", s) for s in scales)
    curves, hits, at = [], [], None
    for seed in range(positive_int("seeds", seeds)):
        task = teacher_student(n_in, n_hidden, 1, n_train, 1000, activation, seed=seed, readout=activation,
                               input_std=2 ** -0.5)
        rng = np.random.default_rng(1000 + seed)
        feedback = rng.uniform(-1, 1, (1, n_hidden)) / np.sqrt(n_hidden)  # the reference code's B
        flip = np.ones(n_hidden)
        flip[0] = -1.0
        w1, w2, d2, fb = [], [], [], []
        for r in scales:
            a = rng.standard_normal((n_hidden, n_in)) * r / np.sqrt(n_in)
            b = rng.standard_normal((1, n_hidden)) * r / np.sqrt(n_hidden)
            for learner in LEARNERS:
                w1.append(a)
                w2.append(b)
                d2.append(flip if "flip" in learner or learner == "curl" else np.ones(n_hidden))
                fb.append(feedback)
        uses_fb = np.array([learner.startswith("FA") for _ in scales for learner in LEARNERS])
        w1, w2, d2, fb = (np.array(v) for v in (w1, w2, d2, fb))
        # GD and curl feed back through W₂, FA through the fixed B: two sweeps, one minibatch stream
        parts = [sweep(w1[m], w2[m], task, lr, steps, None, d2[m], f, batch=batch, records=records, seed=seed,
                       backend=backend, streams=np.zeros(m.sum(), dtype=np.int64))
                 for m, f in ((~uses_fb, None), (uses_fb, fb[uses_fb]))]
        out = np.empty((len(w1), parts[0].steps.size))
        out[~uses_fb], out[uses_fb] = parts[0].test_error, parts[1].test_error
        at = parts[0].steps
        curves.append(out.reshape(len(scales), len(LEARNERS), -1))
        below = curves[-1] < threshold
        first = np.where(below.any(-1), at[np.argmax(below, -1)], np.inf)
        hits.append(first)
    return SaddleEscape(scales, at, np.array(curves), np.array(hits), threshold)
