"""HeadPicker: the architectures of a model type (the base model and every head) with their tasks, and
the head's own fields where they matter (labels for classifiers, problem_type for sequence-level ones)."""

from __future__ import annotations

import re
from typing import Any

import traitlets

from composer.catalog import heads
from composer.fields import config_fields
from widgets._base import DesignWidget, field_words, in_section, view_module
from widgets._design import RESET, Design

# By transformers' task names (its AutoModelFor… mappings): heads that predict classes need labels;
# those whose loss is picked by problem_type (regression / single- / multi-label) also get that.
LABELLED = re.compile(r"^(?!zero-shot).*(classification|detection|segmentation|xvector)")
PROBLEM_TYPED = {"sequence-classification", "image-classification", "audio-classification",
                 "video-classification"}
HEAD_FIELDS = ("num_labels", "id2label", "label2id", "problem_type")


def head_field_names(task: str) -> list[str]:
    names = ["num_labels", "id2label"] if LABELLED.match(task) else []
    return names + ["problem_type"] if task in PROBLEM_TYPED else names


class HeadPicker(DesignWidget):
    """Pick the head; the fields it reads (num_labels, id2label, problem_type) appear with it."""

    _esm = view_module("head_picker.js")

    # Heads
    heads = traitlets.List(traitlets.Dict()).tag(sync=True)  # {name, task}; the base model first
    head_fields = traitlets.List(traitlets.Dict()).tag(sync=True)  # fields of the chosen head

    def owns(self, path: str) -> bool:
        return in_section(path, "architecture") or (in_section(path, "config") and field_words(path) in HEAD_FIELDS)

    def _state(self, design: Design) -> dict[str, Any]:
        options = heads(design.model_type)
        chosen = design.draft.get("architecture")
        task = next((h.task for h in options if h.name == chosen), "base")
        by_name = {f.name: f for f in config_fields(design.model_type)}
        return {
            **super()._state(design),
            "heads": [{"name": h.name, "task": h.task} for h in options],
            "head_fields": [by_name[n].to_dict() for n in head_field_names(task) if n in by_name],
        }

    def choose(self, architecture: str | None) -> None:
        """Pick the head (None: the base model). Head fields the new head does not read leave the design
        with it: a 3-label classifier becomes a question-answering model (which needs 2) in one step."""
        task = next((h.task for h in heads(self._design.model_type) if h.name == architecture), "base")
        config = self._design.draft.get("config", {})
        stale = [n for n in HEAD_FIELDS if n in config and n not in head_field_names(task)]
        self._design.edits({"architecture": architecture, **{f"config.{n}": RESET for n in stale}})

    def _action(self, name: str, content: dict[str, Any]) -> None:
        if name == "choose":
            self.choose(content.get("architecture"))
