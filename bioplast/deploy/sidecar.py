"""The NIR sidecar's schema: every field a reader uses, checked before it is used.

A sidecar is a file from elsewhere; :func:`check_sidecar` turns any deviation from what
:func:`bioplast.deploy.nir.export_nir` writes into one :class:`~bioplast.errors.DataError` that
names the file, the field and what was expected, so the importer never meets a missing key, a
string where a number belongs, or a zero it would divide by.
"""

from __future__ import annotations

import math
from pathlib import Path

from bioplast.dynamics.spiking.network import CONNECTIVITY
from bioplast.errors import DataError

TARGETS = ("v", "syn")


def _fail(path, where: str, what: str, got) -> DataError:
    return DataError(f"sidecar {str(path)!r}: {where} must be {what}, got {got!r}")


def _number(path, where, value, *, positive=False, integer=False, minimum=None):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    ok = ok and (not integer or float(value).is_integer())
    ok = ok and (not positive or value > 0) and (minimum is None or value >= minimum)
    if not ok:
        kind = "an integer" if integer else "a finite number"
        bound = " > 0" if positive else (f" >= {minimum}" if minimum is not None else "")
        raise _fail(path, where, kind + bound, value)
    return value


def _text(path, where, value):
    if not isinstance(value, str) or not value:
        raise _fail(path, where, "a non-empty string", value)
    return value


def _projection(path, i: int, entry) -> None:
    where = f"projections[{i}]"
    if not isinstance(entry, dict):
        raise _fail(path, where, "a table", entry)
    for key in ("node", "pre", "post"):
        _text(path, f"{where}.{key}", entry.get(key))
    if entry.get("target", "v") not in TARGETS:
        raise _fail(path, f"{where}.target", f"one of {TARGETS}", entry.get("target"))
    connectivity = entry.get("connectivity", "dense")
    if connectivity not in CONNECTIVITY:
        raise _fail(path, f"{where}.connectivity", f"one of {CONNECTIVITY}", connectivity)
    if connectivity != "dense":
        _number(path, f"{where}.weight", entry.get("weight"))
    if "read_noise" in entry:
        _number(path, f"{where}.read_noise", entry["read_noise"], minimum=0)
        _number(path, f"{where}.read_seed", entry.get("read_seed"), integer=True, minimum=0)
    if "plasticity" in entry:
        spec = entry["plasticity"]
        if not isinstance(spec, dict):
            raise _fail(path, f"{where}.plasticity", "a table", spec)
        for key in ("rule", "family"):
            _text(path, f"{where}.plasticity.{key}", spec.get(key))
        if not isinstance(spec.get("citation", ""), str):
            raise _fail(path, f"{where}.plasticity.citation", "a string", spec.get("citation"))
        if not isinstance(spec.get("params"), dict):
            raise _fail(path, f"{where}.plasticity.params", "a table", spec.get("params"))
        transforms = spec.get("transforms")
        if not isinstance(transforms, list) or not all(isinstance(t, dict) for t in transforms):
            raise _fail(path, f"{where}.plasticity.transforms", "a list of tables", transforms)


def check_sidecar(path: Path, data) -> dict:
    """``data`` (a sidecar's parsed JSON, format and version already checked) if it has the shape
    :func:`~bioplast.deploy.nir.export_nir` writes, else a :class:`DataError`."""
    if "dt" in data:
        _number(path, "dt", data["dt"], positive=True)
    projections = data.get("projections", [])
    if not isinstance(projections, list):
        raise _fail(path, "projections", "a list", projections)
    for i, entry in enumerate(projections):
        _projection(path, i, entry)
    nodes = [e["node"] for e in projections]
    if len(set(nodes)) != len(nodes):
        raise _fail(path, "projections", "one entry per node", sorted(n for n in nodes if nodes.count(n) > 1))
    if "state" in data:
        state = data["state"]
        if not isinstance(state, dict):
            raise _fail(path, "state", "a table", state)
        _number(path, "state.batch", state.get("batch"), integer=True, minimum=1)
        _number(path, "state.step", state.get("step", 0), integer=True, minimum=0)
    return data
