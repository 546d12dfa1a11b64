"""The plasticity contract.

A learning rule sees only *local signals* and proposes a *direction*; a chain
of *transforms* (geometry, then substrate) turns the direction into an
*update*; :func:`apply_updates` is the only place weights change::

    signals ─► Rule.update ─► direction ─► Transform … ─► update ─► apply_updates(w, update)

Conventions
-----------
* Weights are ``W[n_post, n_pre]`` everywhere; signals are batched,
  ``pre[B, n_pre]``, ``post[B, n_post]``.
* A direction is the way the rule wants ``W`` to move (for a gradient rule,
  ``-grad``); transforms such as :func:`bioplast.geometry.additive` scale it
  by a learning rate.
* Every function is pure: ``init``/``update`` return new state and never
  write into their arguments.  The backend (kernel vocabulary) is passed
  explicitly as the first argument ``k``.

The shape follows optax's ``GradientTransformation`` (an ``(init, update)``
pair and a state NamedTuple) with local signals in place of gradients.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any, ClassVar, NamedTuple

from bioplast.errors import ConfigError, DataError, DivergenceError

Array = Any  # a numpy array or a torch tensor, as the backend supplies

SIGNALS = ("pre", "post", "mod", "w")


class Local(NamedTuple):
    """The only signals a local rule may read.

    pre:  presynaptic activity ``[B, n_pre]``
    post: postsynaptic activity ``[B, n_post]``
    mod:  optional modulator: per-postsynaptic ``[B, n_post]`` (an error or a
          neuromodulator per neuron) or global ``[B]`` (reward).
    """

    pre: Array
    post: Array
    mod: Array | None = None


class Contrast(NamedTuple):
    """Signals of a two-phase rule (EP, contrastive Hebbian learning).

    ``free`` is the network at its free fixed point, ``nudged`` at the fixed
    point reached with the output nudged by ``beta`` towards the target.
    ``beta`` may be complex (one point of an :class:`Oscillation`).
    """

    free: Local
    nudged: Local
    beta: Any


class Oscillation(NamedTuple):
    """Several nudged phases with weights: a contrast rule's estimate is
    ``Re Σ_n weights[n] · update(contrasts[n])``.

    Holomorphic EP (Laborieux & Zenke 2022) nudges with ``β_n = |β| e^{2πin/N}``
    on a circle; the weighted mean of the contrasts is the Cauchy-integral
    (discrete Fourier) estimate of the derivative at ``β = 0``.
    """

    contrasts: tuple
    weights: tuple


@dataclass(frozen=True)
class RuleSpec:
    """What a rule is, for people and for the registry.

    ``reads`` lists the signals among ``pre, post, mod, w`` that the update
    depends on; the conformance battery proves the declaration by
    perturbation.  ``role`` says how the rule is used in a network:
    ``"feature"`` (unsupervised, trains a hidden layer), ``"readout"``
    (supervised through ``mod``), ``"lateral"`` (recurrent weights among one
    population), ``"network"`` (trains every layer, e.g. backprop, EP) or
    ``"spiking"`` (steps with the spikes of a :class:`~bioplast.dynamics.spiking.network.SpikingNetwork`
    projection, e.g. STDP).
    """

    name: str
    family: str
    reads: frozenset
    role: str
    equation: str
    citation: str
    params: dict = field(default_factory=dict)
    contrast: bool = False  # True: update() takes Contrast(free, nudged, beta) signals

    def __post_init__(self):
        unknown = set(self.reads) - set(SIGNALS)
        if unknown:
            raise ConfigError(
                f"rule {self.name!r} declares unknown signals {sorted(unknown)}; expected a subset of {list(SIGNALS)}"
            )


class Rule(NamedTuple):
    """A local learning rule: ``init(k, w) -> state`` and
    ``update(k, signals, state, w) -> (direction, state)``.

    ``layers``, when set, gives the rule as configured for layer ``i`` of a network (rules
    with per-layer settings, e.g. per-layer flip fractions); models call :meth:`at_layer`."""

    init: Callable[[Any, Array], Any]
    update: Callable[[Any, Any, Any, Array], tuple[Array, Any]]
    spec: RuleSpec
    layers: Callable[[int], Rule] | None = None

    def at_layer(self, i: int) -> Rule:
        return self if self.layers is None else self.layers(i)

    def with_spec(self, spec: RuleSpec) -> Rule:
        """The same rule under another spec, on every layer."""
        inner = self.layers
        return self._replace(spec=spec, layers=None if inner is None else (lambda i: inner(i).with_spec(spec)))


class TransformSpec:
    """What a transform is, as data: one frozen dataclass per transform factory, whose fields are
    the factory's arguments (built by :func:`transform_factory`).  ``kind`` names it in files (NIR
    sidecars, suites); :meth:`build` makes the transform again; fused engines and the fusion
    planner read the fields, never the transform's closures."""

    kind: ClassVar[str] = ""
    factory: ClassVar[Callable[..., Transform]]

    def build(self) -> Transform:
        return self.factory(**{f.name: getattr(self, f.name) for f in fields(self)})  # type: ignore[arg-type]  # subclasses are dataclasses (transform_factory makes them); the base cannot say so

    def to_dict(self) -> dict:
        """``{"kind": …, field: value}`` with arrays as lists and nested specs as dicts (JSON-ready)."""
        return {"kind": self.kind, **{f.name: _plain(getattr(self, f.name)) for f in fields(self)}}  # type: ignore[arg-type]  # as in build


