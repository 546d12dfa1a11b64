"""A pytest plugin: run bioplast's numeric battery (or any test using the ``backend`` fixture) on a
third-party backend.

    pytest -p bioplast.testing.plugin --bioplast-backend mypkg.backends:MyBackend \\
           --pyargs bioplast.testing.suite

``--bioplast-backend`` (repeatable) names backends as ``bioplast train --backend`` does: a built-in
name, an installed ``bioplast.backends`` plugin or a ``package.module:Backend`` reference; each is
tested in float32 and float64.  Without the option, every available built-in backend is tested.
"""

from __future__ import annotations

import pytest

from bioplast.backends import available_backends, get_backend


def pytest_addoption(parser):
    group = parser.getgroup("bioplast")
    group.addoption(
        "--bioplast-backend",
        action="append",
        default=[],
        metavar="NAME",
        help="a backend to test: a built-in name, a plugin, or package.module:Backend (repeatable)",
    )


def _backends(config) -> list:
    named = config.getoption("--bioplast-backend")
    return [(name, "cpu") for name in named] if named else available_backends()


def _parametrized_itself(metafunc) -> bool:
    return any(
        "backend" in [a.strip() for a in str(m.args[0]).split(",")]
        for m in metafunc.definition.iter_markers("parametrize")
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "cuda: runs on a CUDA device (the GPU check selects these with -m cuda)")


def pytest_generate_tests(metafunc):
    if "backend" in metafunc.fixturenames and not _parametrized_itself(metafunc):
        params = [
            pytest.param((n, d, t), id=f"{n}-{d}-{t}", marks=[pytest.mark.cuda] if d.startswith("cuda") else [])
            for n, d in _backends(metafunc.config)
            for t in ("float32", "float64")
        ]
        metafunc.parametrize("backend", params, indirect=True)


@pytest.fixture
def backend(request):
    name, device, dtype = request.param
    return get_backend(name, device=device, dtype=dtype)
