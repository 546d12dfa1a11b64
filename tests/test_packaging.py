"""Packaging: the core (numpy, numba, scipy, tqdm) works without any extra, a feature whose extra is missing
names the extra, and the version has one source.

The core-only checks run in a fresh interpreter whose import system refuses every optional package
(as if it were not installed): the same ``ModuleNotFoundError`` an uninstalled package gives."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import bioplast
from bioplast.optional import EXTRAS, MissingDependency, require

BLOCKED = sorted(set(EXTRAS) | {"dask"})

PRELUDE = textwrap.dedent(f"""
    import importlib.abc, sys

    BLOCKED = {BLOCKED!r}

    class NotInstalled(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None

    sys.meta_path.insert(0, NotInstalled())
    """)


def _core_only(body: str, tmp_path) -> subprocess.CompletedProcess:
    script = tmp_path / "core_only.py"
    script.write_text(PRELUDE + textwrap.dedent(body), encoding="utf-8")
    return subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=tmp_path, timeout=600)


def _small_npz(path):
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 6))
    y = rng.integers(0, 3, size=240)
    x = (centres[y] + 0.3 * rng.normal(size=(240, 6))).astype(np.float32)
    np.savez(path, x_train=x[:180], y_train=y[:180], x_test=x[180:], y_test=y[180:])


def test_the_core_imports_lists_and_trains_without_any_extra(tmp_path):
    _small_npz(tmp_path / "blobs.npz")
    proc = _core_only(
        """
        import json, sys
        import bioplast
        from bioplast.cli import main

        assert main(["rules"]) == 0
        assert main(["substrates"]) == 0
        for backend in ("numpy", "numba"):
            out = f"run-{backend}"
            assert main(["train", "--rule", "eqprop", "--task", "npz", "--data-dir", "blobs.npz", "--backend", backend,
                         "--epochs", "2", "--hidden", "16", "--quiet", "--out", out]) == 0
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
        print(json.dumps({"loaded": loaded}))
        """,
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == {"loaded": []}
    for backend in ("numpy", "numba"):
        metrics = json.loads((tmp_path / f"run-{backend}" / "metrics.json").read_text())
        assert metrics, backend


@pytest.mark.parametrize(
    "argv, extra",
    [
        (["train", "--rule", "eqprop", "--backend", "torch", "--task", "npz", "--data-dir", "blobs.npz"], "torch"),
        (["train", "--rule", "backprop", "--task", "npz", "--data-dir", "blobs.npz", "--backend", "numba"], "torch"),
        (["train", "--rule", "oja", "--task", "digits"], "data"),
        (["train", "--rule", "oja", "--task", "mnist5k"], "data"),
        (["gradcheck", "--rule", "eqprop", "--task", "npz", "--data-dir", "blobs.npz", "--hidden", "8"], "torch"),
    ],
)
def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path, argv, extra):
    _small_npz(tmp_path / "blobs.npz")
    proc = _core_only(
        f"""
        import sys
        from bioplast.cli import main
        sys.exit(main({argv!r} + ["--quiet"] if {argv[0]!r} == "train" else {argv!r}))
        """,
        tmp_path,
    )
    assert proc.returncode == 2, (proc.stdout[-2000:], proc.stderr[-3000:])
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("bioplast: error:") and f"pip install 'bioplast[{extra}]'" in last, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr


def test_require_names_the_feature_the_package_and_the_extra(monkeypatch):
    import importlib

    def missing(name, *a, **k):
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)

    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(MissingDependency) as info:
        require("sklearn.datasets", "the digits task")
    assert str(info.value) == (
        "the digits task needs scikit-learn, which is not installed here: pip install 'bioplast[data]'"
    )
    assert isinstance(info.value, ImportError) and isinstance(info.value, bioplast.ConfigError)


def test_a_broken_install_keeps_its_own_error(monkeypatch):
    """Only the package itself being absent is explained as a missing extra; a module missing *inside*
    an installed package (a broken install) surfaces as it is, naming that module."""
    import importlib

    def broken(name, *a, **k):
        raise ModuleNotFoundError("No module named 'libtorch_cuda_shim'", name="libtorch_cuda_shim")

    monkeypatch.setattr(importlib, "import_module", broken)
    with pytest.raises(ModuleNotFoundError, match="libtorch_cuda_shim") as info:
        require("torch", "the torch backend")
    assert not isinstance(info.value, MissingDependency)


def test_require_refuses_a_module_that_is_not_an_extra():
    with pytest.raises(bioplast.ConfigError, match="'requests' is not an optional dependency"):
        require("requests", "downloads")


def test_every_extra_named_in_errors_exists_in_the_metadata():
    provided = set(importlib.metadata.metadata("bioplast").get_all("Provides-Extra"))
    assert {extra for extra, _ in EXTRAS.values()} <= provided
    assert {"torch", "spiking", "nir", "data", "bench", "docs", "test", "all"} <= provided


def test_the_version_has_one_source():
    assert importlib.metadata.version("bioplast") == bioplast.__version__
    out = subprocess.run(
        [sys.executable, "-m", "bioplast.cli", "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == f"bioplast {bioplast.__version__}"


def test_the_library_gives_ranges_not_pins():
    for requirement in importlib.metadata.requires("bioplast"):
        spec = requirement.split(";")[0]
        assert "==" not in spec, f"{requirement!r} pins an exact version; give a range"
