"""ConfigForm: the config of a design as a form generated from the engine's fields, for any config class."""

from __future__ import annotations

import functools
from typing import Any

import traitlets

from composer.catalog import HEAD_FIELDS, backbone_types, config_class
from composer.fields import class_fields
from widgets._base import DesignWidget, field_words, in_section, view_module
from widgets._design import Design

# Not on this form: the backbone has its own picker, label2id follows id2label.
SKIPPED = {"backbone_config", "label2id"}


def _sub_config_class(name: str | None):
    """The class of a typed sub-config (CLIPTextConfig, …); None for AutoConfig, edited as JSON."""
    if not name or name == "AutoConfig":
        return None
    import transformers

    return getattr(transformers, name, None)


def _payload(cls, nested: bool) -> list[dict]:
    out = []
    for field in class_fields(cls):
        if field.name in SKIPPED or (nested and (field.common or field.group == "head")):
            continue
        row = field.to_dict()
        sub = _sub_config_class(field.sub_config) if field.type == "config" and not nested else None
        if sub is not None:
            row["fields"] = _payload(sub, nested=True)
        out.append(row)
    return out


@functools.cache
def form_fields(model_type: str) -> tuple[dict, ...]:
    """The fields of a model type's config, typed sub-configs expanded one level."""
    return tuple(_payload(config_class(model_type), nested=False))


@functools.cache
def backbone_form_fields(model_type: str) -> tuple[dict, ...]:
    """The fields of a transformers backbone's own config (ResNet depths, …), without the common ones."""
    return tuple(_payload(config_class(model_type), nested=True))


class ConfigForm(DesignWidget):
    """Every config field with the right control, grouped, filterable; non-default values are
    highlighted with a reset, and a bad value is flagged at its field while the last valid design
    stays live."""

    _esm = view_module("config_form.js")

    # Form
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)
    backbone_fields = traitlets.List(traitlets.Dict()).tag(sync=True)

    # Layout
    hide_groups = traitlets.List(traitlets.Unicode()).tag(sync=True)  # ["head"] beside a HeadPicker

    def owns(self, path: str) -> bool:
        """The config's fields and the backbone's own config; the head's fields when they are shown here."""
        head = "head" in self.hide_groups and in_section(path, "config") and field_words(path) in HEAD_FIELDS
        return (in_section(path, "config") and not head) or path.startswith("backbone.config")

    @traitlets.observe("hide_groups")
    def _regroup(self, change) -> None:
        self.view_errors = self._errors(self._design)

    def _state(self, design: Design) -> dict[str, Any]:
        backbone = design.section("backbone")
        return {
            **super()._state(design),
            "fields": list(form_fields(design.model_type)),
            "backbone_fields": (list(backbone_form_fields(backbone["model_type"]))
                                if backbone.get("model_type") in backbone_types() else []),
        }
