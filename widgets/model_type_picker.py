"""ModelTypePicker: every model type the installed transformers knows, searchable, grouped by modality."""

from __future__ import annotations

import functools
from typing import Any

import traitlets

from composer.catalog import modality, model_types
from widgets._base import DesignWidget, bundle, in_section
from widgets._design import Design

MODALITIES = ("text", "vision", "audio", "multimodal")


@functools.cache
def types_by_modality() -> dict[str, list[str]]:
    """{modality: [model types]}; computed once per process (~0.1 s for all 800+ types)."""
    groups: dict[str, list[str]] = {m: [] for m in MODALITIES}
    for model_type in model_types():
        groups.setdefault(modality(model_type), []).append(model_type)
    return groups


class ModelTypePicker(DesignWidget):
    """Choosing a model type starts a fresh design of that type (its config, head and backbone reset)."""

    _esm = bundle("model_type_picker.js")

    # Catalog
    types = traitlets.Dict().tag(sync=True)

    # Errors: with error_scope "rest", those of these Spec sections are listed by another part
    listed_elsewhere = traitlets.List(traitlets.Unicode(), ["config", "backbone", "architecture"])

    def owns(self, path: str) -> bool:
        return in_section(path, "model_type") or not in_section(path, *self.listed_elsewhere)

    @traitlets.observe("listed_elsewhere")
    def _relist(self, change) -> None:
        self.view_errors = self._errors(self._design)

    def _state(self, design: Design) -> dict[str, Any]:
        return {**super()._state(design), "types": types_by_modality()}
