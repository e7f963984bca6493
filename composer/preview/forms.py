"""The form of an image processor or feature extractor class: every option with its kind, default
and help, read from the class itself (its kwargs TypedDict, ``__init__`` and
docstrings), so the ImagePreview and AudioPreview forms cover any class transformers ships."""

from __future__ import annotations

import dataclasses
import inspect
import typing
from typing import Any

from composer.classes import init_defaults, transformers_class
from composer.fields import docstring_help, hint_kinds
from composer.sections.parts import PART_KINDS

# Per-call arguments of an image processor, not options of the object a Spec saves.
CALL_ONLY = {"return_tensors", "data_format", "input_data_format", "device", "disable_grouping"}


def _jsonable(value: Any) -> Any:
    """Defaults as the Spec stores them: SizeDict → its set keys, enums → numbers, tuples → lists."""
    import enum

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, enum.Enum):
        return _jsonable(value.value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def _kind_of(value: Any) -> tuple[str, ...]:
    for kind, types in (("bool", bool), ("int", int), ("float", float), ("str", str), ("list", (list, tuple)),
                        ("dict", dict)):
        if isinstance(value, types):
            return (kind,)
    return ("any",)


def _annotations(cls) -> dict[str, Any]:
    """Options an image processor accepts (its ``valid_kwargs`` TypedDict), else the named
    ``__init__`` parameters of a feature extractor and its bases, unannotated."""
    kwargs_type = getattr(cls, "valid_kwargs", None)
    if kwargs_type is not None:
        import torch

        try:
            return {k: v for k, v in typing.get_type_hints(kwargs_type, localns={"torch": torch}).items()
                    if k not in CALL_ONLY}
        except Exception:  # a hint that does not evaluate: names only
            return {k: None for k in kwargs_type.__annotations__ if k not in CALL_ONLY}
    return dict.fromkeys(init_defaults(cls))


def _helps(cls) -> dict[str, str]:
    helps: dict[str, str] = {}
    sources = [*reversed(cls.__mro__), getattr(cls, "valid_kwargs", None)]
    for source in sources:  # the class's own words last, so they win
        if source is not None and source.__doc__:
            helps.update({k: v for k, v in docstring_help(inspect.cleandoc(source.__doc__)).items() if v})
    return helps


def part_form(key: str, class_name: str) -> list[dict[str, Any]]:
    """Every option of ``class_name`` (``key`` is "image_processor" or "feature_extractor"): name,
    kinds, nullable, choices, default and help. (The form shows the Spec's values from the draft.)"""
    from PIL import Image

    base, _, example = PART_KINDS[key]
    cls = transformers_class(class_name, base, f"{key}.class", example)
    instance = cls()
    helps = _helps(cls)
    out = []
    for name, hint in _annotations(cls).items():
        default = _jsonable(getattr(instance, name, None))
        if hint is not None:
            kinds, nullable, choices, _ = hint_kinds(hint)
        else:
            kinds, nullable, choices = _kind_of(default), default is None, None
        if name == "resample":
            kinds, choices = ("choice",), tuple({"name": m.name, "value": int(m)} for m in Image.Resampling)
        out.append({"name": name, "kinds": list(kinds), "nullable": nullable,
                    "choices": list(choices) if choices else None, "default": default,
                    "help": helps.get(name, "")})
    return out
