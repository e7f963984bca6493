"""The Spec: one plain, JSON-serialisable value that holds a whole design.

This module checks only the *shape* of a Spec (keys and JSON types) and needs neither torch nor
transformers; `composer.validation` checks it against the installed transformers.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from composer.errors import SpecError

FORMAT = "composer.spec/1"

# Sub-keys each optional section accepts; anything else is refused by name.
TOKENIZER_KEYS = {"class", "vocab_file", "merges_file", "pretrained", "train", "options", "fast"}
TRAIN_KEYS = {"text", "files", "vocab_size", "min_frequency"}
BACKBONE_KEYS = {"model_type", "config", "timm", "pretrained", "out_features", "out_indices"}
PROCESSOR_PART_KEYS = {"class", "options"}


def _expect(value: Any, kinds: tuple, where: str, what: str) -> None:
    # bool is an int in Python; a JSON true is never a valid integer here.
    if isinstance(value, bool) and bool not in kinds:
        raise SpecError(where, f"expected {what}, got {value!r}")
    if not isinstance(value, kinds):
        raise SpecError(where, f"expected {what}, got {value!r}")


def _only_keys(section: dict, allowed: set[str], where: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        prefix = f"{where}." if where else ""
        raise SpecError(f"{prefix}{unknown[0]}", f"unknown key; allowed: {', '.join(sorted(allowed))}")


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
    seed: int = 0
    format: str = FORMAT

    # ----- JSON in / out -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any) -> Spec:
        """Check the shape of ``data`` and return a Spec; raise SpecError naming the bad key."""
        _expect(data, (dict,), "spec", "a JSON object")
        _only_keys(data, {f.name for f in fields(cls)}, "")
        if "model_type" not in data:
            raise SpecError("model_type", "missing; e.g. \"distilbert\" (see `python -m composer types`)")
        if data.get("format", FORMAT) != FORMAT:
            raise SpecError("format", f"expected {FORMAT!r}, got {data['format']!r}")
        _expect(data["model_type"], (str,), "model_type", "a string")
        if data.get("architecture") is not None:
            _expect(data["architecture"], (str,), "architecture", "a class name or null")
        _expect(data.get("config", {}), (dict,), "config", "an object of config attributes")
        _expect(data.get("seed", 0), (int,), "seed", "an integer")
        for key in ("pretrained", "processor"):
            if data.get(key) is not None:
                _expect(data[key], (str,), key, "a string or null")
        _check_backbone(data.get("backbone"))
        _check_tokenizer(data.get("tokenizer"))
        for key in ("image_processor", "feature_extractor"):
            part = data.get(key)
            if part is not None:
                _expect(part, (dict,), key, 'null or {"class": ..., "options": {...}}')
                _only_keys(part, PROCESSOR_PART_KEYS, key)
                _expect(part.get("class"), (str,), f"{key}.class", "a class name")
                _expect(part.get("options", {}), (dict,), f"{key}.options", "an object")
        return cls(**copy.deepcopy(data))

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
            "seed": self.seed,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Spec:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SpecError("spec", f"not valid JSON ({err.msg} at line {err.lineno})") from None
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Spec:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as err:
            raise SpecError("spec", f"cannot read {path}: {err.strerror}") from None
        return cls.from_json(text)

    def save(self, path: str | Path) -> None:
        """Write atomically: a reader never sees half a file."""
        path = Path(path)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        tmp.replace(path)

    def key(self) -> str:
        """A canonical string for caching: equal designs give equal keys."""
        return json.dumps(self.to_dict(), sort_keys=True)

    def replace(self, **changes: Any) -> Spec:
        return Spec.from_dict({**self.to_dict(), **changes})


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
