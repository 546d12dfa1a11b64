r"""Datasets from the user's files: ``.npz`` arrays, the CIFAR binary distributions, image folders.

Each reader refuses malformed input with a :class:`~bioplast.errors.DataError` that names the file
and the problem (wrong shapes, labels out of range, NaN, mismatched lengths, truncated files), and
never executes code from a file (``np.load(allow_pickle=False)``; the python-pickle distribution
of CIFAR is refused) nor follows a path out of the folder it was given.

* :func:`load_npz` — ``x_train, y_train, x_test, y_test`` (optional ``n_classes``); inputs of any
  per-sample shape are flattened (the shape is kept as ``Dataset.shape``); uint8 inputs are pixels
  and scale to ``[0, 1]``, floating inputs are taken as they are.
* :func:`load_cifar` — CIFAR-10 (``data_batch_1.bin`` … ``data_batch_5.bin``, ``test_batch.bin``:
  records of 1 label byte + 3,072 pixel bytes) and CIFAR-100 (``train.bin``, ``test.bin``: a coarse
  and a fine label byte + 3,072 pixel bytes; the 100 fine labels are used), the standard 50,000 /
  10,000 split, pixels ``(3, 32, 32)`` channel-major scaled to ``[0, 1]``.
* :func:`load_image_folder` — one sub-folder per class of PNG images (classes in sorted order), all
  of one size and mode; a folder with ``train/`` and ``test/`` sub-folders keeps that split, any
  other is split 80/20 stratified by the seed, as the digits task is.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from bioplast.data.dataset import Dataset, class_count, stratified_split
from bioplast.errors import DataError
from bioplast.optional import require
from bioplast.resources import check_fits

NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")
CIFAR_PIXELS = 3 * 32 * 32
CIFAR = {  # task → (folder names, train files, test file, label bytes, label byte used, classes)
    "cifar10": (
        ("cifar-10-batches-bin",),
        tuple(f"data_batch_{i}.bin" for i in range(1, 6)),
        "test_batch.bin",
        1,
        0,
        10,
    ),
    "cifar100": (("cifar-100-binary",), ("train.bin",), "test.bin", 2, 1, 100),
}
# the python-pickle distributions' files: refused by name
CIFAR_PICKLE = {"cifar10": ("data_batch_1", "batches.meta"), "cifar100": ("train", "meta")}
IMAGE_SUFFIXES = (".png",)


def _path(path, what: str) -> Path:
    if path is None:
        raise DataError(f"{what} needs a path (--data-dir / data_dir=)")
    return Path(os.path.expanduser(str(path)))


def _declared_classes(path: Path, value: np.ndarray) -> int:
    """An npz's ``n_classes``: one integer >= 2."""
    if value.shape != () or not np.issubdtype(value.dtype, np.integer) or int(value) < 2:
        raise DataError(f"{str(path)!r}: n_classes must be one integer >= 2, got {value!r}")
    return int(value)


