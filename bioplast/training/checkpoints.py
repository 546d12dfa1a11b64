"""Checkpoints that cannot execute code, and exact resume.

A model's complete state — weights, rule and transform states, random
generators — is a tree of tuples, lists, NamedTuples, dicts and leaves.  A
checkpoint stores the leaves (arrays in an ``.npz`` read with
``allow_pickle=False``; numbers, ``None`` and generator states in JSON) and a
*fingerprint* of the tree: every leaf's path, kind, shape and dtype.  To
resume, the trainer builds a fresh model from the same configuration — which
has the same tree — checks the fingerprint and refills the leaves in order.
No class is ever named in the file, so nothing is looked up or executed on
load; a checkpoint from another network shape or bioplast version is refused
with the first difference.

Both files are written atomically (temp file + rename); the JSON is written
last and names the ``.npz`` it belongs to by content hash, so a crash between
the two leaves the previous checkpoint readable.
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np

from bioplast.errors import DataError
from bioplast.io import atomic_write_bytes, atomic_write_json

FORMAT = 1


def _is_array(x) -> bool:
    return isinstance(x, np.ndarray) or type(x).__module__.startswith("torch")


def flatten(tree, path: str = ""):
    """``(leaves, fingerprint)``: leaves in depth-first order, one fingerprint entry per leaf."""
    if isinstance(tree, np.random.Generator):
        return [tree.bit_generator.state], [[path, "rng"]]
    if _is_array(tree):
        a = np.asarray(tree.detach().cpu() if hasattr(tree, "detach") else tree)
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
            return (
                k.asarray(value).to(node.dtype)
                if hasattr(node, "dtype") and hasattr(node, "detach")
                else np.asarray(value, dtype=node.dtype)
            )
        if isinstance(node, dict):
            return {key: build(node[key]) for key in sorted(node)}
        if isinstance(node, tuple) and hasattr(node, "_fields"):
            return type(node)(*(build(v) for v in node))
        if isinstance(node, (tuple, list)):
            return type(node)(build(v) for v in node)
        return next(it)

    return build(template)


def save(folder, state, meta: dict) -> None:
    """Write ``checkpoint.npz`` + ``checkpoint.json`` in ``folder`` atomically."""
    folder = Path(folder)
    leaves, fingerprint = flatten(state)
    arrays, scalars = {}, {}
    for i, (leaf, fp) in enumerate(zip(leaves, fingerprint_leaves(fingerprint), strict=True)):
        if fp[1] == "array":
            arrays[f"L{i}"] = np.asarray(leaf.detach().cpu() if hasattr(leaf, "detach") else leaf)
        else:
            scalars[str(i)] = _json_leaf(leaf)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    atomic_write_bytes(folder / "checkpoint.npz", data)
    atomic_write_json(
        folder / "checkpoint.json",
        {
            "format": FORMAT,
            "npz_sha256": hashlib.sha256(data).hexdigest(),
            "meta": meta,
            "fingerprint": fingerprint,
            "scalars": scalars,
        },
    )


def fingerprint_leaves(fingerprint: list) -> list:
    """The fingerprint entries that are leaves (containers excluded)."""
    return [fp for fp in fingerprint if "[" not in fp[1]]


def stored_fingerprint(folder) -> list:
    """The fingerprint a checkpoint in ``folder`` was written with (``[]`` when it has none)."""
    try:
        header = json.loads((Path(folder) / "checkpoint.json").read_text())
    except FileNotFoundError:
        raise DataError(f"no checkpoint in {str(folder)!r}: checkpoint.json is missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"checkpoint.json in {str(folder)!r} is not valid JSON: {exc}") from None
    return header.get("fingerprint", []) if isinstance(header, dict) else []


def load(folder, template, k, meta_expected: dict):
    """``(state, meta)`` from ``folder``, refilling ``template``; refuses incompatible checkpoints."""
    folder = Path(folder)
    try:
        header = json.loads((folder / "checkpoint.json").read_text())
        data = (folder / "checkpoint.npz").read_bytes()
    except FileNotFoundError as exc:
        raise DataError(f"no checkpoint in {str(folder)!r}: {exc.filename} is missing") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise DataError(f"checkpoint.json in {str(folder)!r} is not valid JSON: {exc}") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise DataError(
            f"checkpoint in {str(folder)!r} has format {header.get('format') if isinstance(header, dict) else None!r}, "
            f"expected {FORMAT}"
        )
    if hashlib.sha256(data).hexdigest() != header.get("npz_sha256"):
        raise DataError(
            f"checkpoint.npz in {str(folder)!r} does not match checkpoint.json (interrupted write or edited file)"
        )
    for key, want in meta_expected.items():
        got = header.get("meta", {}).get(key)
        if isinstance(got, dict) and isinstance(want, dict):
            want = json.loads(json.dumps(want))
            diff = sorted(n for n in set(got) | set(want) if got.get(n) != want.get(n))
            if diff:
                raise DataError(
                    f"checkpoint in {str(folder)!r} comes from another {key}: "
                    + ", ".join(f"{n} = {got.get(n)!r} there, {want.get(n)!r} here" for n in diff)
                )
        elif got != want:
            raise DataError(f"checkpoint in {str(folder)!r} was written with {key} = {got!r}; this run has {want!r}")
    _, expected = flatten(template)
    stored = header.get("fingerprint")
    if stored != json.loads(json.dumps(expected)):
        diff = next(((s, e) for s, e in zip(stored or [], expected, strict=True) if s != list(e)), (stored, expected))
        raise DataError(
            f"checkpoint in {str(folder)!r} does not fit this model: stored {diff[0]}, expected "
            f"{list(diff[1]) if diff[1] is not None else None}"
        )
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except ValueError as exc:
        raise DataError(f"checkpoint.npz in {str(folder)!r} is not a plain-array .npz: {exc}") from None
    try:
        leaves = [
            arrays[f"L{i}"] if fp[1] == "array" else header["scalars"][str(i)]
            for i, fp in enumerate(fingerprint_leaves(expected))
        ]
        return unflatten(template, leaves, k), header["meta"]
    except (KeyError, TypeError, ValueError) as exc:
        raise DataError(f"checkpoint in {str(folder)!r} is incomplete: {exc!r} missing or malformed") from None


def _json_leaf(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    return x
