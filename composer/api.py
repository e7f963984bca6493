"""Turning what a caller hands us (a Spec, a dict, a path) into a validated Spec, once."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from composer.spec import Spec

_READY: OrderedDict[str, Spec] = OrderedDict()


def as_spec(spec: Spec | dict | str | Path) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return Spec.from_dict(spec)
    return load(spec)


def ready(spec: Spec | dict | str | Path) -> Spec:
    """The validated, normalised Spec (cached: validating a design twice costs nothing)."""
    from composer.validation import validate

    spec = as_spec(spec)
    key = spec.key()
    if key not in _READY:
        _READY[key] = validate(spec)
        while len(_READY) > 64:
            _READY.popitem(last=False)
    return _READY[key]


def load(path: str | Path) -> Spec:
    """A Spec from a spec JSON file or from a checkpoint folder's composer.spec.json."""
    path = Path(path)
    if path.is_dir():
        path = path / "composer.spec.json"
    return Spec.load(path)
