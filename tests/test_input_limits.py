"""Bad input at the command line and in suites: a clear error before any work, within a time bound;
a bug of ours: a short message, never a bare traceback."""

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bioplast import BioplastError, ConfigError
from bioplast.bench.suite import load_suite
from bioplast.cli import _rule_params, main
from bioplast.training import TrainConfig

SUITE = 'name = "x"\ntasks = ["digits"]\nbackends = ["numpy"]\nseeds = [0]\nepochs = 1\n'


@pytest.mark.parametrize(
    "extra, message",
    [
        ('hidden = 8\n[[runs]]\nrule = "delta"\n', "suite 'hidden' must be a list of layer widths"),
        ('hidden = ["a"]\n[[runs]]\nrule = "delta"\n', "holds layer widths (integers), got 'a'"),
        ('[[runs]]\nrule = "eqprop"\nparams = "x"\n', "runs[0] 'params' must be a table"),
        ('[[runs]]\nrule = "delta"\nlabel = 5\n', "runs[0] 'label' must be a string, got 5"),
        ('[[runs]]\nrule = "eqprop"\nparams = { betaa = 0.1 }\n', "got parameters ['betaa']"),
        ('[[runs]]\nrule = "eqprop"\nparams = { beta = 0 }\n', "beta must be a finite non-zero number"),
        ('[[runs]]\nrule = "eqprop"\nparams = { free_steps = 1000000000000 }\n', "more than the 100,000"),
        ('[[runs]]\nrule = "delta"\nsubstrate = "pcm-crossbar"\nsubstrate_params = { w_min = "abc" }\n', "w_min"),
        ('[[runs]]\nrule = "delta"\nsubstrate_params = 3\n', "'substrate_params' must be a table"),
    ],
)
def test_a_malformed_suite_is_refused_before_anything_runs(tmp_path, extra, message):
    path = tmp_path / "s.toml"
    path.write_text(SUITE + extra)
    with pytest.raises(BioplastError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        load_suite(path)
    assert main(["bench", "--suite", str(path), "--out", str(tmp_path / "out"), "--quiet"]) == 2
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_folder_is_not_a_suite(tmp_path):
    (tmp_path / "suite.toml").mkdir()
    with pytest.raises(BioplastError, match="is a folder"):
        load_suite(tmp_path / "suite.toml")


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "--rule", "eqprop", "--param", "free_steps=1000000000000"], "more than the 100,000"),
        (["train", "--rule", "eqprop", "--param", "points=100000000", "--param", "estimator=holomorphic"], "points"),
        (["train", "--rule", "delta", "--epochs", "1000000000000"], "epochs = 1000000000000 is more than"),
        (["gradcheck", "--task", "digits", "--samples", "100000"], "has 1438 training samples"),
    ],
)
def test_work_is_bounded_before_it_starts(capsys, argv, message):
    t0 = time.monotonic()
    assert main([*argv, "--quiet"] if argv[0] == "train" else argv) == 2
    assert time.monotonic() - t0 < 30
    assert message in capsys.readouterr().err


def test_an_unexpected_exception_is_a_short_message_and_the_traceback_on_request(monkeypatch, capsys):
    import bioplast.cli as cli

    def broken(args):
        raise RuntimeError("something we did not foresee")

    monkeypatch.setattr(cli, "cmd_rules", broken)
    assert main(["rules"]) == 3
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: something we did not foresee" in err and "Traceback" not in err
    assert "BIOPLAST_TRACEBACK=1" in err
    monkeypatch.setenv("BIOPLAST_TRACEBACK", "1")
    with pytest.raises(RuntimeError, match="did not foresee"):
        main(["rules"])


_WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)
_VALUES = st.one_of(
    st.sampled_from(["0", "-1", "1e308", "nan", "inf", "true", "no", "[]", "{}", '"x"', "null", "1e12", "3.5"]),
    st.text(max_size=8),
)
_NAMES = st.one_of(st.sampled_from(["beta", "free_steps", "nudge_steps", "estimator", "cost", "dt", "points"]), _WORDS)
_FIELDS = st.one_of(st.sampled_from(["bits", "w_min", "w_max", "differential", "inference_only", "read_noise"]), _WORDS)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(
    rule=st.sampled_from(["eqprop", "delta", "oja", "weight_perturbation", "holo_eqprop"]),
    params=st.lists(st.tuples(_NAMES, _VALUES), max_size=3),
    substrate=st.sampled_from(["ideal", "loihi2-like", "pcm-crossbar", "reram-crossbar"]),
    fields=st.lists(st.tuples(_FIELDS, _VALUES), max_size=3),
)
def test_param_and_substrate_param_fuzz_gives_bioplast_errors_only(rule, params, substrate, fields):
    """``--param`` and ``--substrate-param`` as the command line parses them: the configuration
    either validates or raises a BioplastError, quickly — never another exception."""
    t0 = time.monotonic()
    try:
        cfg = TrainConfig(
            rule=rule,
            rule_params=_rule_params([f"{n}={v}" for n, v in params]),
            substrate=substrate,
            substrate_params=_rule_params([f"{n}={v}" for n, v in fields], "--substrate-param"),
        )
        cfg.validate()
        cfg.make_rule()
    except BioplastError:
        pass
    assert time.monotonic() - t0 < 5


def test_a_value_without_a_name_is_refused():
    with pytest.raises(ConfigError, match="expects NAME=VALUE, got 'beta'"):
        _rule_params(["beta"])


def test_oversized_encoder_and_teacher_requests_are_refused_before_allocating():
    import numpy as np

    from bioplast.data import encoders, teacher_student

    with pytest.raises(ConfigError, match="steps of spike trains for 784000 rates needs about"):
        encoders.poisson(np.full((1000, 784), 10.0), 10**9, 1e-3, 0)
    with pytest.raises(ConfigError, match="a 1000000-100000-1 teacher with 20 samples needs about"):
        teacher_student(10**6, 10**5, 1, 10, 10, "tanh")
