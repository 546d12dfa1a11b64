"""The conformance battery over objects: every verb, fused kernel, rule and transform on every
available backend against numpy float64 — and the battery fails on broken ones."""

import inspect
import subprocess
import sys

import numpy as np
import pytest

from bioplast.backends import Backend
from bioplast.backends.numba.backend import NumbaBackend
from bioplast.backends.numpy_backend import NumpyBackend
from bioplast.core import Rule, RuleSpec, Transform, stateless
from bioplast.geometry import adam, additive, exponentiated, mirror_descent
from bioplast.rules import RULES
from bioplast.testing import conformance


def test_kernels_match_reference(backend):
    conformance.check_backend(backend)


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_matches_reference(rule, backend):
    conformance.check_rule(rule, backend)


@pytest.mark.parametrize("rule", list(RULES))
def test_rule_reads_are_local(rule):
    conformance.check_locality(rule)


@pytest.mark.parametrize("rule", list(RULES))
def test_chain_keeps_shape_dtype_and_inputs(rule, backend):
    conformance.check_plasticity_chain(rule, backend, (additive(0.1),))
    conformance.check_plasticity_chain(rule, backend, (exponentiated(0.1, decay=0.01),))
    conformance.check_plasticity_chain(rule, backend, (adam(0.01), mirror_descent(1.0, 3.0)))


def test_the_battery_covers_every_verb_of_the_backend_base():
    public = {
        n for n, _ in inspect.getmembers(Backend) if not n.startswith("_") and n not in ("info", "name", "device")
    }
    assert public - conformance.VERBS == set(), "verbs the battery does not check"


def test_the_battery_takes_rule_objects_and_catches_a_nonlocal_rule():
    """A rule that mixes rows (normalises by a global sum), passed as an object: no registry involved."""

    def update(k, s, state, w):
        d = k.outer_mean(s.post, s.pre)
        return d / (1.0 + (d**2).sum()), state

    bad = Rule(lambda k, w: (), update, RuleSpec("bad", "test", frozenset({"pre", "post"}), "feature", "", ""))
    with pytest.raises(AssertionError, match="not local"):
        conformance.check_locality(bad)


def test_locality_check_catches_an_undeclared_read():
    sneaky = Rule(
        lambda k, w: (),
        lambda k, s, st, w: (k.outer_mean(s.post, s.pre) - w, st),
        RuleSpec("sneaky", "test", frozenset({"pre", "post"}), "feature", "", ""),
    )
    with pytest.raises(AssertionError, match="does not declare 'w'"):
        conformance.check_locality(sneaky)


def test_a_batch_centred_covariance_rule_passes_the_locality_check():
    """ΔW = ⟨(post − ⟨post⟩)(pre − ⟨pre⟩)ᵀ⟩ (Sejnowski 1977) reads pre and post locally, but a constant
    shift of a column is invisible to it: the check perturbs every sample by a different amount."""

    def update(k, s, state, w):
        pre = s.pre - k.batch_mean(s.pre)
        post = s.post - k.batch_mean(s.post)
        return k.outer_mean(post, pre), state

    covariance = Rule(
        lambda k, w: (), update, RuleSpec("covariance", "test", frozenset({"pre", "post"}), "feature", "", "")
    )
    conformance.check_locality(covariance)


class _OffByOne(NumpyBackend):
    """A backend whose Hebbian product is wrong by one part in a thousand."""

    name = "off-by-one"

    def outer_mean(self, post, pre):
        return super().outer_mean(post, pre) * 1.001


class _WrongFusedWrite(NumbaBackend):
    """A backend whose fused device write drops the write noise."""

    name = "wrong-fused-write"

    def device_write(self, w, u, gain, spec, noise_key, round_key):
        return super().device_write(w, u, gain, spec._replace(write_sigma=0.0), noise_key, round_key)


def test_check_backend_catches_a_wrong_kernel_and_a_wrong_fused_kernel():
    with pytest.raises(AssertionError, match="outer_mean"):
        conformance.check_backend(_OffByOne(dtype="float64"))
    with pytest.raises(AssertionError, match="fused device write"):
        conformance.check_backend(_WrongFusedWrite(dtype="float64"))


def test_check_transform_catches_a_wrong_and_a_nondeterministic_transform():
    draws = np.random.default_rng(0)
    noisy = stateless("noisy", lambda k, u, w: u * float(1 + 0.1 * draws.standard_normal()))
    with pytest.raises(AssertionError, match="different updates"):
        conformance.check_transform(noisy, NumpyBackend(dtype="float64"))

    def dtype_sensitive(k, u, w):  # right in float64, off by 1e-3 in float32
        return u * (1.0 if k.dtype_name == "float64" else 1.001)

    with pytest.raises(AssertionError):
        conformance.check_transform(stateless("sloppy", dtype_sensitive), NumpyBackend(dtype="float32"))
    assert isinstance(additive(0.1), Transform)


def test_the_pytest_plugin_runs_the_battery_on_a_third_party_backend(tmp_path):
    """``pytest -p bioplast.testing.plugin --bioplast-backend pkg:Backend --pyargs bioplast.testing.suite``
    passes for a correct backend and fails for a broken one."""
    (tmp_path / "thirdparty.py").write_text(
        "from bioplast.backends.numpy_backend import NumpyBackend\n"
        "class Good(NumpyBackend):\n    name = 'good'\n"
        "class Bad(NumpyBackend):\n    name = 'bad'\n"
        "    def row_scale(self, w, s):\n        return s[:, None] * w * 1.01\n"
    )

    def run(backend):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "pytest",
                "-q",
                "-p",
                "no:cacheprovider",
                "-p",
                "bioplast.testing.plugin",
                "--bioplast-backend",
                backend,
                "--pyargs",
                "bioplast.testing.suite",
                "-k",
                "verb or oja",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
        )

    good = run("thirdparty:Good")
    assert good.returncode == 0, good.stdout[-2000:]
    bad = run("thirdparty:Bad")
    assert bad.returncode == 1 and "row_scale" in bad.stdout, bad.stdout[-2000:]
