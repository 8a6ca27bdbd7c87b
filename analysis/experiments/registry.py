"""The sweep vocabulary's building blocks: typed settings, sampler kinds, and the sampler registry.

A sweep speaks of samplers by name.  :data:`SAMPLERS` maps each name to a :class:`SamplerKind` (how to
build the sampler from its settings, how to run it, what its ``Samples`` provide); sampler families register
themselves with :func:`register_sampler` (:mod:`analysis.experiments.sweep_samplers` registers every
family of :mod:`samplers`).  :class:`Param` is one typed scalar setting with its allowed range, shared by
model parameters, sampler run settings and metrics; a value outside its range raises :class:`SpecError`
naming the key.  This module imports nothing of the sweep machinery: the specification parser
(:mod:`.sweep_spec`) and the sampler kinds both build on it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from samplers import Samples
from spinglass.base import Model


class SpecError(ValueError):
    """A sweep specification that cannot run; the message is one line naming the key and the bad value."""


#: Sentinel default: the parameter must be given.
REQUIRED: Any = type("Required", (), {"__repr__": lambda self: "REQUIRED"})()
#: Sentinel default: the parameter may be omitted, and is then absent from the task's parameters.
OPTIONAL: Any = type("Optional", (), {"__repr__": lambda self: "OPTIONAL"})()


@dataclass(frozen=True)
class Param:
    """A typed scalar setting: ``kind`` is int, float, str or bool; bounds are inclusive unless ``strict``."""

    kind: type
    default: Any = REQUIRED
    minimum: float | None = None
    maximum: float | None = None
    strict: bool = False
    choices: tuple | None = None
    allow_inf: bool = False

    def check(self, key: str, value: Any) -> Any:
        """``value`` converted to ``kind`` (int -> float allowed) or ``SpecError`` naming ``key``."""
        kind = self.kind
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise SpecError(f"{key}: must be a number, got {show_value(value)}")
            value = float(value)
            if math.isnan(value) or (math.isinf(value) and not (self.allow_inf and value > 0)):
                raise SpecError(f"{key}: must be a finite number, got {show_value(value)}")
        elif kind is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                raise SpecError(f"{key}: must be an integer, got {show_value(value)}")
            value = int(value)
        elif kind is bool:
            if not isinstance(value, bool):
                raise SpecError(f"{key}: must be true or false, got {show_value(value)}")
        elif kind is str:
            if not isinstance(value, str):
                raise SpecError(f"{key}: must be a string, got {show_value(value)}")
        if self.choices is not None and value not in self.choices:
            raise SpecError(f"{key}: must be one of {', '.join(map(repr, self.choices))}, got {show_value(value)}")
        if self.minimum is not None and (value <= self.minimum if self.strict else value < self.minimum):
            raise SpecError(f"{key}: must be {'>' if self.strict else '>='} {self.minimum:g}, got {show_value(value)}")
        if self.maximum is not None and value > self.maximum:
            raise SpecError(f"{key}: must be <= {self.maximum:g}, got {show_value(value)}")
        return value


def show_value(value: Any) -> str:
    """A short one-line rendering of a bad value (with its TOML type when that is the problem)."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array", dict: "table"}
    return f"{names.get(type(value), type(value).__name__)} {text}"


@dataclass(frozen=True)
class SamplerKind:
    """A sampler as a sweep sees it.

    ``build(settings)``: the sampler object from its settings (the constructor validates them, raising
    ``ValueError``/``TypeError`` that name the setting).  ``settings_of(sampler)``: the resolved settings
    (defaults included) that rebuild it; they are part of the task's identity.  ``setting_names``: the
    keys a spec may set.  ``run_params``: extra per-run settings (besides ``n_samples``) a spec may set.
    ``resolve(sampler, run)``: fills run defaults.  ``run(sampler, model, run, seed) -> Samples``.
    ``provides``: capabilities of its ``Samples`` (``"trace"``: per-chain energy traces and
    ``trace_every``; ``"acceptance"``; ``"updates"``: ``work["attempted_updates"]``; ``"chains"``: rows
    grouped into chains).  ``requires``: model capabilities it needs (``"discrete"`` for the MCMC kernels).
    ``shows_progress``: ``run`` also takes ``progress=True`` to draw a progress bar (used by
    ``spinglass sample``; sweeps never ask for it).
    """

    name: str
    build: Callable[[dict], Any]
    settings_of: Callable[[Any], dict]
    setting_names: tuple[str, ...]
    run: Callable[[Any, Model, dict, int], Samples]
    run_params: Mapping[str, Param] = field(default_factory=dict)
    resolve: Callable[[Any, dict], dict] = lambda sampler, run: dict(run)
    provides: frozenset[str] = frozenset()
    requires: frozenset[str] = frozenset()
    check: Callable[[dict, str, frozenset], str | None] | None = None
    shows_progress: bool = False


SAMPLERS: dict[str, SamplerKind] = {}


def register_sampler(kind: SamplerKind) -> SamplerKind:
    """Add (or replace) a sampler in :data:`SAMPLERS` (one entry per sampler family); returns it."""
    SAMPLERS[kind.name] = kind
    return kind


__all__ = ["SpecError", "REQUIRED", "OPTIONAL", "Param", "show_value", "SamplerKind", "SAMPLERS", "register_sampler"]
