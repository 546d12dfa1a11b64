"""Checkpoints that cannot execute code, written as one atomic unit, and exact resume.

A model's complete state — weights, rule and transform states, random
generators — is a tree of tuples, lists, NamedTuples, dicts and leaves.  A
checkpoint stores the leaves (arrays as plain ``.npz`` members, read with
``allow_pickle=False``; numbers, ``None`` and generator states in a JSON
manifest) and a *fingerprint* of the tree: every leaf's path, kind, shape and
dtype.  To resume, the trainer builds a fresh model from the same
configuration — which has the same tree — checks the fingerprint and refills
the leaves in order.  No class is ever named in the file, so nothing is looked
up or executed on load.

One file, ``checkpoint.npz``, holds everything: the arrays, the manifest
(``__manifest__``: format, the caller's metadata — for training the epoch, the
records so far, the wall time and operation counts — the fingerprint and the
scalar leaves) and a SHA-256 digest over the manifest and every array
(``__digest__``).  It is written to a temporary file and renamed, so a kill at
any moment leaves either the previous checkpoint or the new one, never a mix.
On load the digest is checked first: an interrupted copy, a damaged disk or a
hand-edited record is :class:`CheckpointDamaged`; a checkpoint of another
configuration, model shape or format is :class:`CheckpointMismatch`.  The
digest detects damage and edits made without re-deriving it; it is not a
signature.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from bioplast.errors import DataError
from bioplast.io import atomic_write_bytes

FORMAT = 2
FILE = "checkpoint.npz"
LEGACY = "checkpoint.json"  # format 1 kept the manifest in a second file beside the arrays
_MANIFEST, _DIGEST = "__manifest__", "__digest__"


class CheckpointDamaged(DataError):
    """The checkpoint file is unreadable, incomplete or altered: it describes no state that was saved."""


class CheckpointMismatch(DataError):
    """The checkpoint is intact but belongs to another run (configuration, model shape, format)."""


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith("torch")


def _host(x) -> np.ndarray:
    return np.asarray(x.detach().cpu() if hasattr(x, "detach") else x)


def flatten(tree, path: str = ""):
    """``(leaves, fingerprint)``: leaves in depth-first order, one fingerprint entry per leaf."""
    if isinstance(tree, np.random.Generator):
        return [tree.bit_generator.state], [[path, "rng"]]
    if _is_array(tree):
        a = _host(tree)
        return [tree], [[path, "array", list(a.shape), str(a.dtype)]]
    if isinstance(tree, dict):
        items = sorted(tree.items())
    elif isinstance(tree, (tuple, list)):
        items = list(enumerate(tree))
    else:  # int, float, bool, str, None
        return [tree], [[path, type(tree).__name__]]
    leaves, prints = [], [[path, f"{type(tree).__name__}[{len(items)}]"]]
    for key, value in items:
        sub_leaves, sub_prints = flatten(value, f"{path}/{key}")
        leaves += sub_leaves
        prints += sub_prints
    return leaves, prints


def unflatten(template, leaves, k):
    """A tree shaped like ``template`` with ``leaves`` in place (arrays converted by backend ``k``)."""
    it = iter(leaves)

    def build(node):
        if isinstance(node, np.random.Generator):
            g = np.random.default_rng()
            g.bit_generator.state = next(it)
            return g
        if _is_array(node):
            value = next(it)
            if hasattr(node, "dtype") and hasattr(node, "detach"):
                return k.asarray(value).to(node.dtype)
            return np.asarray(value, dtype=node.dtype)
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node)}
        if isinstance(node, tuple) and hasattr(node, "_fields"):
            return type(node)(*(build(v) for v in node))
        if isinstance(node, (tuple, list)):
            return type(node)(build(v) for v in node)
        return next(it)

    return build(template)


def fingerprint_leaves(fingerprint: list) -> list:
    """The fingerprint entries that are leaves (containers excluded)."""
    return [fp for fp in fingerprint if "[" not in fp[1]]


def _digest(manifest: bytes, arrays: dict) -> str:
    """SHA-256 over the manifest and every array's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256(manifest)
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"\0{name}\0{a.dtype.str}\0{a.shape}\0".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save(folder, state, meta: dict) -> Path:
    """Write ``state`` and ``meta`` (JSON-able) as ``folder/checkpoint.npz``, atomically."""
    folder = Path(folder)
    leaves, fingerprint = flatten(state)
    arrays, scalars = {}, {}
    for i, (leaf, fp) in enumerate(zip(leaves, fingerprint_leaves(fingerprint), strict=True)):
        if fp[1] == "array":
            arrays[f"L{i}"] = _host(leaf)
        else:
            scalars[str(i)] = _json_leaf(leaf)
    manifest = json.dumps(
        {"format": FORMAT, "meta": meta, "fingerprint": fingerprint, "scalars": scalars},
        default=_json_default,  # keys keep their order: a resumed run's records read as the straight run's
    ).encode()
    digest = _digest(manifest, arrays)
    members: dict[str, Any] = {
        **arrays,
        _MANIFEST: np.frombuffer(manifest, dtype=np.uint8),
        _DIGEST: np.frombuffer(digest.encode(), np.uint8),
    }
    buf = io.BytesIO()
    np.savez(buf, **members)
    atomic_write_bytes(folder / FILE, buf.getvalue())
    (folder / LEGACY).unlink(missing_ok=True)  # a format-1 manifest must not outlive its arrays
    return folder / FILE


