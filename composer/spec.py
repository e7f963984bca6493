"""The Spec: one plain, JSON-serialisable value that holds a whole design.

This module checks only the *shape* of a Spec (keys and JSON types) and needs neither torch nor
transformers; `composer.validation` checks it against the installed transformers.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from composer.errors import SpecError, shown
from composer.limits import MAX_DEPTH, MAX_INT, MAX_SPEC_BYTES, MAX_STRING_CHARS
from composer.paths import checked_path, is_dir, read_regular

FORMAT = "composer.spec/1"

# Sub-keys each optional section accepts; anything else is refused by name.
TOKENIZER_KEYS = {"class", "vocab_file", "merges_file", "pretrained", "train", "options", "fast"}
TRAIN_KEYS = {"text", "files", "vocab_size", "min_frequency"}
BACKBONE_KEYS = {"model_type", "config", "timm", "pretrained", "out_features", "out_indices"}
PROCESSOR_PART_KEYS = {"class", "options"}
# What loading a pretrained checkpoint does with a tensor whose shape the design changed (``resized``): refuse
# the design, naming the field, or initialise those tensors afresh (from_pretrained's ignore_mismatched_sizes).
RESIZED = ("refuse", "reinitialise")


def _expect(value: Any, kinds: tuple, where: str, what: str) -> None:
    # bool is an int in Python; a JSON true is never a valid integer here.
    if isinstance(value, bool) and bool not in kinds:
        raise SpecError(where, f"expected {what}, got {shown(value)}")
    if not isinstance(value, kinds):
        raise SpecError(where, f"expected {what}, got {shown(value)}")


# ----- the Spec as plain JSON data -------------------------------------------------------------


class _LongInteger(str):
    """An integer literal of a spec file too long to convert (Python refuses 4,300+ digits)."""


class _Repeated(dict):
    """An object of a spec file that gives ``key`` twice (json keeps the last one silently)."""

    key: str


def _child(where: str, key: str) -> str:
    key = key or '""'  # an empty key still names a field
    return f"{where}.{key}" if where else key


def _type_name(value: Any) -> str:
    kind = type(value)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def plain(value: Any, where: str, depth: int = 1) -> Any:
    """A checked copy of ``value``: strict JSON data (objects with string keys, lists, strings,
    finite numbers, true/false, null), at most MAX_DEPTH deep, strings of at most MAX_STRING_CHARS
    that are valid Unicode, integers within MAX_INT; else SpecError at the field path. What passes
    saves as strict JSON, shows in a browser and prints as Python source that runs."""
    if isinstance(value, (list, dict)) and depth > MAX_DEPTH:
        raise SpecError(where, f"nested deeper than {MAX_DEPTH} levels of objects and lists")
    if isinstance(value, _LongInteger):
        raise SpecError(where, f"an integer of {len(value.lstrip('-')):,} digits; the limit is ±{MAX_INT:,}")
    if isinstance(value, _Repeated):
        raise SpecError(_child(where, value.key), "given twice in one object")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and type(value) is int:
        if abs(value) > MAX_INT:
            raise SpecError(where, f"{shown(value)} is beyond ±{MAX_INT:,} (2**53, what the page holds exactly)")
        return value
    if isinstance(value, float) and type(value) is float:
        if not math.isfinite(value):
            name = "NaN" if math.isnan(value) else "-Infinity" if value < 0 else "Infinity"
            raise SpecError(where, f"{name}: only finite numbers are allowed (strict JSON has no NaN or Infinity)")
        return value
    if isinstance(value, str) and type(value) is str:
        if len(value) > MAX_STRING_CHARS:
            raise SpecError(where, f"a string of {len(value):,} characters; the limit is {MAX_STRING_CHARS:,}")
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as err:
                raise SpecError(where, f"{shown(value)} is not valid Unicode (a lone surrogate at character "
                                       f"{err.start})") from None
        return value
    if isinstance(value, list) and type(value) is list:
        return [plain(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict) and type(value) is dict:
        out = {}
        for key, v in value.items():
            if not isinstance(key, str) or type(key) is not str:
                raise SpecError(where or "spec", f"key {shown(key)} ({_type_name(key)}) is not a string; "
                                "JSON object keys are strings")
            out[plain(key, where or "spec", depth)] = plain(v, _child(where, key), depth + 1)
        return out
    hint = "; use a list" if isinstance(value, (tuple, set, frozenset)) else \
        "; convert it with int(), float() or str()" if type(value).__module__ != "builtins" else ""
    raise SpecError(where or "spec", f"expected JSON data (an object, list, string, number, true/false or "
                    f"null), got a {_type_name(value)}: {shown(value)}{hint}")


# Strings (with their escapes) and brackets: a spec file's nesting is measured before json parses it
# (json.loads recurses once per level and 100,000 of them raise RecursionError).
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def _too_deep(text: str) -> bool:
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False  # too few brackets to be too deep: nothing to scan
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        depth += _STEP.get(match.group(), 0)
        if depth > MAX_DEPTH:
            return True
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) < len(pairs):
        seen: set[str] = set()
        repeated = _Repeated(out)
        repeated.key = next(k for k, _ in pairs if k in seen or seen.add(k))
        return repeated
    return out


def _integer(digits: str) -> int | str:
    return int(digits) if len(digits) <= 20 else _LongInteger(digits)


def parse(text: str, where: str = "spec") -> Any:
    """Spec JSON text as data; refused in one line if it is not strict JSON data within the limits
    (checked by ``plain`` at the field: NaN, a 5,000-digit integer or a repeated key is named there)."""
    if _too_deep(text):
        raise SpecError(where, f"nested deeper than {MAX_DEPTH} levels of objects and lists")
    try:
        return json.loads(text, parse_int=_integer, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as err:
        raise SpecError(where, f"not valid JSON ({err.msg} at line {err.lineno})") from None


def _only_keys(section: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise SpecError(_child(where, unknown[0]), f"unknown key; allowed: {', '.join(sorted(allowed))}")


@dataclass
class Spec:
    """A design: model type, head, config overrides, backbone, processors, weights and seed."""

    model_type: str
    architecture: str | None = None
    config: dict[str, Any] = field(default_factory=dict)
    backbone: dict[str, Any] | None = None
    tokenizer: dict[str, Any] | None = None
    image_processor: dict[str, Any] | None = None
    feature_extractor: dict[str, Any] | None = None
    processor: str | None = None
    pretrained: str | None = None
    resized: str = RESIZED[0]
    seed: int = 0
    format: str = FORMAT

    # ----- JSON in / out -------------------------------------------------------------------

    def __post_init__(self) -> None:
        """Every Spec, however made (from_dict, a file, ``Spec(...)`` in Python), holds checked plain
        data, its own copy of it: nothing the caller keeps can change it afterwards."""
        for f in fields(self):
            setattr(self, f.name, plain(getattr(self, f.name), f.name, depth=2))
        _check_shape(self)

    @classmethod
    def from_dict(cls, data: Any) -> Spec:
        """Check the shape of ``data`` and return a Spec; raise SpecError naming the bad key."""
        _expect(data, (dict,), "spec", "a JSON object")
        plain(data, "")  # every key a string, the whole value plain data, before anything else reads it
        _only_keys(data, {f.name for f in fields(cls)}, "")
        if "model_type" not in data:
            raise SpecError("model_type", "missing; e.g. \"distilbert\" (see `python -m composer types`)")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, keys in a stable order; empty sections are kept explicit."""
        return {
            "format": self.format,
            "model_type": self.model_type,
            "architecture": self.architecture,
            "config": copy.deepcopy(self.config),
            "backbone": copy.deepcopy(self.backbone),
            "tokenizer": copy.deepcopy(self.tokenizer),
            "image_processor": copy.deepcopy(self.image_processor),
            "feature_extractor": copy.deepcopy(self.feature_extractor),
            "processor": self.processor,
            "pretrained": self.pretrained,
            "resized": self.resized,
            "seed": self.seed,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Spec:
        return cls.from_dict(parse(text))

    @classmethod
    def load(cls, path: str | Path) -> Spec:
        """A spec file (checked path, a regular file of at most MAX_SPEC_BYTES of UTF-8 JSON), or the
        composer.spec.json of a checkpoint folder the composer saved."""
        path = checked_path(path, "spec")
        if is_dir(path):
            if not (path / "composer.spec.json").exists():
                raise SpecError("spec", f"folder {shown(str(path))} has no composer.spec.json; give a spec file or a "
                                "folder the composer saved")
            path = path / "composer.spec.json"
        data = read_regular(path, "spec", MAX_SPEC_BYTES)
        try:
            text = data.decode("utf-8-sig")  # a byte order mark (Windows editors) is not an error
        except UnicodeDecodeError as err:
            raise SpecError("spec", f"{shown(str(path))} is not UTF-8 text (byte {err.object[err.start]:#04x} "
                            f"at offset {err.start:,})") from None
        return cls.from_json(text)

    def save(self, path: str | Path) -> None:
        """Write atomically: a reader never sees half a file."""
        path = checked_path(path, "path")
        tmp = path.with_name(f".{path.name}.tmp")
        try:
            tmp.write_text(self.to_json(), encoding="utf-8")
            tmp.replace(path)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise SpecError("path", f"cannot write {shown(str(path))}: {err.strerror}") from None

    def key(self) -> str:
        """A string for caching: equal designs give equal keys. Keys keep their order (not sorted): the
        exported code and config.json write fields in the order given, so a cache must not hand one
        design the order another was typed in."""
        return json.dumps(self.to_dict())

    def replace(self, **changes: Any) -> Spec:
        return Spec.from_dict({**self.to_dict(), **changes})


def as_spec(spec: Spec | dict | str | Path) -> Spec:
    """What a caller hands the engine (a Spec, a spec dict, the path of a spec file or saved folder) as a Spec."""
    if isinstance(spec, Spec):
        return spec
    if isinstance(spec, dict):
        return Spec.from_dict(spec)
    if isinstance(spec, (str, os.PathLike)):
        return Spec.load(spec)
    raise SpecError("spec", f"expected a Spec, a spec dict or the path of a spec file, got {shown(spec)}")


def _check_shape(spec: Spec) -> None:
    """The JSON types of the sections, each refused at its field."""
    if spec.format != FORMAT:
        raise SpecError("format", f"expected {FORMAT!r}, got {shown(spec.format)}")
    _expect(spec.model_type, (str,), "model_type", "a string")
    if spec.architecture is not None:
        _expect(spec.architecture, (str,), "architecture", "a class name or null")
    _expect(spec.config, (dict,), "config", "an object of config attributes")
    _expect(spec.seed, (int,), "seed", "an integer")
    for key in ("pretrained", "processor"):
        if getattr(spec, key) is not None:
            _expect(getattr(spec, key), (str,), key, "a string or null")
    if spec.resized not in RESIZED:
        raise SpecError("resized", f"expected {' or '.join(map(repr, RESIZED))}, got {shown(spec.resized)}")
    if spec.resized != RESIZED[0] and spec.pretrained is None:
        raise SpecError("resized", "only used with pretrained: a design without it has no checkpoint to resize")
    _check_backbone(spec.backbone)
    _check_tokenizer(spec.tokenizer)
    for key in ("image_processor", "feature_extractor"):
        part = getattr(spec, key)
        if part is not None:
            _expect(part, (dict,), key, 'null or {"class": ..., "options": {...}}')
            _only_keys(part, PROCESSOR_PART_KEYS, key)
            _expect(part.get("class"), (str,), f"{key}.class", "a class name")
            _expect(part.get("options", {}), (dict,), f"{key}.options", "an object")


def _check_backbone(backbone: Any) -> None:
    if backbone is None:
        return
    _expect(backbone, (dict,), "backbone", 'null, {"model_type": ..., "config": {...}} or {"timm": ...}')
    _only_keys(backbone, BACKBONE_KEYS, "backbone")
    if ("model_type" in backbone) == ("timm" in backbone):
        raise SpecError("backbone", 'give exactly one of "model_type" (a transformers backbone) or "timm"')
    if "model_type" in backbone:
        _expect(backbone["model_type"], (str,), "backbone.model_type", "a string")
        _expect(backbone.get("config", {}), (dict,), "backbone.config", "an object")
    else:
        _expect(backbone["timm"], (str,), "backbone.timm", "a timm model name, e.g. \"resnet50\"")
        if "config" in backbone:
            raise SpecError("backbone.config", 'not used with "timm"; use out_indices')
    _expect(backbone.get("pretrained", False), (bool,), "backbone.pretrained", "true or false")
    for key in ("out_features", "out_indices"):
        if backbone.get(key) is not None:
            _expect(backbone[key], (list,), f"backbone.{key}", "a list")


def _check_tokenizer(tok: Any) -> None:
    if tok is None:
        return
    _expect(tok, (dict,), "tokenizer", "null or an object")
    _only_keys(tok, TOKENIZER_KEYS, "tokenizer")
    sources = [k for k in ("vocab_file", "pretrained", "train") if k in tok]
    if len(sources) > 1:
        raise SpecError("tokenizer", f"give one source, not {' and '.join(sources)}")
    for key in ("class", "vocab_file", "merges_file", "pretrained"):
        if key in tok:
            _expect(tok[key], (str,), f"tokenizer.{key}", "a string")
    if "vocab_file" not in tok and "merges_file" in tok:
        raise SpecError("tokenizer.merges_file", "only used with tokenizer.vocab_file")
    _expect(tok.get("options", {}), (dict,), "tokenizer.options", "an object")
    _expect(tok.get("fast", True), (bool,), "tokenizer.fast", "true or false")
    if "train" in tok:
        train = tok["train"]
        _expect(train, (dict,), "tokenizer.train", 'an object, e.g. {"text": [...], "vocab_size": 1000}')
        _only_keys(train, TRAIN_KEYS, "tokenizer.train")
        if not train.get("text") and not train.get("files"):
            raise SpecError("tokenizer.train", 'give "text" (a list of strings) or "files" (a list of paths)')
        for key in ("text", "files"):
            if key in train:
                _expect(train[key], (list,), f"tokenizer.train.{key}", "a list of strings")
                for i, item in enumerate(train[key]):
                    _expect(item, (str,), f"tokenizer.train.{key}[{i}]", "a string")
        _expect(train.get("vocab_size", 1000), (int,), "tokenizer.train.vocab_size", "an integer")
        _expect(train.get("min_frequency", 0), (int,), "tokenizer.train.min_frequency", "an integer")