_SPECS: dict = {}  # kind -> TransformSpec subclass, filled by transform_factory


def _plain(v):
    if isinstance(v, Transform):  # a transform given as an argument (a fused write's stages): its record
        v = v.spec
    if isinstance(v, TransformSpec):
        return v.to_dict()
    if isinstance(v, (tuple, list)):
        return [_plain(x) for x in v]
    if hasattr(v, "tolist"):  # numpy arrays and scalars
        return v.tolist()
    return v


def transform_factory(kind: str, exclude: tuple = ()):
    """Decorate a factory that returns a :class:`Transform`: its spec record (a frozen dataclass of
    its arguments, registered under ``kind``) is made from the signature, and every transform it
    returns carries the record of the call as ``spec``.  ``exclude``: arguments that are not data
    (a kernel), left out of the record."""

    def wrap(factory):
        sig = inspect.signature(factory)
        spec_fields = [
            (name, Any, field(default=p.default)) if p.default is not inspect.Parameter.empty else (name, Any)
            for name, p in sig.parameters.items()
            if name not in exclude
        ]
        if kind in _SPECS:
            raise ConfigError(f"transform kind {kind!r} is registered twice")

        @functools.wraps(factory)
        def build(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            t = factory(*args, **kwargs)
            data = {n: v for n, v in bound.arguments.items() if n not in exclude}
            return t._replace(spec=cls(**data))

        cls = make_dataclass(
            f"{factory.__name__}_spec",
            spec_fields,
            bases=(TransformSpec,),
            frozen=True,
            namespace={"kind": kind, "factory": staticmethod(build)},
        )
        cls.__module__ = factory.__module__
        cls.__doc__ = f"The arguments of :func:`{factory.__module__}.{factory.__name__}`, as data."
        build.Spec = cls
        _SPECS[kind] = cls
        return build

    return wrap


def spec_kinds() -> list:
    """The registered transform kinds (each module registers its factories when it is imported)."""
    return sorted(_SPECS)


def from_spec(spec) -> Transform:
    """The transform a spec record (or its :meth:`TransformSpec.to_dict` form, e.g. read from a file)
    describes.  Unknown kinds and arguments are :class:`~bioplast.errors.DataError` naming them; bad
    values are the factory's own error."""
    if isinstance(spec, TransformSpec):
        return spec.build()
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        raise DataError(f"a transform spec is a dict with a 'kind' string, got {spec!r:.80}")
    cls = _SPECS.get(spec["kind"])
    if cls is None:
        raise DataError(f"unknown transform kind {spec['kind']!r}; known: {', '.join(spec_kinds())}")
    args = {n: v for n, v in spec.items() if n != "kind"}
    names = {f.name for f in fields(cls)}
    if set(args) - names:
        raise DataError(
            f"transform {spec['kind']!r} has no arguments {sorted(set(args) - names)}; it takes {sorted(names)}"
        )
    try:
        return cls(**args).build()
    except TypeError as exc:
        raise DataError(f"transform {spec['kind']!r}: {exc}") from None


class Transform(NamedTuple):
    """Geometry or substrate step: ``init(k, w) -> state`` and
    ``update(k, updates, state, w) -> (updates, state)``."""

    init: Callable[[Any, Array], Any]
    update: Callable[[Any, Array, Any, Array], tuple[Array, Any]]
    name: str
    # what the transform is, as data (the record of the factory call that made it, set by
    # transform_factory), so fused engines and files can describe it; None for an ad-hoc transform
    spec: TransformSpec | None = None

    @property
    def kind(self) -> str | None:
        return None if self.spec is None else self.spec.kind


class PlasticityState(NamedTuple):
    rule: Any
    transforms: tuple


def _no_state(k, w):
    return ()


def stateless(name: str, fn: Callable[[Any, Array, Array], Array]) -> Transform:
    """Wrap ``fn(k, updates, w) -> updates`` as a :class:`Transform` with no state."""

    def update(k, updates, state, w):
        return fn(k, updates, w), state

    return Transform(_no_state, update, name)


@dataclass(frozen=True)
class Plasticity:
    """A rule followed by a chain of transforms; build with :func:`plasticity`."""

    rule: Rule
    transforms: tuple

    def init(self, k, w) -> PlasticityState:
        return PlasticityState(self.rule.init(k, w), chain_init(k, self.transforms, w))

    def update(self, k, signals, state: PlasticityState, w) -> tuple[Array, PlasticityState]:
        """Return ``(update, new_state)``; ``w`` is read, never written."""
        _check_signals(self.rule.spec, signals, w)
        direction, rule_state = self.rule.update(k, signals, state.rule, w)
        update, states = chain_update(k, self.transforms, direction, state.transforms, w)
        return update, PlasticityState(rule_state, states)

    def step(self, k, signals, state: PlasticityState, w) -> tuple[Array, PlasticityState]:
        """Compute the update and apply it: ``(new_w, new_state)``.

        :raises DivergenceError: a new weight is NaN or infinite (non-finite signals, or an update
            that overflowed), naming the rule — instead of weights silently turned to NaN.  This
            costs one pass over the weights (and a device sync on a GPU); the trainers' inner
            loops call :meth:`apply`, which skips it, and check their weights once per epoch.
        """
        new_w, state = self.apply(k, signals, state, w)
        if not bool(k.xp.isfinite(new_w).all()):
            bad = [
                n
                for n in ("pre", "post")
                if any(not bool(k.xp.isfinite(getattr(s, n)).all()) for s in _locals(signals))
            ]
            cause = f"non-finite {' and '.join(bad)} signals" if bad else "an update that overflowed"
            raise DivergenceError(f"{self.name}: the step produced non-finite weights ({cause})")
        return new_w, state

    def apply(self, k, signals, state: PlasticityState, w) -> tuple[Array, PlasticityState]:
        """:meth:`step` without its finiteness check: for inner loops that check their weights
        themselves (the trainers do, once per epoch)."""
        update, state = self.update(k, signals, state, w)
        return apply_updates(k, w, update), state

    @property
    def name(self) -> str:
        return " → ".join([self.rule.spec.name] + [t.name for t in self.transforms])


def chain_init(k, transforms, w) -> tuple:
    """States of a chain of transforms for the array ``w``."""
    return tuple(t.init(k, w) for t in transforms)


def chain_update(k, transforms, direction, states, w) -> tuple[Array, tuple]:
    """Pass ``direction`` through ``transforms`` in order: ``(update, new_states)``.

    Also used on its own for parameters that no rule owns (biases), so they
    move with the same geometry and substrate as the weights.
    """
    new_states = []
    for t, s in zip(transforms, states, strict=True):
        direction, s = t.update(k, direction, s, w)
        new_states.append(s)
    return direction, tuple(new_states)


def plasticity(rule, *transforms: Transform) -> Plasticity:
    """Compose a rule with geometry and substrate transforms, applied in order.

    Example: ``plasticity(oja(), additive(1e-3))``.  A :class:`Plasticity` composes again:
    ``plasticity(plasticity(oja(), additive(1e-3)), quantize(8, -1, 1))`` appends the quantiser.
    """
    if isinstance(rule, Plasticity):
        rule, transforms = rule.rule, rule.transforms + tuple(transforms)
    if not isinstance(rule, Rule):
        raise ConfigError(f"plasticity() needs a Rule (or a Plasticity) first, got {type(rule).__name__}")
    for i, t in enumerate(transforms):
        if not isinstance(t, Transform):
            raise ConfigError(f"plasticity() transform #{i + 1} must be a Transform, got {type(t).__name__}")
    return Plasticity(rule, tuple(transforms))


def apply_updates(k, w: Array, update: Array) -> Array:
    """``w + update``: the only place in bioplast where weights change."""
    if tuple(update.shape) != tuple(w.shape):
        raise DataError(f"update has shape {tuple(update.shape)}, expected the weight shape {tuple(w.shape)}")
    return k.add(w, update)


def _locals(signals) -> tuple:
    if isinstance(signals, Oscillation):
        return tuple(x for c in signals.contrasts for x in (c.free, c.nudged))
    if isinstance(signals, Contrast):
        return (signals.free, signals.nudged)
    return (signals,)


def _check_signals(spec: RuleSpec, signals, w) -> None:
    """Shape checks at the contract boundary (O(1), no data scan)."""
    locals_ = _locals(signals)
    n_post, n_pre = tuple(w.shape)
    for sig in locals_:
        if not isinstance(sig, Local):
            raise ConfigError(f"rule {spec.name!r} expects Local or Contrast signals, got {type(sig).__name__}")
        if sig.pre.ndim != 2 or sig.pre.shape[1] != n_pre:
            raise DataError(
                f"pre must have shape (B, {n_pre}) for weights {tuple(w.shape)}, got {tuple(sig.pre.shape)}"
            )
        if sig.post.ndim != 2 or sig.post.shape[1] != n_post or sig.post.shape[0] != sig.pre.shape[0]:
            raise DataError(
                f"post must have shape ({sig.pre.shape[0]}, {n_post}) for weights "
                f"{tuple(w.shape)}, got {tuple(sig.post.shape)}"
            )
        if "mod" in spec.reads:
            if sig.mod is None:
                raise ConfigError(f"rule {spec.name!r} reads a modulator but signals.mod is None")
            if (
                sig.mod.shape[0] != sig.pre.shape[0]
                or (sig.mod.ndim == 2 and sig.mod.shape[1] != n_post)
                or sig.mod.ndim > 2
            ):
                raise DataError(
                    f"mod must have shape ({sig.pre.shape[0]},) or ({sig.pre.shape[0]}, {n_post}), "
                    f"got {tuple(sig.mod.shape)}"
                )
