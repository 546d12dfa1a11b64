"""Public testing helpers: dtype-tied tolerances and the conformance battery."""
from . import conformance
from .tolerance import EPS, assert_close, tolerance

__all__ = ["conformance", "assert_close", "tolerance", "EPS"]
