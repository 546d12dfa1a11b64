"""A task plugin: the 8×8 digits with seeded Gaussian pixel noise (σ = 0.2, clipped to [0, 1])."""

from __future__ import annotations

import numpy as np

from bioplast.data import Dataset, load_task


def noisy_digits(seed: int, data_dir=None) -> Dataset:
    """The 8×8 digits with Gaussian pixel noise (σ = 0.2, seeded, clipped to [0, 1])."""
    d = load_task("digits", seed)
    rng = np.random.default_rng([seed, 7])

    def noisy(x):
        return np.clip(x + 0.2 * rng.standard_normal(x.shape), 0.0, 1.0).astype(np.float32)

    return Dataset("noisy_digits", noisy(d.x_train), d.y_train, noisy(d.x_test), d.y_test, d.n_classes, d.shape)
