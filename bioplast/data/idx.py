"""Reader for the IDX format of MNIST and Fashion-MNIST (LeCun et al.).

An IDX file is a big-endian header — two zero bytes, a type byte
(0x08 = uint8), the number of dimensions — followed by one uint32 size per
dimension and the data.  Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
from numpy.typing import DTypeLike

from bioplast.data.dataset import Dataset, class_count
from bioplast.errors import DataError

_TYPES: dict[int, DTypeLike] = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}

MNIST_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def read_idx(path) -> np.ndarray:
    """Read one IDX file into an array of its declared type and shape."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"IDX file not found: {str(path)!r}")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as fh:
            raw = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"cannot read IDX file {str(path)!r}: {exc}") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise DataError(
            f"{str(path)!r} is not an IDX file: magic bytes {raw[:4].hex() or '(empty)'} "
            f"(expected 0000 followed by a type byte in {[hex(t) for t in _TYPES]} "
            "and a dimension count)"
        )
    dtype = np.dtype(_TYPES[raw[2]])
    ndim = raw[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(raw) < header:
        raise DataError(f"{str(path)!r}: IDX header declares {ndim} dimensions but is truncated")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape)) * dtype.itemsize
    got = len(raw) - header
    if got != expected:
        kind = "truncated" if got < expected else "longer than its header says"
        raise DataError(f"{str(path)!r} is {kind}: header shape {shape} needs {expected} data bytes, file has {got}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def _find(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz", stem.replace("-idx", ".idx"), stem.replace("-idx", ".idx") + ".gz"):
        if (directory / name).is_file():
            return directory / name
    raise DataError(
        f"{stem}[.gz] not found in {str(directory)!r}; expected the four standard files "
        f"{', '.join(MNIST_FILES.values())}"
    )


def load_idx_dataset(directory, name: str = "mnist"):
    """Load full MNIST / Fashion-MNIST from the four standard IDX files in ``directory``.

    Pixels are scaled to [0, 1] float32 and flattened to ``[N, rows·cols]``.
    """

    if directory is None:
        raise DataError(f"task {name!r} needs the directory of its IDX files (--data-dir / data_dir=)")
    directory = Path(os.path.expanduser(str(directory)))
    if not directory.is_dir():
        raise DataError(f"IDX directory not found: {str(directory)!r}")
    parts = {key: read_idx(_find(directory, stem)) for key, stem in MNIST_FILES.items()}
    for split in ("train", "test"):
        imgs, labels = parts[f"{split}_images"], parts[f"{split}_labels"]
        if imgs.ndim != 3 or labels.ndim != 1 or len(imgs) != len(labels):
            raise DataError(
                f"{name} {split}: images {imgs.shape} and labels {labels.shape} do not match "
                "(expected [N, rows, cols] and [N])"
            )
        if len(imgs) == 0:
            raise DataError(f"{name} {split}: the IDX files hold no images")
    flat = {
        k: (v.reshape(len(v), -1).astype(np.float32) / 255.0 if "images" in k else v.astype(np.int64))
        for k, v in parts.items()
    }
    n = class_count(flat["train_labels"], flat["test_labels"], f"{name} IDX files in {str(directory)!r}")
    return Dataset(
        name,
        flat["train_images"],
        flat["train_labels"],
        flat["test_images"],
        flat["test_labels"],
        n,
        (1, *parts["train_images"].shape[1:]),
    )


def write_idx(path, data: np.ndarray) -> None:
    """Write ``data`` (uint8) as an IDX file; used by tests and to export subsets."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    header = bytes([0, 0, 0x08, data.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in data.shape)
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wb") as fh:
        fh.write(header + data.tobytes())
