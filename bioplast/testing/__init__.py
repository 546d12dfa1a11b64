"""Public testing helpers: tolerances derived from dtype and operation count, and the conformance battery."""

from bioplast.testing import conformance
from bioplast.testing.tolerance import EPS, LIBM_ULPS, assert_close, eps, libm_disagreement, tolerance, worst_case

__all__ = ["conformance", "assert_close", "tolerance", "worst_case", "libm_disagreement", "eps", "EPS", "LIBM_ULPS"]
