"""HeadPicker: the architectures of a model type (the base model and every head) with their tasks, and
the head's own fields where they matter (labels for classifiers, problem_type for sequence-level ones)."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.catalog import HEAD_FIELDS, fields_read, heads
from composer.fields import config_fields
from widgets._base import DesignWidget, bundle, field_words, in_section
from widgets._design import RESET, Design


class HeadPicker(DesignWidget):
    """Pick the head; the fields it reads (num_labels, id2label, problem_type) appear with it."""

    _esm = bundle("head_picker.js")

    # Heads
    heads = traitlets.List(traitlets.Dict()).tag(sync=True)  # catalog.Head.to_dict(); the base model first
    head_fields = traitlets.List(traitlets.Dict()).tag(sync=True)  # fields of the chosen head

    def owns(self, path: str) -> bool:
        return in_section(path, "architecture") or (in_section(path, "config") and field_words(path) in HEAD_FIELDS)

    def _state(self, design: Design) -> dict[str, Any]:
        by_name = {f.name: f for f in config_fields(design.model_type)}
        reads = fields_read(design.model_type, design.draft.get("architecture"))
        return {
            **super()._state(design),
            "heads": [h.to_dict() for h in heads(design.model_type)],
            "head_fields": [by_name[n].to_dict() for n in reads if n in by_name],
        }

    def choose(self, architecture: str | None) -> None:
        """Pick the head (None: the base model). Head fields the new head does not read leave the design
        with it: a 3-label classifier becomes a question-answering model (which needs 2) in one step."""
        config = self._design.draft.get("config", {})
        reads = fields_read(self._design.model_type, architecture)
        stale = [n for n in HEAD_FIELDS if n in config and n not in reads]
        self._design.edits({"architecture": architecture, **{f"config.{n}": RESET for n in stale}})

    def _action(self, name: str, content: dict[str, Any]) -> None:
        if name == "choose":
            self.choose(content.get("architecture"))
