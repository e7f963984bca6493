"""Composer: one widget for a whole design, made of the part widgets sharing one Design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets

from composer.spec import Spec
from widgets._base import DesignAPI
from widgets._design import Design
from widgets.audio_preview import AudioPreview
from widgets.backbone_picker import BackbonePicker
from widgets.code_view import CodeView
from widgets.config_form import ConfigForm
from widgets.head_picker import HeadPicker
from widgets.image_preview import ImagePreview
from widgets.model_summary import ModelSummary
from widgets.model_type_picker import ModelTypePicker
from widgets.part_form import FormAndView
from widgets.processor_builder import ProcessorBuilder
from widgets.save_panel import SavePanel
from widgets.tokenizer_preview import TokenizerPreview

# The preprocessing panels, in the guide's order: (title, Spec section, widget class).
PREPROCESSING = (("Tokenizer", "tokenizer", TokenizerPreview),
                 ("Image processor", "image_processor", ImagePreview),
                 ("Feature extractor", "feature_extractor", AudioPreview),
                 ("Processor", "processor", ProcessorBuilder))


class Composer(DesignAPI, ipywidgets.VBox):
    """Pick a model type, edit its config, head and backbone, watch the summary, get the code and save
    the checkpoint. ``Composer(spec=...)`` and ``Composer.from_file(path)`` restore a design, ``.spec``
    returns it and ``.save_spec(path)`` writes it."""

    def __init__(self, spec: Spec | dict | str | Path | None = None, **kwargs: Any):
        self._design = design = Design(spec)
        # Each error is listed once: by the part it is about, the rest by the model-type picker.
        self.type_picker = ModelTypePicker(design=design, error_scope="rest")
        self.head_picker = HeadPicker(design=design, error_scope="own")
        self.backbone_picker = BackbonePicker(design=design, error_scope="own")
        self.config_form = ConfigForm(design=design, hide_groups=["head"], error_scope="own")
        self.model_summary = ModelSummary(design=design)
        self.code_view = CodeView(design=design)
        self.save_panel = SavePanel(design=design)
        edit = ipywidgets.VBox([self.head_picker, self.backbone_picker, self.config_form],
                               layout=ipywidgets.Layout(flex="1 1 420px", min_width="320px"))
        self.model_summary.layout = ipywidgets.Layout(flex="1 1 360px", min_width="300px")
        self.model_summary.add_class("tc-sticky")
        middle = ipywidgets.HBox([edit, self.model_summary],
                                 layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        # Built when first opened: a preview computes on construction, and most designs use one or two.
        self.preprocessing = ipywidgets.Accordion([ipywidgets.VBox() for _ in PREPROCESSING],
                                                  titles=[title for title, _, _ in PREPROCESSING])
        self.preprocessing.observe(self._open_panel, "selected_index")
        super().__init__([self.type_picker, middle, self.preprocessing, self.code_view, self.save_panel], **kwargs)
        self.add_class("tc-composer")
        design.subscribe(self._show_backbone_picker)
        self._show_backbone_picker(design)

    def preview(self, section: str):
        """The preprocessing panel of a Spec section ("tokenizer", "image_processor", "feature_extractor",
        "processor"), opened and built if it was not yet."""
        index = next((i for i, (_, key, _) in enumerate(PREPROCESSING) if key == section), None)
        if index is None:
            raise ValueError(f"no preview of {section!r}; choose {', '.join(k for _, k, _ in PREPROCESSING)}")
        self.preprocessing.selected_index = index
        return self.preprocessing.children[index].children[0]

    def _open_panel(self, change) -> None:
        index = change["new"]
        if index is None or self.preprocessing.children[index].children:
            return
        _, key, widget_class = PREPROCESSING[index]
        scope = {} if issubclass(widget_class, FormAndView) else {"error_scope": "own"}  # a form pair scopes its own
        self.preprocessing.children[index].children = [widget_class(design=self._design, **scope)]
        # Its errors are listed in its panel now, no longer by the model-type picker.
        self.type_picker.listed_elsewhere = [*self.type_picker.listed_elsewhere, key]

    def _show_backbone_picker(self, design: Design) -> None:
        self.backbone_picker.layout.display = None if self.backbone_picker.takes_backbone else "none"
