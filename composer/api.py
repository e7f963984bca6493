"""Turning what a caller hands us (a Spec, a dict, a path) into a validated Spec, once."""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path

from composer.errors import SpecError, shown
from composer.paths import checked_path, is_dir
from composer.spec import Spec

_READY: OrderedDict[str, Spec] = OrderedDict()


def as_spec(spec: Spec | dict | str | Path) -> Spec:
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return Spec.from_dict(spec)
    if isinstance(spec, (str, os.PathLike)):
        return load(spec)
    raise SpecError("spec", f"expected a Spec, a spec dict or the path of a spec file, got {shown(spec)}")


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
    path = checked_path(path, "spec")
    if is_dir(path):
        if not (path / "composer.spec.json").exists():
            raise SpecError("spec", f"folder {shown(str(path))} has no composer.spec.json; give a spec file or a "
                            "folder the composer saved")
        path = path / "composer.spec.json"
    return Spec.load(path)
