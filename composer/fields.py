"""A config class → typed form fields: name, type, default, choices, help, aliases, sub-configs.

Everything comes from the class itself: its dataclass fields and type hints (5.x configs are typed
dataclasses), ``Literal`` choices, the ``Args:`` section of its docstring, ``attribute_map`` and
``sub_configs``. Nothing is listed by hand except how names are grouped on the form.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
import types
import typing
from dataclasses import asdict, dataclass
from typing import Any

from composer.errors import SpecError, shown

# Kept out of the form: transformers or the composer itself sets them.
MANAGED = {"transformers_version", "architectures", "dtype"}
# Shown with the head picker rather than with the architecture.
HEAD_FIELDS = ("num_labels", "id2label", "label2id", "problem_type")

_GROUPS = (
    ("dropout", re.compile(r"drop|layerdrop")),
    ("embeddings", re.compile(r"vocab|position|embed|token_id|type_vocab|tie_word|rope|max_length")),
    ("attention", re.compile(r"head|attention|attn|kv|window|query|key_value")),
    ("sizes", re.compile(r"size|dim|layers|hidden|intermediate|^num_|depth|width|channels|stride|ratio")),
)


@dataclass(frozen=True)
class Field:
    """One editable attribute of a config class, JSON-serialisable for forms and ``--json``."""

    name: str
    type: str  # int | float | bool | str | choice | list | dict | config | any
    default: Any
    nullable: bool = False
    kinds: tuple[str, ...] = ()  # every JSON kind accepted (e.g. ("int", "list") for eos_token_id)
    choices: tuple[Any, ...] | None = None
    help: str = ""
    aliases: tuple[str, ...] = ()
    group: str = "other"
    sub_config: str | None = None  # for type "config": the sub-config's class or "AutoConfig"
    common: bool = False  # inherited from PreTrainedConfig rather than the model's own

    def to_dict(self) -> dict[str, Any]:
        """Strict JSON (the Jupyter protocol and browsers refuse a bare Infinity): a non-finite
        default such as Mamba2's time_step_limit (0.0, inf) is written "Infinity", which Python's
        float() and JavaScript's Number() both read back."""
        return {**asdict(self), "default": _finite(self.default)}


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "to_dict"):
        return value.to_dict()
    return repr(value)


def hint_kinds(annotation: Any) -> tuple[tuple[str, ...], bool, tuple | None, str | None]:
    """(JSON kinds, nullable, Literal choices, sub-config class name) of a type hint."""
    from transformers import PreTrainedConfig

    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        kinds, nullable, choices, sub = [], False, None, None
        for arg in typing.get_args(annotation):
            if arg is type(None):
                nullable = True
                continue
            k, n, c, s = hint_kinds(arg)
            kinds += [x for x in k if x not in kinds]
            nullable, choices, sub = nullable or n, choices or c, sub or s
        if "config" in kinds:  # dict | PreTrainedConfig is one nested sub-config
            kinds = [k for k in kinds if k != "dict"]
        return tuple(kinds), nullable, choices, sub
    if origin is typing.Literal:
        return ("choice",), False, typing.get_args(annotation), None
    if annotation is bool:
        return ("bool",), False, None, None
    if annotation is int:
        return ("int",), False, None, None
    if annotation is float:
        return ("float",), False, None, None
    if annotation is str:
        return ("str",), False, None, None
    if origin in (list, tuple) or annotation in (list, tuple):
        return ("list",), False, None, None
    if origin is dict or annotation is dict:
        return ("dict",), False, None, None
    if isinstance(annotation, type) and issubclass(annotation, PreTrainedConfig):
        return ("config",), False, None, annotation.__name__
    return ("any",), False, None, None


def _primary(kinds: tuple[str, ...]) -> str:
    if set(kinds) == {"int", "float"}:
        return "float"
    return kinds[0] if len(kinds) == 1 else "any"


# Tolerates what real docstrings hold: parentheses in the type part (``defaults to `(3, 4, 6, 3)` ``),
# a stray comma before the colon, or no colon at all.
_ARG = re.compile(r"^(\s+)(\w+) \((.*?)\)(?:,?\s*:\s*(.*)|\s*)$")