def load_npz(path, seed: int = 0) -> Dataset:
    """A dataset from an ``.npz`` of ``x_train, y_train, x_test, y_test`` (module docstring)."""
    path = _path(path, "the npz task")
    if not path.is_file():
        raise DataError(f"npz file not found: {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            missing = [k for k in NPZ_KEYS if k not in f.files]
            if missing:
                raise DataError(
                    f"{str(path)!r} lacks {missing}; an npz task holds {', '.join(NPZ_KEYS)} "
                    f"(and optionally n_classes), found {sorted(f.files)}"
                )
            arrays = {k: f[k] for k in NPZ_KEYS}
            declared = _declared_classes(path, f["n_classes"]) if "n_classes" in f.files else None
    except DataError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read {str(path)!r} as an npz of plain arrays: {exc}") from None
    source = str(path)
    shapes = {}
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim < 2 or x.shape[0] == 0:
            raise DataError(f"{source}: x_{part} must be [N, ...] with N >= 1 samples, got shape {x.shape}")
        if y.ndim != 1 or len(y) != len(x):
            raise DataError(
                f"{source}: y_{part} must be [{len(x)}] labels (one per row of x_{part}), got shape {y.shape}"
            )
        if not (np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.complexfloating)):
            raise DataError(f"{source}: x_{part} must be real numbers, got dtype {x.dtype}")
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            bad = np.argwhere(~np.isfinite(x))[0]
            raise DataError(f"{source}: x_{part} has a non-finite value at {tuple(int(i) for i in bad)}")
        shapes[part] = x.shape[1:]
    if shapes["train"] != shapes["test"]:
        raise DataError(f"{source}: train samples have shape {shapes['train']}, test samples {shapes['test']}")
    n_classes = class_count(arrays["y_train"], arrays["y_test"], source, declared)

    def inputs(x):
        x = x.reshape(len(x), -1)
        return (x / 255.0 if x.dtype == np.uint8 else x).astype(np.float32)

    return Dataset(
        path.stem,
        inputs(arrays["x_train"]),
        arrays["y_train"].astype(np.int64),
        inputs(arrays["x_test"]),
        arrays["y_test"].astype(np.int64),
        n_classes,
        tuple(shapes["train"]),
    )


def _cifar_folder(root: Path, task: str) -> Path:
    folders, train, test = CIFAR[task][0], CIFAR[task][1], CIFAR[task][2]
    for candidate in (root, *(root / f for f in folders)):
        if all((candidate / f).is_file() for f in (*train, test)):
            return candidate
    for candidate in (root, *(root / n for n in ("cifar-10-batches-py", "cifar-100-python"))):
        if all((candidate / f).exists() for f in CIFAR_PICKLE[task]):
            raise DataError(
                f"{str(candidate)!r} holds the python (pickle) distribution of {task}, which bioplast "
                "does not read (unpickling a file can run code); download the binary distribution "
                f"({'cifar-10-binary' if task == 'cifar10' else 'cifar-100-binary'}.tar.gz from "
                "https://www.cs.toronto.edu/~kriz/cifar.html) and point --data-dir at it"
            )
    raise DataError(
        f"{task} binary files not found in {str(root)!r} (nor in {', '.join(folders)}/ under it); "
        f"expected {', '.join((*train, test))}"
    )


def _cifar_records(path: Path, label_bytes: int, label_at: int):
    record = label_bytes + CIFAR_PIXELS
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % record:
        raise DataError(
            f"{str(path)!r} is truncated or not a CIFAR binary file: {raw.size} bytes is not a "
            f"whole number of {record}-byte records"
        )
    rows = raw.reshape(-1, record)
    return rows[:, label_bytes:], rows[:, label_at].astype(np.int64)


def load_cifar(directory, task: str = "cifar10") -> Dataset:
    """CIFAR-10 or CIFAR-100 from the binary distribution at ``directory`` (module docstring)."""
    if task not in CIFAR:
        raise DataError(f"unknown CIFAR task {task!r}; expected one of {sorted(CIFAR)}")
    root = _path(directory, f"task {task!r}")
    if not root.is_dir():
        raise DataError(f"{task} directory not found: {str(root)!r}")
    folder = _cifar_folder(root, task)
    _, train_files, test_file, label_bytes, label_at, classes = CIFAR[task]
    check_fits(60_000 * CIFAR_PIXELS * 5, f"{task} (60,000 images as uint8 and float32)")
    train = [_cifar_records(folder / f, label_bytes, label_at) for f in train_files]
    x_test, y_test = _cifar_records(folder / test_file, label_bytes, label_at)
    x_train, y_train = np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train])
    n = class_count(y_train, y_test, str(folder), classes)
    return Dataset(
        task, (x_train / 255.0).astype(np.float32), y_train, (x_test / 255.0).astype(np.float32), y_test, n, (3, 32, 32)
    )


def _images(folder: Path, root: Path) -> list:
    """The PNG files of one class folder, in sorted order; a file that resolves outside ``root`` (a
    link out of the tree) is refused."""
    out = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        real = p.resolve()
        if not real.is_relative_to(root) or not real.is_file():
            raise DataError(
                f"{str(p)!r} is not a regular file inside {str(root)!r}; image folders may not link outside themselves"
            )
        out.append(p)
    return out


