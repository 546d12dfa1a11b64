r"""Fusion planned once: runs of elementwise device stages become one fused write.

The elementwise stages of a profile (update register, gain, state-dependent step, write noise,
grid or bounds) run as one :func:`fused_write`.  Whether a backend's compiled kernel runs it in
one pass over the weights, or the stages run one by one, is decided when the chain is built
(:func:`~bioplast.hardware.chain.device_transforms` with the backend's kernel), never per write;
both draw the same numbers (each stage's counter-based stream, keyed by its own state), so the
two agree to rounding.  The kernel's argument is a
:class:`~bioplast.backends.device_write.WriteSpec`, filled from the stages' spec records.
"""

from __future__ import annotations

from typing import Any

from bioplast.backends import device_write as dw
from bioplast.core import Transform, TransformSpec, chain_init, chain_update, from_spec, transform_factory
from bioplast.hardware.bounds import clip_bounds
from bioplast.hardware.physics import update_precision
from bioplast.hardware.profile import weight_grid
from bioplast.hardware.transforms import (
    ROUNDING_SALT,
    WRITE_NOISE_SALT,
    NoiseState,
    device_gain,
    draw_key,
    exponential_steps,
    quantize,
    soft_bounds,
    write_noise,
    written_gain,
)

# the stages one fused write can run, in the order it runs them (a WriteSpec's order)
FUSED_ORDER = {
    update_precision.Spec: 0,
    device_gain.Spec: 1,
    soft_bounds.Spec: 2,
    exponential_steps.Spec: 2,
    write_noise.Spec: 3,
    quantize.Spec: 4,
    clip_bounds.Spec: 4,
}


def fuse_runs(chain, kernel=None) -> tuple:
    """``chain`` with every run of two or more consecutive fusable stages, in write order, replaced by
    its :func:`fused_write` with ``kernel`` (a lone stage stays as it is: fused spiking engines read
    its spec)."""
    out: list[Transform] = []
    run: list[Transform] = []

    def flush():
        out.extend([fused_write(tuple(run), kernel)] if len(run) > 1 else run)
        run.clear()

    for t in chain:
        rank = FUSED_ORDER.get(type(t.spec))
        if rank is None or (run and rank <= FUSED_ORDER[type(run[-1].spec)]):
            flush()
        (run if rank is not None else out).append(t)
    flush()
    return tuple(out)


def write_spec(stages) -> dw.WriteSpec:
    """The :class:`~bioplast.backends.device_write.WriteSpec` of fusable ``stages`` (in write order),
    read from their spec records."""
    f: dict[str, Any] = dict(  # floats, and the int switches gain, bounds, grid
        update_lsb=0.0,
        update_top=0.0,
        gain=0,
        up=1.0,
        down=1.0,
        bounds=dw.BOUNDS_NONE,
        lo=0.0,
        hi=1.0,
        gamma=0.0,
        write_sigma=0.0,
        grid=dw.GRID_NONE,
        origin=0.0,
        step=1.0,
        k_min=0.0,
        k_max=0.0,
        clip_lo=0.0,
        clip_hi=0.0,
    )
    for t in stages:
        s = t.spec
        if isinstance(s, update_precision.Spec):
            f.update(update_lsb=s.lsb, update_top=float(2 ** (s.update_bits - 1) - 1))
        elif isinstance(s, device_gain.Spec):
            f.update(gain=1, up=s.up, down=s.down)
        elif isinstance(s, soft_bounds.Spec):
            f.update(bounds=dw.BOUNDS_SOFT, lo=s.lo, hi=s.hi)
        elif isinstance(s, exponential_steps.Spec):
            f.update(bounds=dw.BOUNDS_EXPONENTIAL, lo=s.lo, hi=s.hi, gamma=s.gamma)
        elif isinstance(s, write_noise.Spec):
            f.update(write_sigma=s.sigma)
        elif isinstance(s, quantize.Spec):
            origin, step, k_min, k_max = weight_grid(s.bits, s.lo, s.hi, s.paired)
            f.update(
                grid=dw.GRID_NEAREST if s.rounding == "nearest" else dw.GRID_STOCHASTIC,
                origin=origin,
                step=step,
                k_min=float(k_min),
                k_max=float(k_max),
            )
        elif isinstance(s, clip_bounds.Spec):
            f.update(grid=dw.GRID_CLIP, clip_lo=s.lo, clip_hi=s.hi)
    fields: dict[str, Any] = {
        k: (
            float(v)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in ("gain", "bounds", "grid")
            else v
        )
        for k, v in f.items()
    }
    return dw.WriteSpec(**fields)


@transform_factory("device_write", exclude=("kernel",))
def fused_write(stages: tuple, kernel=None) -> Transform:
    """``stages`` (fusable device transforms or their specs, in write order) as one transform.  With
    ``kernel`` (a backend's ``k.fused("device_write")``) the whole write is one pass over the
    weights; without, the stages run in turn.  Both draw the same numbers, so the two agree to
    rounding (bit for bit where no stage calls a library ``exp``); the state is the stages' states,
    so a checkpoint of either resumes the other."""
    stages = tuple(from_spec(t) if isinstance(t, (TransformSpec, dict)) else t for t in stages)
    name = "device_write(" + " → ".join(t.name for t in stages) + ")"

    def init(k, w):
        return chain_init(k, stages, w)

    if kernel is None:

        def staged_update(k, u, states, w):
            return chain_update(k, stages, u, states, w)

        return Transform(init, staged_update, name)
    spec = write_spec(stages)
    types = [type(t.spec) for t in stages]
    gain_at = types.index(device_gain.Spec) if device_gain.Spec in types else None
    noise_at = types.index(write_noise.Spec) if write_noise.Spec in types else None
    round_at = types.index(quantize.Spec) if spec.grid == dw.GRID_STOCHASTIC else None

    def update(k, u, states, w):
        gain = written_gain(k, states[gain_at] if gain_at is not None else (), u, w)
        out = kernel(
            w,
            u,
            gain,
            spec,
            draw_key(states[noise_at], WRITE_NOISE_SALT) if noise_at is not None else (0, 0),
            draw_key(states[round_at], ROUNDING_SALT) if round_at is not None else (0, 0),
        )
        return out, tuple(s._replace(step=s.step + 1) if isinstance(s, NoiseState) else s for s in states)

    return Transform(init, update, name)
