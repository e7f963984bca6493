"""HeadPicker: the architectures of a model type (the base model and every head) with their tasks, and
the head's own fields where they matter (labels for classifiers, problem_type for sequence-level ones)."""

from __future__ import annotations

import re
from typing import Any

import traitlets

from composer.catalog import heads
from composer.fields import config_fields
from widgets._base import DesignWidget, view_module
from widgets._design import Design

# By transformers' task names (its AutoModelFor… mappings): heads that predict classes need labels;
# those whose loss is picked by problem_type (regression / single- / multi-label) also get that.
LABELLED = re.compile(r"^(?!zero-shot).*(classification|detection|segmentation|xvector)")
PROBLEM_TYPED = {"sequence-classification", "image-classification", "audio-classification",
                 "video-classification"}


def head_field_names(task: str) -> list[str]:
    names = ["num_labels", "id2label"] if LABELLED.match(task) else []
    return names + ["problem_type"] if task in PROBLEM_TYPED else names


class HeadPicker(DesignWidget):
    """Pick the head; the fields it reads (num_labels, id2label, problem_type) appear with it."""

    _esm = view_module("head_picker.js")

    # Heads
    heads = traitlets.List(traitlets.Dict()).tag(sync=True)  # {name, task}; the base model first
    head_fields = traitlets.List(traitlets.Dict()).tag(sync=True)  # fields of the chosen head

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
