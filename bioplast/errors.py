"""One error hierarchy for every public boundary.

Every error names the offending value and what was expected; errors about
unknown names list the valid names and suggest the closest ones.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class BioplastError(Exception):
    """Base class of every error bioplast raises on purpose."""


class ConfigError(BioplastError, ValueError):
    """A parameter, name or configuration is invalid."""


class DataError(BioplastError, ValueError):
    """Input data (arrays, files, datasets) is malformed or missing."""


class DivergenceError(BioplastError, RuntimeError):
    """A simulation produced non-finite values or failed to converge."""


class BioplastWarning(UserWarning):
    """Something was recovered from (a damaged checkpoint moved aside, a run restarted): the run goes
    on, and the user should know."""


def unknown_name(kind: str, name: object, valid: Iterable[str]) -> ConfigError:
    """Build the error for an unknown ``kind`` called ``name``.

    The message lists every valid name and, when one is close, suggests it,
    e.g. ``unknown rule 'ojaa'; did you mean 'oja'? valid rules: ...``.
    """
    valid = sorted(valid)
    close = difflib.get_close_matches(str(name), valid, n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ";"
    head, sep, tail = kind.partition(" in ")  # "key in runs[0]" → "keys in runs[0]"
    return ConfigError(f"unknown {kind} {name!r}{hint} valid {head}s{sep}{tail}: {', '.join(valid)}")
