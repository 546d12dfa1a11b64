"""The researcher's workflow with plugins: the example package installed, listed, checked by the
battery and benchmarked in one `bioplast bench` command; broken plugins give one clear error each."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "plugin"
BIN = Path(sys.executable).parent


def _run(args, env_path, cwd=ROOT, timeout=600):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(str(p) for p in env_path)}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The example package installed into a folder of its own (its entry points with it)."""
    target = tmp_path_factory.mktemp("site")
    build = tmp_path_factory.mktemp("src")
    # built from a copy, so no build artefacts land in the repository
    subprocess.run(["cp", "-r", str(EXAMPLE), str(build / "plugin")], check=True)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(build / "plugin"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return target


def test_the_tutorial_commands_find_check_and_benchmark_the_plugin(installed, tmp_path):
    rules = _run([str(BIN / "bioplast"), "rules"], [installed])
    assert rules.returncode == 0, rules.stderr
    row = next(line for line in rules.stdout.splitlines() if line.startswith("contrastive_hebb"))
    assert "bioplast-example-plugin 0.1.0" in row and "contrastive Hebbian" in row
    tasks = _run([str(BIN / "bioplast"), "tasks"], [installed])
    row = next(line for line in tasks.stdout.splitlines() if line.startswith("noisy_digits"))
    assert "bioplast-example-plugin 0.1.0" in row and "Gaussian pixel noise" in row
    battery = _run(
        [
            sys.executable,
            "-c",
            "from bioplast.rules import get_rule; from bioplast.backends import get_backend;"
            "from bioplast.testing import conformance as c; r = get_rule('contrastive_hebb');"
            "[c.check_rule(r, get_backend(b)) for b in ('numpy', 'numba', 'torch')]; c.check_locality(r);"
            "print('battery passed')",
        ],
        [installed],
    )
    assert "battery passed" in battery.stdout, battery.stderr
    out = tmp_path / "bench"
    bench = _run(
        [str(BIN / "bioplast"), "bench", "--suite", str(EXAMPLE / "tiny.toml"), "--out", str(out), "--quiet"],
        [installed],
    )
    assert bench.returncode == 0, bench.stderr
    with open(out / "summary.csv") as fh:
        summary = {r["label"]: r for r in csv.DictReader(fh)}
    assert set(summary) == {
        "contrastive Hebbian (plugin)",
        "contrastive Hebbian (plugin) on loihi2-like",
        "backprop (Adam)",
    }
    assert all(r["failed"] == "0" and r["task"] == "noisy_digits" for r in summary.values())
    assert float(summary["contrastive Hebbian (plugin)"]["test_acc_mean"]) > 0.3  # chance is 0.1


def test_without_the_plugin_the_suite_fails_validation_and_writes_nothing(tmp_path):
    out = tmp_path / "bench"
    bench = _run([str(BIN / "bioplast"), "bench", "--suite", str(EXAMPLE / "tiny.toml"), "--out", str(out)], [])
    assert bench.returncode == 2 and "unknown task 'noisy_digits'" in bench.stderr
    assert not out.exists()


def _fake_distribution(site: Path, group: str, entries: dict, module: str, source: str) -> None:
    """A distribution with entry points, written by hand (what pip writes for an installed package)."""
    info = site / "broken_plugins-1.0.dist-info"
    info.mkdir(parents=True, exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugins\nVersion: 1.0\n")
    lines = [f"[{group}]"] + [f"{name} = {ref}" for name, ref in entries.items()]
    with open(info / "entry_points.txt", "a") as fh:
        fh.write("\n".join(lines) + "\n\n")
    (site / f"{module}.py").write_text(source)


def test_broken_plugins_each_give_one_clear_error_and_never_break_the_listing(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    _fake_distribution(
        site,
        "bioplast.rules",
        {"crashes": "does_not_import:rule", "wrong": "plugs:not_a_rule", "oja": "plugs:shadow"},
        "plugs",
        "def not_a_rule():\n    return 42\ndef shadow():\n    raise AssertionError('never called')\n",
    )
    _fake_distribution(site, "bioplast.substrates", {"bogus": "plugs:not_a_rule"}, "plugs2", "")
    listing = _run([str(BIN / "bioplast"), "rules"], [site])
    assert listing.returncode == 0, listing.stderr
    text = listing.stdout
    assert "crashes" in text and "failed to import: ModuleNotFoundError" in text
    assert "takes the name of the built-in rule 'oja'" in text
    from bioplast.rules import RULES

    names = {line.split()[0] for line in text.splitlines()[2:] if line.strip()}
    assert set(RULES) <= names  # every built-in is still listed beside the broken plugins
    subs = _run([str(BIN / "bioplast"), "substrates"], [site])
    assert subs.returncode == 0 and "ideal" in subs.stdout and "expected a bioplast DeviceProfile" in subs.stdout
    for rule, message in (
        ("crashes", "failed to import"),
        ("wrong", "returned a int; expected a bioplast.core.Rule"),
        ("plugs:not_a_rule", "returned a int"),
    ):
        run = _run([str(BIN / "bioplast"), "train", "--rule", rule, "--epochs", "1", "--quiet"], [site])
        assert run.returncode == 2, run.stderr
        assert message in run.stderr and run.stderr.count("\n") == 1, run.stderr


def test_a_rule_backend_and_model_by_reference_from_the_cli(tmp_path):
    (tmp_path / "mylab.py").write_text(
        "from bioplast.rules import hebbian\n"
        "def my_oja():\n    return hebbian.oja()\n"
        "from bioplast.backends.numpy_backend import NumpyBackend\n"
        "class Mine(NumpyBackend):\n    name = 'mine'\n"
        "from bioplast.models import mlp_builder\n"
        "from bioplast.models.mlp import ClampedReadout\n"
        "clamped = mlp_builder(ClampedReadout, readout=True)\n"
    )
    run = _run(
        [
            str(BIN / "bioplast"),
            "train",
            "--rule",
            "mylab:my_oja",
            "--backend",
            "mylab:Mine",
            "--model",
            "mylab:clamped",
            "--epochs",
            "1",
            "--quiet",
        ],
        [tmp_path],
    )
    assert run.returncode == 0, run.stderr
    assert "mylab:my_oja in a mylab:clamped model on digits" in run.stdout


def test_the_model_plugin_trains_and_learns_only_from_mistakes(installed):
    run = _run(
        [str(BIN / "bioplast"), "train", "--rule", "delta", "--model", "perceptron", "--epochs", "2", "--quiet"],
        [installed],
    )
    assert run.returncode == 0, run.stderr
    assert "delta in a perceptron model on digits" in run.stdout
    assert float(run.stdout.split("test accuracy ")[1].split(",")[0]) > 0.3  # chance is 0.1
    # the perceptron's modulator: zero where the network's own answer is the target, else +1 at the
    # target and −1 at the wrong winner (exact: differences of 0/1 entries)
    check = _run(
        [
            sys.executable,
            "-c",
            """
import numpy as np
from bioplast.backends import get_backend
from bioplast.data import load_task, one_hot
from bioplast.training import TrainConfig, model_for
data = load_task("digits", 0)
k = get_backend("numpy")
model = model_for(k, TrainConfig(rule="delta", model="perceptron"), data.n_features, data.n_classes)
x = k.asarray(data.x_train[:64])
own = k.to_numpy(model.predict(x)).argmax(1)
signals, _, rate = model.signals(x, k.asarray(one_hot(own, 10)), None)
assert rate == 0.0 and not np.any(k.to_numpy(signals[0].mod))
other = (own + 1) % 10
signals, _, rate = model.signals(x, k.asarray(one_hot(other, 10)), None)
m = k.to_numpy(signals[0].mod)
assert rate == 1.0 and np.array_equal(m, one_hot(other, 10) - one_hot(own, 10))
print("perceptron checked")
""",
        ],
        [installed],
    )
    assert "perceptron checked" in check.stdout, check.stderr
