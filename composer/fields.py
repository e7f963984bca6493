"""A config class → typed form fields: name, type, default, choices, help, aliases, sub-configs.

Everything comes from the class itself: its dataclass fields and type hints (5.x configs are typed
dataclasses), ``Literal`` choices, the ``Args:`` section of its docstring, ``attribute_map`` and
``sub_configs``. Nothing is listed by hand except how names are grouped on the form.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import functools
import math
import re
import types
import typing
from dataclasses import asdict, dataclass
from typing import Any

from composer import limits
from composer.catalog import HEAD_FIELDS, config_class
from composer.catalog_cache import remembered
from composer.domains import activations, domain
from composer.errors import SpecError, shown
from composer.sizes import check_config_value

# Kept out of the form: transformers or the composer itself sets them.
MANAGED = {"transformers_version", "architectures", "dtype"}

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
    minimum: float | None = None  # inclusive bounds of a number (composer.domains), None when unbounded
    maximum: float | None = None

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


def _validators(f: dataclasses.Field) -> list:
    """transformers' own validators of a field (huggingface_hub strict dataclasses keep them there)."""
    found = f.metadata.get("validator")
    return found if isinstance(found, list) else [found] if found else []


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
        known = domain(f.name, kinds, default, _validators(f))
        choices = choices or known.choices
        out.append(
            Field(
                name=f.name,
                type="config" if "config" in kinds else ("choice" if choices else _primary(kinds)),
                default=_jsonable(default),
                nullable=nullable,
                kinds=kinds,
                choices=tuple(choices) if choices else None,
                minimum=known.minimum,
                maximum=known.maximum,
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
    out += consumed_fields(cls)
    # The model's own attributes first: dataclass order puts PreTrainedConfig's ~20 common ones on top.
    return tuple(sorted(out, key=lambda f: f.common))


# ---- Keyword arguments a config class consumes without declaring them as fields ----------------------
# Read from transformers' own code: what the class's ``__post_init__`` (and the helpers it hands
# ``**kwargs`` to) pops or gets, the legacy rope names PreTrainedConfig converts when the class has
# ``rope_parameters``, the public properties with a setter (the backbone mixin's out_features /
# out_indices), and the attributes the model's own modeling code reads from its config undeclared
# (T5's decoder_start_token_id). PreTrainedConfig's own pops are loading machinery (dtype, name_or_path,
# attn_implementation, ...) and are not offered; generation parameters are dropped by transformers.
_KWARG = re.compile(r"""(?<![\w.])kwargs\.(?:pop|get)\(\s*["'](\w+)["']""")
_KWARG_DEFAULT = re.compile(r"""(?<![\w.])kwargs\.(?:pop|get)\(\s*["'](\w+)["']\s*,\s*(True|False|-?\d+\.\d*|-?\d+)\s*\)""")
_CALLS = re.compile(r"self\.(\w+)\(")
_HANDOFF = re.compile(r"(?<![\w.])(?:self\.)?(\w+)\([^()]*\*\*kwargs")
_READ = re.compile(r"(?<![\w])config\.([a-z]\w*)(?!\s*\()")
_ASSIGNED = re.compile(r"self\.(\w+)\s*(?::[^=]+)?=(?!=)")


def _source(fn) -> str:
    import inspect

    try:
        return inspect.getsource(fn)
    except (OSError, TypeError):
        return ""


def _consumed_kwargs(cls) -> tuple[set[str], list[Any]]:
    """Names popped from ``**kwargs`` by the class's own ``__post_init__`` and what it hands them to,
    and the functions read (their docstrings type those names)."""
    import sys

    from transformers import PreTrainedConfig

    names: set[str] = set()
    seen: set[Any] = set()
    todo = [k.__dict__["__post_init__"] for k in cls.__mro__
            if "__post_init__" in k.__dict__ and issubclass(k, PreTrainedConfig) and k is not PreTrainedConfig]
    if any(f.name == "rope_parameters" for f in dataclasses.fields(cls)):
        todo.append(cls.convert_rope_params_to_dict)  # PreTrainedConfig.__post_init__ calls it then
    while todo:
        fn = todo.pop()
        if fn in seen:
            continue
        seen.add(fn)
        src = _source(fn)
        names.update(_KWARG.findall(src))
        scope = vars(sys.modules.get(getattr(fn, "__module__", ""), None) or object())
        for callee in _HANDOFF.findall(src):
            target = getattr(cls, callee, None) or scope.get(callee)
            if callable(target) and callee != "__post_init__" and not isinstance(target, type):
                todo.append(target)
    return names, list(seen)


def _modeling_reads(cls) -> set[str]:
    """Attributes the modeling files next to the config read as ``config.NAME``, whatever class declares them."""
    import pathlib
    import sys

    module = sys.modules.get(cls.__module__)
    if module is None or not getattr(module, "__file__", None):
        return set()
    names: set[str] = set()
    for path in pathlib.Path(module.__file__).parent.glob("modeling_*.py"):
        names.update(_READ.findall(path.read_text(encoding="utf-8", errors="replace")))
    return names


def _sibling_attributes(cls) -> set[str]:
    """Every attribute some config class of the same model package declares, assigns or maps: a read
    of one of those in the modeling code is that class's, not an undeclared one of ``cls``."""
    import importlib
    import pathlib
    import sys

    from transformers import PreTrainedConfig

    package = cls.__module__.rpartition(".")[0]
    classes = []
    for path in pathlib.Path(sys.modules[cls.__module__].__file__).parent.glob("configuration_*.py"):
        try:
            classes += vars(importlib.import_module(f"{package}.{path.stem}")).values()
        except Exception:  # a sibling needing an absent extra declares nothing we can read
            continue
    names: set[str] = set()
    for klass in classes:
        if isinstance(klass, type) and issubclass(klass, PreTrainedConfig) and dataclasses.is_dataclass(klass):
            names.update(f.name for f in dataclasses.fields(klass))
            names.update(getattr(klass, "attribute_map", {}))
            names.update(n for n in dir(klass) if klass is not cls)
            for k in klass.__mro__:
                if "__post_init__" in k.__dict__:
                    names.update(_ASSIGNED.findall(_source(k.__dict__["__post_init__"])))
    return names


def _setter_properties(cls) -> set[str]:
    from transformers import PreTrainedConfig

    return {name for k in cls.__mro__ if k is not PreTrainedConfig and not issubclass(PreTrainedConfig, k)
            for name, v in vars(k).items() if isinstance(v, property) and v.fset is not None}


def _doc_kinds(docs: list[str]) -> dict[str, str]:
    """name → the type part of its ``Args:`` entry (the last doc wins)."""
    out: dict[str, str] = {}
    for doc in docs:
        for line in (doc or "").splitlines():
            m = _ARG.match(line)
            if m:
                out[m.group(2)] = m.group(3)
    return out


_DOC_KIND = re.compile(r"`(list|tuple|dict|int|float|bool|str)\b")


def _kinds_from_doc(text: str) -> tuple[str, ...]:
    kinds = []
    for k in _DOC_KIND.findall(text):
        k = "list" if k == "tuple" else k
        if k not in kinds:
            kinds.append(k)
    return tuple(kinds) or ("any",)


@functools.cache
def consumed_fields(cls) -> tuple[Field, ...]:
    """Fields for the keyword arguments ``cls`` takes beyond its dataclass fields and aliases, typed from
    transformers' own hints (RopeParameters, the rope_parameters field) or docstrings; default None (unset)."""
    from transformers import GenerationConfig, PreTrainedConfig
    from transformers.modeling_rope_utils import RopeParameters

    declared = {f.name for f in dataclasses.fields(cls)} | set(getattr(cls, "attribute_map", {}))
    dropped = set(GenerationConfig._get_default_generation_params())
    names, consumers = _consumed_kwargs(cls)
    names |= _setter_properties(cls)
    names |= {n for n in _modeling_reads(cls) if not hasattr(cls, n)} - _sibling_attributes(cls)
    names = {n for n in names - declared - dropped - MANAGED - {"num_labels"}
             if not n.startswith("_") and not callable(getattr(cls, n, None))}
    hints = {**typing.get_type_hints(RopeParameters)}
    if "rope_parameters" in declared:
        hints["rope_scaling"] = _hints(cls).get("rope_parameters", dict | None)
    setters = [p.fset for n in names for p in (getattr(cls, n, None),) if isinstance(p, property) and p.fset]
    consumers += [getattr(cls, c) for fn in setters for c in _CALLS.findall(_source(fn)) if hasattr(cls, c)]
    literal = {m[0]: type(ast.literal_eval(m[1])).__name__ for fn in consumers
               for m in _KWARG_DEFAULT.findall(_source(fn))}
    sources = [GenerationConfig.__doc__, *(fn.__doc__ for fn in consumers), *(fn.__doc__ for fn in setters),
               *(k.__doc__ for k in reversed(cls.__mro__))]
    docs = _doc_kinds(sources)
    helps = {}
    for doc in sources:
        helps.update(docstring_help(doc or ""))
    out = []
    for name in sorted(names):
        if name in hints:
            kinds = hint_kinds(hints[name])[0]
        else:
            kinds = _kinds_from_doc(docs.get(name, ""))
            kinds = (literal[name],) if kinds == ("any",) and name in literal else kinds
        known = domain(name, kinds, None, [])
        out.append(Field(name, "choice" if known.choices else _primary(kinds), None, nullable=True, kinds=kinds,
                         choices=known.choices, help=helps.get(name, ""), group=_group(name),
                         minimum=known.minimum, maximum=known.maximum))
    return tuple(out)


def _field_rows(fields: tuple[Field, ...]) -> list[dict[str, Any]]:
    """Fields as the catalog cache keeps them: every attribute, a non-finite default as JSON's Infinity."""
    return [asdict(f) for f in fields]


def _from_field_rows(rows: list[dict[str, Any]]) -> tuple[Field, ...]:
    return tuple(Field(**{**row, "kinds": tuple(row["kinds"]), "aliases": tuple(row["aliases"]),
                          "choices": None if row["choices"] is None else tuple(row["choices"])}) for row in rows)


@remembered(encode=_field_rows, decode=_from_field_rows)
def config_fields(model_type: str) -> tuple[Field, ...]:
    """The form of a model type's config class (kept by the catalog cache: read without importing it)."""
    return class_fields(config_class(model_type))


def fields_by_name(model_type: str) -> dict[str, Field]:
    return {f.name: f for f in config_fields(model_type)}


@remembered()
def attribute_map(model_type: str) -> dict[str, str]:
    """The aliases of a model type's config attributes (``hidden_size`` → ``dim``)."""
    return dict(getattr(config_class(model_type), "attribute_map", {}))


def canonical_name(model_type: str, name: str) -> str:
    """Map an alias (``hidden_size``) to the attribute it stands for (``dim``)."""
    return attribute_map(model_type).get(name, name)


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
    """Raise SpecError if ``value`` is not allowed for field ``f`` (JSON values only), or is a size
    past composer.limits (layers, labels, vocabulary, any integer)."""
    if value is None:
        if f.nullable:
            return
        raise SpecError(where, f"expected {f.type}, got null")
    if f.type == "choice":
        if value not in f.choices:
            raise SpecError(where, _not_a_choice(f.choices, value))
        return
    if not any(_KIND_CHECKS[k](value) for k in f.kinds or (f.type,)):
        wanted = " or ".join(f.kinds or (f.type,))
        raise SpecError(where, f"expected {wanted}, got {shown(value)}")
    if isinstance(value, float) and not math.isfinite(value) and _finite(f.default) == f.default:
        raise SpecError(where, f"expected a finite number, got {shown(value)}")
    if _KIND_CHECKS["float"](value) and not (
            (f.minimum is None or value >= f.minimum) and (f.maximum is None or value <= f.maximum)):
        raise SpecError(where, f"expected {allowed_range(f)}, got {shown(value)}")
    check_config_value(f.name, value, where)


def allowed_range(f: Field) -> str:
    """``an integer >= 1``, ``a number from 0 to 1``: what a bounded field takes, in words."""
    what = "an integer" if f.type == "int" else "a number"
    if f.minimum is not None and f.maximum is not None:
        return f"{what} from {f.minimum:g} to {f.maximum:g}"
    return f"{what} >= {f.minimum:g}" if f.minimum is not None else f"{what} <= {f.maximum:g}"


def _not_a_choice(choices: tuple[Any, ...], value: Any) -> str:
    """Every choice when they are few; else the closest ones and where the whole list is."""
    if len(choices) <= limits.MAX_LISTED_CHOICES:
        return f"expected one of {', '.join(map(repr, choices))}; got {shown(value)}"
    close = difflib.get_close_matches(str(value), [str(c) for c in choices], n=3, cutoff=0.5)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    what = "activations transformers knows" if choices == activations() else "allowed values"
    return f"{shown(value)} is not one of the {len(choices)} {what}{hint}; see `python -m composer fields`"
