"""ConfigForm: the config of a design as a form generated from the engine's fields, for any config class."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.catalog import HEAD_FIELDS
from composer.sections import backbone as backbone_section
from composer.sections import config as config_section
from widgets._base import DesignWidget, bundle, field_words, in_section
from widgets._design import Design


class ConfigForm(DesignWidget):
    """Every config field with the right control, grouped, filterable; non-default values are
    highlighted with a reset, and a bad value is flagged at its field while the last valid design
    stays live."""

    _esm = bundle("config_form.js")

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
            "fields": list(config_section.offered(design.model_type)),
            "backbone_fields": list(backbone_section.offered(backbone.get("model_type"))),
        }
