"""ModelTypePicker: every model type the installed transformers knows, searchable, grouped by modality."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.catalog import types_by_modality
from widgets._base import DesignWidget, bundle, in_section
from widgets._design import Design


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
