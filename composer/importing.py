"""A design from any config.json (a file, a folder holding one, or a hub id): the guide's first step,
loading a config and building a randomly initialised model from it, as a Spec to compose further.

The config is the minimal diff against the config class's defaults, read the way transformers reads it
(``AutoConfig.from_pretrained``): what the file sets and transformers keeps is kept, a legacy key that
transformers folds into another attribute (Llama's ``rope_theta`` into ``rope_parameters``) arrives as
that attribute, and a nested backbone config becomes the Spec's ``backbone``."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

from composer import catalog, folder_check, hub
from composer.errors import ComposerWarning, SpecError, one_line, shown
from composer.fields import MANAGED, class_fields
from composer.paths import checked_path, is_dir, is_file
from composer.spec import Spec
from composer.sections.config import HUB_BACKBONE_KEYS, overrides
from composer.validation import validate

CONFIG = folder_check.CONFIG
# Set by transformers when it reads or saves a config; never part of a design.
_READ_ONLY = {*MANAGED, "model_type", "backbone_config", *HUB_BACKBONE_KEYS}
_STAGES = {"out_features", "out_indices", "stage_names"}  # a backbone's stages: the Spec's backbone keys


def config_file(name: str | Path, where: str = "path") -> Path:
    """The config.json that ``name`` means: the file itself, the one in a folder, or a hub id's (the
    engine's one-line offline message when the hub cannot be reached and the id is not cached)."""
    path = checked_path(name, where)
    if is_dir(path):
        if not is_file(path / CONFIG):
            raise SpecError(where, f"{shown(str(name))} is a folder without a config.json")
        return path / CONFIG
    if is_file(path):
        return path
    if os.path.lexists(path):
        raise SpecError(where, f"{shown(str(name))} is not a regular file")
    if hub._looks_like_path(str(name)) or path.suffix == ".json":
        raise SpecError(where, f"{shown(str(name))} does not exist")
    _, local_only = hub.resolve(str(name), where)  # a valid id, its cached configs read, or why not
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(str(name), CONFIG, local_files_only=local_only))
    except (OSError, ValueError) as err:  # huggingface_hub's errors (not found, gated, offline) are OSErrors
        raise SpecError(where, f"{shown(str(name))}: {one_line(err)}") from None


def _minimal(cls, settings: dict[str, Any], where: str) -> dict[str, Any]:
    """What ``settings`` (a parsed config.json) sets that the class would not by itself, aliases
    resolved and defaults dropped by the engine's own rule (composer.validation); sub-configs likewise."""
    aliases = getattr(cls, "attribute_map", {})
    by_name = {f.name: f for f in class_fields(cls)}
    given: dict[str, Any] = {}
    for key, value in settings.items():
        name = aliases.get(key, key)
        if name in _READ_ONLY or name not in by_name:
            continue
        sub = (getattr(cls, "sub_configs", {}) or {}).get(name)
        if isinstance(value, dict) and sub is not None:
            sub_type = value.get("model_type")
            if isinstance(sub_type, str) and sub_type in catalog.model_types():
                sub = catalog.config_class(sub_type)
            inner = _minimal(sub, value, f"{where}.{key}")
            value = {"model_type": sub_type, **inner} if isinstance(sub_type, str) else inner
        given[key] = value
    return overrides(cls, given, where, keep_defaults=False)


def _read(cls, settings: dict[str, Any]):
    """The config transformers itself makes of ``settings`` (as AutoConfig.from_pretrained does)."""
    try:
        return cls.from_dict(settings)
    except Exception as err:  # any error of transformers' reading, as one line naming the file
        raise SpecError(CONFIG, f"transformers cannot read it: {one_line(err)}") from None


def _as_json(config) -> dict[str, Any]:
    """A built config as JSON data (string keys: ``id2label``'s are ints in the object)."""
    return json.loads(config.to_json_string(use_diff=False))