def _read_split(root: Path, base: Path, classes=None):
    """``(x uint8 [N, ...], labels, classes, mode)`` of the class folders under ``base``."""
    pil = require("PIL.Image", "image-folder tasks")
    Image, UnidentifiedImageError = pil, pil.UnidentifiedImageError

    found = sorted(p.name for p in base.iterdir() if p.is_dir()) if classes is None else classes
    if len(found) < 2:
        raise DataError(f"{str(base)!r} needs one sub-folder per class (at least 2), found {found}")
    xs, ys, first = [], [], None
    for label, name in enumerate(found):
        folder = base / name
        if not folder.is_dir():
            raise DataError(f"{str(base)!r} has no class folder {name!r} (the training split has it)")
        files = _images(folder, root)
        if classes is None and not files:
            raise DataError(f"class folder {str(folder)!r} holds no PNG image")
        for p in files:
            try:
                with Image.open(p) as im:
                    im.load()
                    mode, size = im.mode, im.size
                    if mode not in ("L", "RGB"):
                        im = im.convert("RGB" if mode in ("RGBA", "P", "CMYK") else "L")
                        mode = im.mode
                    a = np.asarray(im, dtype=np.uint8)
            except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
                raise DataError(f"cannot read image {str(p)!r}: {exc}") from None
            if first is None:
                first = (mode, size, p)
            elif (mode, size) != first[:2]:
                raise DataError(
                    f"{str(p)!r} is {mode} {size[0]}×{size[1]}, but {str(first[2])!r} is "
                    f"{first[0]} {first[1][0]}×{first[1][1]}: every image must have one size and mode"
                )
            xs.append(a if a.ndim == 3 else a[:, :, None])
            ys.append(label)
    if not xs:
        raise DataError(f"no PNG image under {str(base)!r}")
    x = np.stack(xs).transpose(0, 3, 1, 2)  # channels first
    return x, np.asarray(ys, dtype=np.int64), found


def load_image_folder(directory, seed: int = 0) -> Dataset:
    """A dataset from a folder of class folders of PNG images (module docstring)."""
    root = _path(directory, "the images task")
    if not root.is_dir():
        raise DataError(f"image folder not found: {str(root)!r}")
    root = root.resolve()
    if (root / "train").is_dir() and (root / "test").is_dir():
        x_tr, y_tr, classes = _read_split(root, root / "train")
        x_te, y_te, _ = _read_split(root, root / "test", classes)
    else:
        x, y, classes = _read_split(root, root)
        x_tr, y_tr, x_te, y_te = stratified_split(x.reshape(len(x), -1), y, 0.2, seed)
        x_tr, x_te = x_tr.reshape(-1, *x.shape[1:]), x_te.reshape(-1, *x.shape[1:])
    n = class_count(y_tr, y_te, str(root), len(classes))
    shape = tuple(x_tr.shape[1:])

    def flat(a):
        return (a.reshape(len(a), -1) / 255.0).astype(np.float32)

    return Dataset(root.name, flat(x_tr), y_tr, flat(x_te), y_te, n, shape)


def write_cifar(directory, task: str, images: dict, labels: dict) -> None:
    """Write a (small) CIFAR binary distribution: ``images[file]`` uint8 ``[N, 3, 32, 32]`` and
    ``labels[file]`` ``[N]`` (CIFAR-100: the fine labels; coarse ones are written as 0).  For tests
    and to export subsets."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _, _, _, label_bytes, label_at, _ = CIFAR[task]
    for name, x in images.items():
        x = np.ascontiguousarray(x, dtype=np.uint8).reshape(len(x), -1)
        lab = np.zeros((len(x), label_bytes), dtype=np.uint8)
        lab[:, label_at] = np.asarray(labels[name], dtype=np.uint8)
        (directory / name).write_bytes(np.concatenate([lab, x], axis=1).tobytes())
