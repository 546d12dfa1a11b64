r"""Plugins: one mechanism for every kind of thing a user brings.

Wherever bioplast accepts a name — a rule, a task, a backend, a model kind, a substrate — it
accepts three forms:

* a **built-in name** (``"oja"``);
* the name of an **entry point** that an installed package declares in the kind's group
  (:data:`GROUPS`), e.g. in that package's ``pyproject.toml``::

      [project.entry-points."bioplast.rules"]
      flipped_oja = "mylab.rules:flipped_oja"

* a **reference** ``"package.module:attribute"`` to an object importable here (nothing to
  install; the module is imported, nothing else is executed).

A :class:`Registry` resolves the three forms, checks what it found (a plugin of the wrong type,
one that fails to import, or one that takes a built-in's name is a
:class:`~bioplast.errors.ConfigError` naming the plugin and what was expected) and lists every
entry with its origin (:meth:`Registry.listing`), a broken plugin as a row with its error rather
than an exception, so one bad package never hides the others.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, NamedTuple

from bioplast.errors import ConfigError, unknown_name

GROUPS = {
    "rule": "bioplast.rules",
    "task": "bioplast.tasks",
    "backend": "bioplast.backends",
    "model kind": "bioplast.models",
    "substrate": "bioplast.substrates",
}
BUILT_IN = "built-in"
_REFERENCE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


def is_reference(name) -> bool:
    """Whether ``name`` has the ``package.module:attribute`` form."""
    return isinstance(name, str) and bool(_REFERENCE.match(name))


def load_reference(ref: str, what: str):
    """The object ``package.module:attribute`` names (a :class:`ConfigError` naming it if the module
    cannot be imported or has no such attribute)."""
    module_name, _, attr = ref.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure of a user's module is reported by name
        raise ConfigError(
            f"{what} {ref!r}: cannot import module {module_name!r} ({type(exc).__name__}: {exc})"
        ) from None
    obj = module
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise ConfigError(f"{what} {ref!r}: module {module_name!r} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


class Entry(NamedTuple):
    """One row of a listing: ``name``, ``origin`` (``built-in``, the distribution that declares the
    entry point, or the reference itself), and the checked ``value`` or the ``error`` it raised."""

    name: str
    origin: str
    value: Any
    error: str | None


class Registry:
    """The things of one ``kind`` (a key of :data:`GROUPS`): the built-ins, then the entry points of
    its group.  ``check(obj, label) -> obj`` validates (and may normalise) what a plugin gives,
    raising :class:`ConfigError` for the wrong type."""

    def __init__(self, kind: str, builtins: dict, check: Callable[[Any, str], Any]):
        if kind not in GROUPS:
            raise ConfigError(f"unknown plugin kind {kind!r}; known: {', '.join(GROUPS)}")
        self.kind, self.group, self.builtins, self.check = kind, GROUPS[kind], builtins, check

    def _entry_points(self) -> list:
        return list(entry_points(group=self.group))

    def _load(self, ep) -> Any:
        label = f"{self.kind} plugin {ep.name!r} ({ep.value}, from {_origin(ep)})"
        if ep.name in self.builtins:
            raise ConfigError(
                f"{label} takes the name of the built-in {self.kind} {ep.name!r}; a plugin must use a name of its own"
            )
        try:
            obj = ep.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is reported, never fatal to the others
            raise ConfigError(f"{label} failed to import: {type(exc).__name__}: {exc}") from None
        return self.check(obj, label)

    def get(self, name) -> Any:
        """The checked object called ``name`` (built-in, entry point or reference)."""
        if not isinstance(name, str):
            raise ConfigError(f"a {self.kind} is named by a string, got {type(name).__name__} {name!r}")
        if name in self.builtins:
            return self.builtins[name]
        if is_reference(name):
            return self.check(load_reference(name, self.kind), f"{self.kind} {name!r}")
        for ep in self._entry_points():
            if ep.name == name:
                return self._load(ep)
        raise unknown_name(self.kind, name, [*self.builtins, *(ep.name for ep in self._entry_points())])

    def names(self) -> list:
        return [*self.builtins, *(ep.name for ep in self._entry_points() if ep.name not in self.builtins)]

    def listing(self) -> list:
        """Every built-in and every entry point as an :class:`Entry`; a plugin that fails carries its
        error instead of a value."""
        rows = [Entry(name, BUILT_IN, value, None) for name, value in self.builtins.items()]
        for ep in self._entry_points():
            try:
                rows.append(Entry(ep.name, _origin(ep), self._load(ep), None))
            except ConfigError as exc:
                rows.append(Entry(ep.name, _origin(ep), None, str(exc)))
        return rows


def _origin(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else ep.value


def origin_of(registry: Registry, name: str) -> str:
    """Where ``name`` comes from: ``built-in``, a distribution, or the reference itself."""
    if name in registry.builtins:
        return BUILT_IN
    if is_reference(name):
        return name
    for ep in registry._entry_points():
        if ep.name == name:
            return _origin(ep)
    return "unknown"
