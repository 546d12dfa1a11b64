"""Figure plumbing every part that draws shares: a headless pyplot, PNG written atomically, one finish."""

from __future__ import annotations

import io
from pathlib import Path

from bioplast.io import atomic_write_bytes
from bioplast.optional import require


def pyplot():
    matplotlib = require("matplotlib", "figures")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(fig, path: Path) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=150, bbox_inches="tight")
    atomic_write_bytes(path, buf.getvalue())


def finish(
    fig,
    ax,
    path,
    *,
    xlabel: str,
    ylabel: str,
    title: str = "",
    ylim=None,
    legend: bool = True,
    grid: str | None = "both",
) -> None:
    """Label, decorate, write atomically as PNG and close: the last lines of every figure."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if grid:
        ax.grid(axis=grid, alpha=0.3)
    if legend:
        ax.legend(frameon=False, fontsize=8)
    ax.set_title(title)
    save_png(fig, Path(path))
    pyplot().close(fig)
