"""Resource guards: refuse an allocation that cannot fit before making it."""

from __future__ import annotations

import os

from bioplast.errors import ConfigError


def available_memory() -> int | None:
    """Bytes of memory available to new allocations (``MemAvailable``), or ``None`` if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n: float) -> str:
    return f"{n / 2**30:.2f} GiB"


def check_fits(nbytes: float, what: str, fraction: float = 0.8) -> None:
    """:class:`ConfigError` if ``nbytes`` exceeds ``fraction`` of the available memory."""
    free = available_memory()
    if free is not None and nbytes > fraction * free:
        raise ConfigError(
            f"{what} needs about {_gib(nbytes)} but only {_gib(free)} is available "
            f"(limit {fraction:.0%} of it); use smaller layers or batches"
        )


def training_bytes(sizes, batch: int, itemsize: int, copies: int = 4, steps_kept: int = 6) -> float:
    """Memory estimate of a run: every weight matrix ``copies`` times (weights, update,
    two optimiser moments) and ``steps_kept`` activations of every layer for the batch."""
    synapses = sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    units = sum(sizes)
    return itemsize * (copies * synapses + steps_kept * batch * units)
