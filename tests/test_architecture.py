"""The house keeps its shape: layers, one place where weights change, streams split by name.

The layers contract itself (pyproject.toml, ``[tool.importlinter]``) is checked by import-linter;
the facts below are the ones a contract on imports cannot state.
"""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "bioplast"
SOURCES = sorted(p for p in PACKAGE.rglob("*.py"))


def _tree(path: Path) -> ast.AST:
    return ast.parse(path.read_text(), filename=str(path))


def test_the_layers_contract_holds():
    importlinter = pytest.importorskip("importlinter.cli")
    assert importlinter.lint_imports(config_filename=str(PACKAGE.parent / "pyproject.toml")) == 0


def test_weights_change_only_in_apply_updates():
    """``k.add`` (the backend's ``w + u``) is called by :func:`bioplast.core.apply_updates` alone (the
    conformance battery checks the verb itself; fused engines that write in place say so in their
    module docstring: :mod:`bioplast.dynamics.spiking.lowering`)."""
    calls = []
    for path in SOURCES:
        if path.parent.name == "testing":
            continue
        for node in ast.walk(_tree(path)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "k"
            ):
                calls.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert calls == [f"bioplast/core.py:{_line_of('bioplast/core.py', 'return k.add(w, update)')}"], calls


def _line_of(relative: str, text: str) -> int:
    lines = (PACKAGE.parent / relative).read_text().split("\n")
    return next(i + 1 for i, line in enumerate(lines) if text in line)


def test_no_stream_is_split_by_arithmetic_on_a_seed():
    """``seed * 1000 + i``-style offsets collide and hide which stream is which: streams are named
    (:meth:`bioplast.hardware.chip.Chip.stream`) or keyed by lists (``[seed, layer]``)."""
    pattern = re.compile(r"\bseed\w*\s*[*+]\s*\d|\d\s*[*+]\s*\w*seed\b")
    offenders = [
        f"{p.relative_to(PACKAGE.parent)}:{i + 1}: {line.strip()}"
        for p in SOURCES
        for i, line in enumerate(p.read_text().split("\n"))
        if pattern.search(line.split("#")[0]) and not line.strip().startswith(("``", "*", "seed"))
    ]
    assert offenders == []


def test_backends_know_no_rules_networks_or_hardware():
    for path in (PACKAGE / "backends").rglob("*.py"):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(("bioplast.rules", "bioplast.dynamics", "bioplast.hardware")), (
                    f"{path}: imports {node.module}"
                )


def test_internal_imports_sit_at_the_top_of_their_module():
    """Imports inside functions hide arrows (and circles) from every reader; they are kept only in the
    composition root (the CLI) and for the numba backend's compiled kernel modules, loaded on first use."""
    allowed = {PACKAGE / "cli.py", PACKAGE / "backends" / "numba" / "backend.py"}
    inner = []
    for path in SOURCES:
        if path in allowed:
            continue
        for fn in ast.walk(_tree(path)):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for node in ast.walk(fn):
                    if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bioplast"):
                        inner.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert inner == []


def test_every_model_kind_implements_the_protocol():
    from bioplast.backends import get_backend
    from bioplast.models import MODELS, Model
    from bioplast.training import TrainConfig, model_for

    k = get_backend("numpy")
    rate = {
        "error_driven": "backprop",
        "delta_readout": "delta",
        "clamped_readout": "oja",
        "zeroth_order": "node_perturbation",
        "ep": "eqprop",
    }
    for kind, rule in rate.items():
        model = model_for(k, TrainConfig(rule=rule, hidden=(8,)), 6, 3)
        assert isinstance(model, Model) and TrainConfig(rule=rule).kind == kind
    assert isinstance(model_for(k, TrainConfig(rule="backprop", network="dann", hidden=(8,)), 6, 3), Model)
    assert set(rate) | {"dale", "diehl_cook", "surrogate"} == set(MODELS)


def test_from_spec_knows_every_transform_kind_whatever_was_imported_first():
    """A transform record from a file (a NIR sidecar, a suite) is read in a fresh process that
    imported only the core: the geometries and device transforms register with the package."""
    import subprocess
    import sys

    code = (
        "from bioplast.core import from_spec, spec_kinds; "
        "assert {'additive', 'exponentiated', 'clip_bounds'} <= set(spec_kinds()), spec_kinds(); "
        "print(from_spec({'kind': 'additive', 'lr': 0.1}).name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().startswith("additive")
