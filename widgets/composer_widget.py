"""Composer: one widget for a whole design, made of the part widgets sharing one Design."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ipywidgets

from composer.catalog import modality, uses
from composer.spec import Spec
from widgets._base import SECTION_TITLES, DesignAPI, field_words, in_section
from widgets._design import Design
from widgets.architecture_view import ArchitectureView
from widgets.audio_preview import AudioPreview
from widgets.backbone_picker import BackbonePicker
from widgets.code_view import CodeView
from widgets.compare import Compare
from widgets.config_form import ConfigForm
from widgets.head_picker import HeadPicker
from widgets.image_preview import ImagePreview
from widgets.model_summary import ModelSummary
from widgets.model_type_picker import ModelTypePicker
from widgets.panel_toggle import PanelToggle
from widgets.processor_builder import ProcessorBuilder
from widgets.save_panel import SavePanel
from widgets.tokenizer_preview import TokenizerPreview

# The preprocessing panels, in the guide's order: (Spec section, widget class); titled by SECTION_TITLES.
PREPROCESSING = (("tokenizer", TokenizerPreview), ("image_processor", ImagePreview),
                 ("feature_extractor", AudioPreview), ("processor", ProcessorBuilder))


def unused_note(model_type: str, section: str) -> str:
    """What a panel's heading says when the model type does not read what its section makes, for a
    model of any modality: "not used by a text model (distilbert)"; "" when it does."""
    if uses(model_type, section):
        return ""
    kind = modality(model_type)
    return f"not used by {'an' if kind[0] in 'aeiou' else 'a'} {kind} model ({model_type})"


class Composer(DesignAPI, ipywidgets.VBox):
    """Pick a model type, edit its config, head and backbone, watch the summary and the architecture
    drawing, get the code and save the checkpoint. ``Composer(spec=...)`` and ``Composer.from_file(path)``
    restore a design, ``.spec`` returns it and ``.save_spec(path)`` writes it."""

    def __init__(self, spec: Spec | dict | str | Path | None = None, **kwargs: Any):
        # In a kernel it is drawn at once from the catalog cache; the summary and code fill in when the
        # design's validation (importing torch and transformers, on the worker) ends.
        self._design = design = Design(spec, background=True)
        # Each error is listed once: by the part it is about, the rest by the model-type picker.
        self.type_picker = ModelTypePicker(design=design, error_scope="rest")
        self.head_picker = HeadPicker(design=design, error_scope="own")
        self.backbone_picker = BackbonePicker(design=design, error_scope="own")
        self.config_form = ConfigForm(design=design, hide_groups=["head"], error_scope="own")
        self.model_summary = ModelSummary(design=design)
        self.architecture_view = ArchitectureView(design=design)
        self.code_view = CodeView(design=design)
        self.save_panel = SavePanel(design=design)
        self.compare_panel = Compare(design=design, save_panel=self.save_panel, expanded=False)
        edit = ipywidgets.VBox([self.head_picker, self.backbone_picker, self.config_form],
                               layout=ipywidgets.Layout(flex="1 1 420px", min_width="320px"))
        # The summary and the drawing beside the form, in view while the form scrolls.
        side = ipywidgets.VBox([self.model_summary, self.architecture_view],
                               layout=ipywidgets.Layout(flex="1 1 360px", min_width="300px"))
        side.add_class("tc-sticky")
        middle = ipywidgets.HBox([edit, side],
                                 layout=ipywidgets.Layout(flex_flow="row wrap", align_items="flex-start"))
        # Built when first opened: a preview computes on construction, and most designs use one or two.
        self.toggles = {key: PanelToggle(title=SECTION_TITLES[key]) for key, _ in PREPROCESSING}
        self.bodies = {key: ipywidgets.VBox(layout=ipywidgets.Layout(display="none")) for key, _ in PREPROCESSING}
        for key, toggle in self.toggles.items():
            toggle.observe(lambda change, key=key: self._show_panel(key), "expanded")
        self.preprocessing = ipywidgets.VBox([w for key, _ in PREPROCESSING for w in (self.toggles[key], self.bodies[key])])
        super().__init__([self.type_picker, middle, self.preprocessing, self.code_view, self.save_panel,
                          self.compare_panel], **kwargs)
        self.add_class("tc-composer")
        design.subscribe(self._follow)
        self._follow(design)

    def preview(self, section: str):
        """The preprocessing panel of a Spec section ("tokenizer", "image_processor", "feature_extractor",
        "processor"), opened and built if it was not yet."""
        if section not in self.toggles:
            raise ValueError(f"no preview of {section!r}; choose {', '.join(self.toggles)}")
        self.toggles[section].expanded = True
        return self.bodies[section].children[0]

    def _show_panel(self, key: str) -> None:
        body, widget_class = self.bodies[key], dict(PREPROCESSING)[key]
        if self.toggles[key].expanded and not body.children:
            body.children = [widget_class(design=self._design, error_scope="own")]
            # Its errors are listed in its panel now, no longer by the model-type picker.
            self.type_picker.listed_elsewhere = [*self.type_picker.listed_elsewhere, key]
        body.layout.display = None if self.toggles[key].expanded else "none"

    def _follow(self, design: Design) -> None:
        """Each panel's heading says where its section's errors are, and that the model does not read
        what it makes (it stays open to use: a design may still want one); the backbone picker shows
        when the model type takes one."""
        for key, toggle in self.toggles.items():
            toggle.problems = [field_words(p) or SECTION_TITLES[key] for p in design.errors if in_section(p, key)]
            toggle.note = unused_note(design.model_type, key)
        self.backbone_picker.layout.display = None if self.backbone_picker.takes_backbone else "none"
