"""Check a Spec against the installed transformers and return it normalised.

Normalised means: aliases replaced by the attributes they stand for (``hidden_size`` → ``dim``),
values equal to the class default dropped (the config diff stays minimal), and the guide's silent
5.x traps corrected with a warning or refused with a message.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from composer import catalog
from composer.errors import SpecError, shown
from composer.fields import check_value, class_fields
from composer.spec import Spec


# The guide's backbone arguments: each has transformers load a checkpoint or timm weights by name
# (false or null fetches nothing and is taken as the attribute it is).
HUB_BACKBONE_KEYS = {"backbone", "use_timm_backbone", "use_pretrained_backbone", "backbone_kwargs"}


def _config_overrides(cls, overrides: dict[str, Any], where: str, keep_defaults: bool) -> dict[str, Any]:
    by_name = {f.name: f for f in class_fields(cls)}
    attribute_map = getattr(cls, "attribute_map", {})
    out: dict[str, Any] = {}
    for key, value in overrides.items():
        name = attribute_map.get(key, key)
        spot = f"{where}.{key}"
        f = by_name.get(name)
        if name in HUB_BACKBONE_KEYS and "backbone_config" in by_name and value not in (False, None):
            raise SpecError(spot, f"{shown(key)} makes transformers fetch the backbone from the hub; set it with the "
                            'spec\'s "backbone" key: {"model_type": "resnet", "config": {...}} or {"timm": "resnet50"}')
        if f is None:
            close = difflib.get_close_matches(key, [*by_name, *attribute_map], n=3, cutoff=0.6)
            hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m composer fields`"
            raise SpecError(spot, f"{cls.__name__} has no attribute {shown(key)}{hint}")
        if name == "backbone_config":
            raise SpecError(spot, 'set the backbone with the spec\'s "backbone" key')
        check_value(f, value, spot)
        if name in out:
            raise SpecError(spot, f"given twice (as {shown(name)} and its alias {shown(key)})")
        if keep_defaults or value != f.default:
            out[name] = value
    return out


def validate_config(spec: Spec) -> dict[str, Any]:
    cls = catalog.config_class(spec.model_type)
    return _config_overrides(cls, spec.config, "config", keep_defaults=spec.pretrained is not None)


def validate_backbone(spec: Spec) -> dict[str, Any] | None:
    bb = spec.backbone
    if bb is None:
        return None
    if not catalog.takes_backbone(spec.model_type):
        raise SpecError("backbone", f"{spec.model_type} takes no backbone (its config has no backbone_config)")
    out = dict(bb)
    if "timm" in bb:
        try:
            import timm
        except ImportError as err:  # torchvision missing or broken underneath timm
            raise SpecError("backbone.timm", f"timm cannot be imported here: {err}") from None
        if not timm.is_model(bb["timm"]):
            raise SpecError("backbone.timm", f"{shown(bb['timm'])} is not a timm model; e.g. resnet50, convnext_tiny")
        if bb.get("out_features") is not None:
            raise SpecError("backbone.out_features", "a timm backbone selects stages with out_indices")
        return out
    catalog.check_model_type(bb["model_type"], "backbone.model_type")
    if bb["model_type"] not in catalog.backbone_types():
        raise SpecError("backbone.model_type", f"{shown(bb['model_type'])} has no backbone class; allowed: "
                        f"{', '.join(catalog.backbone_types())}")
    cls = catalog.config_class(bb["model_type"])
    out["config"] = _config_overrides(cls, bb.get("config", {}), "backbone.config", keep_defaults=False)
    return out


def field_in_message(message: str, names: list[str], prefix: str = "config") -> str:
    """The config attribute a transformers error message is about: the first of ``names`` it
    mentions, as ``n_heads`` or in words (``hidden size``); else the first name (the user's own edit)."""
    text = message.replace("self.", " ").lower()
    for name in names:
        if re.search(rf"(?<![a-z0-9_]){re.escape(name.lower())}(?![a-z0-9_])", text) or \
                (name.count("_") and name.replace("_", " ").lower() in text):
            return f"{prefix}.{name}"
    return f"{prefix}.{names[0]}" if names else prefix


def _check_heads(config) -> None:
    """Grouped-query attention: transformers builds the model, but every forward pass would fail."""
    try:
        heads = getattr(config, "num_attention_heads", None)
        kv = getattr(config, "num_key_value_heads", None)
    except RuntimeError:  # a per-layer (heterogeneous) config refuses global reads: nothing to compare
        return
    if isinstance(heads, int) and isinstance(kv, int) and kv > 0 and heads % kv:
        raise SpecError("config.num_key_value_heads", f"must divide num_attention_heads ({heads}); got {kv}")


def validate(spec: Spec, deep: bool = True) -> Spec:
    """The normalised Spec, or SpecError. ``deep`` also builds config and model on the meta device,
    so that cross-field errors transformers would raise later (e.g. ``dim`` not divisible by
    ``n_heads``) are caught now, named, and never surface as a traceback."""
    from composer import processors
    from composer.api import as_spec

    spec = as_spec(spec)
    catalog.check_model_type(spec.model_type)
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    normal = Spec(
        model_type=spec.model_type,
        architecture=None if head.task == "base" and spec.architecture is None else head.name,
        config=validate_config(spec),
        backbone=validate_backbone(spec),
        tokenizer=processors.validate_tokenizer(spec),
        image_processor=processors.validate_part(spec, "image_processor"),
        feature_extractor=processors.validate_part(spec, "feature_extractor"),
        processor=spec.processor,
        pretrained=spec.pretrained,
        seed=spec.seed,
    )
    if normal.pretrained is not None:
        from composer import hub

        hub.resolve(normal.pretrained, "pretrained")
        folder = hub.local_folder(normal.pretrained)
        if folder is not None and folder.model_type != normal.model_type:
            raise SpecError("pretrained", f"config.json: model_type {folder.model_type!r}; the design's model_type "
                            f"is {normal.model_type!r}")
    processors.validate_processor(normal)
    if deep:
        from composer.repeats import measured

        _check_heads(measured(normal).config)
    return normal