def exists(folder) -> bool:
    """Whether ``folder`` holds a checkpoint (of any format, usable or not)."""
    folder = Path(folder)
    return (folder / FILE).exists() or (folder / LEGACY).exists()


def read(folder) -> tuple:
    """``(manifest, arrays)`` of the checkpoint in ``folder``, its digest verified.

    :raises CheckpointDamaged: unreadable, not a plain-array ``.npz``, incomplete or altered.
    :raises CheckpointMismatch: written in another format.
    """
    folder = Path(folder)
    path = folder / FILE
    if not path.exists():
        if (folder / LEGACY).exists():
            raise _older_format(folder)
        raise DataError(f"no checkpoint in {str(folder)!r}: {FILE} is missing")
    with open(path, "rb") as fh:
        if fh.read(4) != b"PK\x03\x04":  # numpy would call anything else a pickle, which it never is here
            raise CheckpointDamaged(f"{FILE} in {str(folder)!r} is not an .npz (zip) file: damaged or overwritten")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CheckpointDamaged(f"{FILE} in {str(folder)!r} is not a readable plain-array .npz: {exc}") from None
    if (_MANIFEST not in arrays or _DIGEST not in arrays) and (folder / LEGACY).exists():
        raise _older_format(folder)
    if _MANIFEST not in arrays or _DIGEST not in arrays:
        raise CheckpointDamaged(f"{FILE} in {str(folder)!r} has no manifest or digest: not a bioplast checkpoint")
    manifest, digest = arrays.pop(_MANIFEST), arrays.pop(_DIGEST)
    if manifest.dtype != np.uint8 or digest.dtype != np.uint8 or manifest.ndim != 1 or digest.ndim != 1:
        raise CheckpointDamaged(f"{FILE} in {str(folder)!r} has a malformed manifest or digest")
    if _digest(manifest.tobytes(), arrays) != digest.tobytes().decode("ascii", "replace"):
        raise CheckpointDamaged(
            f"{FILE} in {str(folder)!r} has been altered or damaged: its digest does not match its contents"
        )
    try:
        header = json.loads(manifest.tobytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointDamaged(f"the manifest of {FILE} in {str(folder)!r} is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else None
        raise CheckpointMismatch(f"checkpoint in {str(folder)!r} has format {got!r}, expected {FORMAT}")
    for key, kind in (("meta", dict), ("fingerprint", list), ("scalars", dict)):
        if not isinstance(header.get(key), kind):
            raise CheckpointDamaged(f"the manifest of {FILE} in {str(folder)!r} lacks {key!r} ({kind.__name__})")
    return header, arrays


def _older_format(folder: Path) -> CheckpointMismatch:
    return CheckpointMismatch(
        f"the checkpoint in {str(folder)!r} was written by an older bioplast (format 1: {FILE} + {LEGACY}); "
        "start over (bioplast train --restart) or use another folder"
    )


def stored_fingerprint(folder) -> list:
    """The fingerprint a checkpoint in ``folder`` was written with."""
    return read(folder)[0]["fingerprint"]


def _check_meta(folder: Path, got: dict, expected: dict) -> None:
    for key, want in expected.items():
        have = got.get(key)
        if isinstance(have, dict) and isinstance(want, dict):
            want = json.loads(json.dumps(want))
            diff = sorted(n for n in set(have) | set(want) if have.get(n) != want.get(n))
            if diff:
                raise CheckpointMismatch(
                    f"checkpoint in {str(folder)!r} comes from another {key}: "
                    + ", ".join(f"{n} = {have.get(n)!r} there, {want.get(n)!r} here" for n in diff)
                )
        elif have != want:
            raise CheckpointMismatch(
                f"checkpoint in {str(folder)!r} was written with {key} = {have!r}; this run has {want!r}"
            )


def load(folder, template, k, meta_expected: dict):
    """``(state, meta)`` from ``folder``, refilling ``template``.

    :raises CheckpointDamaged: see :func:`read`; also an array whose shape or dtype differs from
        the fingerprint.
    :raises CheckpointMismatch: ``meta`` differs from ``meta_expected``, or the tree does not fit
        ``template``.
    """
    folder = Path(folder)
    header, arrays = read(folder)
    _check_meta(folder, header["meta"], meta_expected)
    _, expected = flatten(template)
    expected = json.loads(json.dumps(expected))
    stored = header["fingerprint"]
    if stored != expected:
        diff = next(((s, e) for s, e in zip(stored, expected, strict=False) if s != e), None)
        detail = (
            f"stored {diff[0]}, expected {diff[1]}"
            if diff
            else f"{len(stored)} entries stored, {len(expected)} expected"
        )
        raise CheckpointMismatch(f"checkpoint in {str(folder)!r} does not fit this model: {detail}")
    leaves = []
    for i, fp in enumerate(fingerprint_leaves(expected)):
        if fp[1] == "array":
            a = arrays.get(f"L{i}")
            if a is None or list(a.shape) != fp[2] or str(a.dtype) != fp[3]:
                got = "missing" if a is None else f"shape {list(a.shape)} dtype {a.dtype}"
                raise CheckpointDamaged(
                    f"checkpoint in {str(folder)!r}: {fp[0]} is {got}, its fingerprint says shape {fp[2]} dtype {fp[3]}"
                )
            leaves.append(a)
        elif str(i) in header["scalars"]:
            leaves.append(header["scalars"][str(i)])
        else:
            raise CheckpointDamaged(f"checkpoint in {str(folder)!r} lacks the value of {fp[0]}")
    try:
        return unflatten(template, leaves, k), header["meta"]
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointDamaged(f"checkpoint in {str(folder)!r} holds a malformed value: {exc!r}") from None


def move_aside(folder, reason: str) -> Path:
    """Rename the checkpoint files in ``folder`` to ``checkpoint.refused-<time>…`` (kept for
    inspection, never read again) and return the new name of the first one moved."""
    folder = Path(folder)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    moved = None
    for name in (FILE, LEGACY):
        src = folder / name
        if src.exists():
            dst = folder / f"checkpoint.refused-{stamp}{Path(name).suffix}"
            n = 1
            while dst.exists():
                dst, n = folder / f"checkpoint.refused-{stamp}-{n}{Path(name).suffix}", n + 1
            src.replace(dst)
            (folder / f"{dst.name}.why.txt").write_text(reason + "\n", encoding="utf-8")
            moved = moved or dst
    if moved is None:
        raise DataError(f"no checkpoint in {str(folder)!r} to move aside")
    return moved


def _json_default(x):
    if isinstance(x, (np.integer, np.floating)):
        return _json_leaf(x)
    raise TypeError(f"a checkpoint's metadata holds numbers, strings, lists and dicts, not {type(x).__name__}")


def _json_leaf(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x