@functools.cache
def docstring_help(doc: str) -> dict[str, str]:
    """Parse ``name (`type`, *optional*, defaults to `x`):`` entries of an Args: docstring."""
    helps: dict[str, str] = {}
    current, indent = None, 0
    for line in doc.splitlines():
        m = _ARG.match(line)
        if m and (current is None or len(m.group(1)) <= indent):
            current, indent = m.group(2), len(m.group(1))
            helps[current] = (m.group(4) or "").strip()
        elif current and line.strip() and len(line) - len(line.lstrip()) > indent:
            helps[current] = (helps[current] + " " + line.strip()).strip()
        elif line.strip():
            current = None
    return helps


def _group(name: str) -> str:
    for group, pattern in _GROUPS:
        if pattern.search(name):
            return group
    return "other"


@functools.cache
def _hints(cls) -> dict[str, Any]:
    import torch

    hints = {}
    for klass in reversed(cls.__mro__):
        if dataclasses.is_dataclass(klass):
            try:
                hints.update(typing.get_type_hints(klass, localns={"torch": torch}))
            except Exception:  # a hint that does not evaluate leaves its field typed "any"
                continue
    return hints


@functools.cache
def class_fields(cls) -> tuple[Field, ...]:
    """The form of any PreTrainedConfig subclass."""
    from transformers import PreTrainedConfig

    if not dataclasses.is_dataclass(cls):
        raise SpecError("model_type", f"{cls.__name__} is not a dataclass config; cannot build its form")
    hints = _hints(cls)
    helps = {}  # a subclass (MimiDecoderConfig) may document only what differs from its parent
    for klass in reversed(cls.__mro__):
        if issubclass(klass, PreTrainedConfig):
            helps.update(docstring_help(klass.__doc__ or ""))
    aliases: dict[str, list[str]] = {}
    for alias, target in getattr(cls, "attribute_map", {}).items():
        aliases.setdefault(target, []).append(alias)
    common = {f.name for f in dataclasses.fields(PreTrainedConfig)}
    sub_configs = getattr(cls, "sub_configs", {}) or {}
    out = []
    for f in dataclasses.fields(cls):
        if f.name in MANAGED or f.name.startswith("_"):
            continue
        kinds, nullable, choices, sub = hint_kinds(hints.get(f.name, Any))
        if f.name in sub_configs:
            kinds, sub = ("config",), sub_configs[f.name].__name__
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = None
        nullable = nullable or default is None
        out.append(
            Field(
                name=f.name,
                type="config" if "config" in kinds else ("choice" if choices else _primary(kinds)),
                default=_jsonable(default),
                nullable=nullable,
                kinds=kinds,
                choices=tuple(choices) if choices else None,
                help=helps.get(f.name, ""),
                aliases=tuple(sorted(aliases.get(f.name, ()))),
                group="head" if f.name in HEAD_FIELDS else ("other" if f.name in common else _group(f.name)),
                sub_config=sub,
                common=f.name in common,
            )
        )
    # num_labels is not a dataclass field but every config takes it (it sizes id2label).
    out.append(Field("num_labels", "int", 2, help=helps.get("num_labels", ""), group="head",
                     kinds=("int",), common=True))
    # The model's own attributes first: dataclass order puts PreTrainedConfig's ~20 common ones on top.
    return tuple(sorted(out, key=lambda f: f.common))


def config_fields(model_type: str) -> tuple[Field, ...]:
    from composer.catalog import config_class

    return class_fields(config_class(model_type))


def fields_by_name(model_type: str) -> dict[str, Field]:
    return {f.name: f for f in config_fields(model_type)}


def canonical_name(model_type: str, name: str) -> str:
    """Map an alias (``hidden_size``) to the attribute it stands for (``dim``)."""
    from composer.catalog import config_class

    return getattr(config_class(model_type), "attribute_map", {}).get(name, name)


_KIND_CHECKS = {
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "float": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "list": lambda v: isinstance(v, list),
    "dict": lambda v: isinstance(v, dict),
    "config": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}


def check_value(f: Field, value: Any, where: str) -> None:
    """Raise SpecError if ``value`` is not allowed for field ``f`` (JSON values only)."""
    if value is None:
        if f.nullable:
            return
        raise SpecError(where, f"expected {f.type}, got null")
    if f.type == "choice":
        if value not in f.choices:
            raise SpecError(where, f"expected one of {', '.join(map(repr, f.choices))}; got {shown(value)}")
        return
    if not any(_KIND_CHECKS[k](value) for k in f.kinds or (f.type,)):
        wanted = " or ".join(f.kinds or (f.type,))
        raise SpecError(where, f"expected {wanted}, got {shown(value)}")
