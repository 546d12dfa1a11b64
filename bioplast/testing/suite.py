"""bioplast's conformance battery as a test suite, for any backend (:mod:`bioplast.testing.plugin`).

Every verb and every fused kernel of the backend against the numpy float64 reference, every
registered rule (built-ins and installed plugins) on it, and the geometry and device transforms.
"""

from __future__ import annotations

import pytest

from bioplast.geometry import adam, additive, eg_pm, exponentiated, mirror_descent
from bioplast.hardware import quantize, soft_bounds, write_noise
from bioplast.rules.registry import rule_names
from bioplast.testing import conformance

TRANSFORMS = {
    "additive": lambda: additive(0.1),
    "exponentiated": lambda: exponentiated(0.1, decay=0.01),
    "adam": lambda: adam(0.01),
    "mirror_descent": lambda: mirror_descent(0.5, 3.0),
    "eg_pm": lambda: eg_pm(0.1),
    "soft_bounds": lambda: soft_bounds(-1.0, 1.0),
    "write_noise": lambda: write_noise(0.2, seed=3),
    "quantize": lambda: quantize(8, -1.0, 1.0),
}


def test_every_verb_and_fused_kernel(backend):
    conformance.check_backend(backend)


@pytest.mark.parametrize("rule", rule_names())
def test_rule_on_the_backend(rule, backend):
    conformance.check_rule(rule, backend)
    conformance.check_plasticity_chain(rule, backend, (additive(0.1),))


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_transform_on_the_backend(name, backend):
    conformance.check_transform(TRANSFORMS[name](), backend)