def _builds(cls, diff: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether the class given ``diff`` holds ``wanted`` on every attribute a design can set."""
    try:
        built = _as_json(cls(**diff))
    except Exception:  # a combination the class refuses builds nothing
        return False
    return all(built.get(f.name) == wanted.get(f.name) for f in class_fields(cls) if f.name not in _READ_ONLY)


def _design_config(cls, settings: dict[str, Any], full, where: str) -> dict[str, Any]:
    """The minimal config of a design that builds ``full`` (the config transformers made of ``settings``):
    what the file sets; plus each attribute transformers filled from a legacy key (``rope_theta`` →
    ``rope_parameters``); less each value the class derives by itself (Llama's ``head_dim``)."""
    wanted = _as_json(full)
    diff = _minimal(cls, settings, where)
    rebuilt = _as_json(cls(**diff))
    for f in class_fields(cls):
        if f.name not in _READ_ONLY and f.name in wanted and rebuilt.get(f.name) != wanted[f.name]:
            diff[f.name] = wanted[f.name]
    labels = diff.get("id2label")
    if isinstance(labels, dict) and labels == {str(i): f"LABEL_{i}" for i in range(len(labels))}:
        diff = {k: v for k, v in diff.items() if k not in ("id2label", "label2id")} | {"num_labels": len(labels)}
    for key in list(diff):
        trial = {k: v for k, v in diff.items() if k != key}
        if _builds(cls, trial, wanted):
            diff = trial
    return diff


def _backbone(cls, full) -> dict[str, Any] | None:
    """The Spec's ``backbone`` for a config whose backbone is not the class's default one."""
    chosen = getattr(full, "backbone_config", None)
    if chosen is None or "backbone_config" not in {f.name for f in class_fields(cls)}:
        return None
    default = cls().backbone_config
    if default is not None and default.to_dict() == chosen.to_dict():
        return None
    out: dict[str, Any]
    if chosen.model_type == "timm_backbone":
        out = {"timm": chosen.backbone}
        stages = {"out_indices": list(chosen.out_indices)} if getattr(chosen, "out_indices", None) else {}
    else:
        bb_cls = catalog.config_class(chosen.model_type)
        settings = {k: v for k, v in _as_json(chosen).items() if k not in _STAGES}
        config = _design_config(bb_cls, settings, chosen, "backbone.config")
        out = {"model_type": chosen.model_type, "config": {k: v for k, v in config.items() if k not in _STAGES}}
        stages = {"out_features": list(chosen.out_features)} if getattr(chosen, "out_features", None) else {}
    return {**out, **stages}


def spec_from_config(path: str | Path, where: str = "path") -> Spec:
    """The validated Spec of the design a config.json describes, with random initial weights
    (``pretrained`` null: that stays the way to load a checkpoint's weights)."""
    file = config_file(path, where)
    settings = folder_check.read_config_file(file, CONFIG)  # bounded, refuses an auto_map
    model_type, architecture = folder_check.check_config(settings)  # every value checked, the class known
    head = catalog.resolve_architecture(model_type, architecture)
    cls = catalog.config_class(model_type)
    full = _read(cls, settings)
    diff = _design_config(cls, settings, full, "config")
    kept = {f.name for f in class_fields(cls)} | set(getattr(cls, "attribute_map", {})) | _READ_ONLY
    rebuilt = cls(**diff)  # a key the class keeps as a plain attribute is lost unless it is what the class has
    dropped = sorted(k for k in settings if k not in kept and not k.startswith("_") and hasattr(full, k)
                     and getattr(rebuilt, k, None) != settings[k])
    if dropped:
        what = "not an attribute" if len(dropped) == 1 else "not attributes"
        warnings.warn(f"{CONFIG}: left out {', '.join(dropped)}: {what} of {cls.__name__} (transformers keeps "
                      "such keys only as plain attributes)", ComposerWarning, stacklevel=2)
    spec = Spec(model_type=model_type, architecture=None if head.task == "base" else head.name,
                config=diff, backbone=_backbone(cls, full))
    return validate(spec)
