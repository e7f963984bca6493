"""The ``config`` section: overrides of the model type's config class, checked attribute by
attribute, aliases replaced by what they stand for and class defaults dropped (the diff stays
minimal); built as the config class, or ``from_pretrained`` of the design's checkpoint."""

from __future__ import annotations

import difflib
import re
from typing import Any

from composer import catalog, hub, translate
from composer.catalog_cache import remembered
from composer.errors import SpecError, one_line, shown
from composer.fields import check_value, class_fields, config_fields
from composer.plan import Ref, Step
from composer.sections.section import Section
from composer.spec import Spec

# The guide's backbone arguments: each has transformers load a checkpoint or timm weights by name
# (false or null fetches nothing and is taken as the attribute it is).
HUB_BACKBONE_KEYS = {"backbone", "use_timm_backbone", "use_pretrained_backbone", "backbone_kwargs"}


def overrides(cls, given: dict[str, Any], where: str, keep_defaults: bool) -> dict[str, Any]:
    """``given`` as attributes of ``cls``: each name known (did-you-mean otherwise), each value checked,
    aliases resolved; values equal to the class default dropped unless ``keep_defaults``."""
    by_name = {f.name: f for f in class_fields(cls)}
    attribute_map = getattr(cls, "attribute_map", {})
    out: dict[str, Any] = {}
    for key, value in given.items():
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


def validate(spec: Spec) -> dict[str, Any]:
    cls = catalog.config_class(spec.model_type)
    # Over a checkpoint's config, even a class default is a change: it is kept.
    return {"config": overrides(cls, spec.config, "config", keep_defaults=spec.pretrained is not None)}


def steps(spec: Spec) -> list[Step]:
    cls = catalog.config_class(spec.model_type)
    kwargs = dict(spec.config)
    if spec.backbone:
        kwargs["backbone_config"] = Ref("backbone_config")
    if spec.pretrained is None:
        return [Step("config", cls.__name__, (), kwargs)]
    target, local_only = hub.resolve(spec.pretrained, "pretrained")
    return [Step("config", f"{cls.__name__}.from_pretrained", (target,), {**kwargs, **hub.NO_REMOTE_CODE},
                 run_kwargs={"local_files_only": True} if local_only else {})]


def field_in_message(message: str, names: list[str], prefix: str = "config") -> str:
    """The config attribute a transformers error message is about: the first of ``names`` it
    mentions, as ``n_heads`` or in words (``hidden size``); else the first name (the user's own edit)."""
    text = message.replace("self.", " ").lower()
    for name in names:
        if re.search(rf"(?<![a-z0-9_]){re.escape(name.lower())}(?![a-z0-9_])", text) or \
                (name.count("_") and name.replace("_", " ").lower() in text):
            return f"{prefix}.{name}"
    return f"{prefix}.{names[0]}" if names else prefix


def failed(spec: Spec, target: str, err: Exception) -> SpecError:
    """transformers' own validation of a config or model, re-raised naming the field."""
    text = one_line(translate.cause(err))
    if isinstance(err, ImportError):  # transformers' requires_backends: an optional package is missing
        return SpecError("architecture", text)
    if not spec.config and not spec.backbone and spec.pretrained is None:
        # Nothing of the user's is involved: it is transformers' own defaults that do not build.
        cls = catalog.config_class(spec.model_type).__name__
        return SpecError("model_type", f"transformers' default {cls} does not build as is: {text}")
    if isinstance(err, KeyError) and len(err.args) == 1:  # a lookup of one of the user's values failed
        given = [name for name, value in spec.config.items() if isinstance(value, str) and value == err.args[0]]
        if given:
            return SpecError(f"config.{given[0]}", f"{shown(err.args[0])} is not a value transformers knows here")
    fields = {f.name: f for f in config_fields(spec.model_type)}
    names = list(dict.fromkeys([*spec.config, *fields]))
    named = translate.strict_field(err)
    where = f"config.{named}" if named in fields else field_in_message(text, names, "config")
    name = where.removeprefix("config.")
    default = fields[name].default if name in fields else None
    return SpecError(where, translate.explained(err, name, spec.config.get(name, default), default))


def check_built(config) -> None:
    """Grouped-query attention: transformers builds the model, but every forward pass would fail."""
    try:
        heads = getattr(config, "num_attention_heads", None)
        kv = getattr(config, "num_key_value_heads", None)
    except RuntimeError:  # a per-layer (heterogeneous) config refuses global reads: nothing to compare
        return
    if isinstance(heads, int) and isinstance(kv, int) and kv > 0 and heads % kv:
        raise SpecError("config.num_key_value_heads", f"must divide num_attention_heads ({heads}); got {kv}")


# Not offered on the config's form: the backbone has its own section, label2id follows id2label.
NOT_OFFERED = {"backbone_config", "label2id"}


def _sub_config_class(name: str | None):
    """The class of a typed sub-config (CLIPTextConfig, …); None for AutoConfig, edited as JSON."""
    if not name or name == "AutoConfig":
        return None
    import transformers

    return getattr(transformers, name, None)


def form_rows(cls, nested: bool) -> list[dict[str, Any]]:
    """The fields of a config class as form rows, typed sub-configs expanded one level; a nested
    config (a sub-config, a backbone's) without the common fields and the head's."""
    out = []
    for field in class_fields(cls):
        if field.name in NOT_OFFERED or (nested and (field.common or field.group == "head")):
            continue
        row = field.to_dict()
        sub = _sub_config_class(field.sub_config) if field.type == "config" and not nested else None
        if sub is not None:
            row["fields"] = form_rows(sub, nested=True)
        out.append(row)
    return out


@remembered(decode=tuple)
def offered(model_type: str) -> tuple[dict[str, Any], ...]:
    """The fields the config section offers for a model type, as form rows (kept by the catalog cache: a
    first render reads them without importing the config class)."""
    return tuple(form_rows(catalog.config_class(model_type), nested=False))


SECTION = Section(keys=("config",), validate=validate, steps=steps, failed=failed,
                  reads=("model_type", "pretrained"))
