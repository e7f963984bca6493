"""ProcessorBuilder: combine the design's feature extractor or image processor with a tokenizer into the
model type's processor class (Wav2Vec2Processor, CLIPProcessor, …), preview both halves on one input,
then save it and prove that AutoProcessor reloads it with identical outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import traitlets

from composer.errors import SpecError
from composer.catalog import default_class, known_classes
from composer.preview.processor import SAMPLE_TEXT, processor_preview, save_processor
from composer.classes import processor_attributes, transformers_class
from composer.spec import Spec
from widgets._base import bundle, in_section
from widgets._design import Design
from widgets._preview import PreviewView, one_line

PARTS = ("tokenizer", "image_processor", "feature_extractor", "processor")


def _describe(attribute: str, section: dict[str, Any]) -> str:
    """One line saying what the design has for a part, or "" if nothing. The draft's section is read as
    typed (its errors are listed elsewhere), so nothing in it is assumed."""
    if not section:
        return ""
    name = str(section.get("class") or "")
    if attribute != "tokenizer":
        return name or "the model type’s class"
    train = section.get("train")
    if isinstance(train, dict):
        files = train.get("files") if isinstance(train.get("files"), list) else []
        return f"{name or 'the model type’s tokenizer'} trained on {len(train.get('text') or [])} lines" + \
            (f" and {len(files)} file(s)" if files else "")
    source = next((k for k in ("vocab_file", "pretrained") if k in section), None)
    return f"{name + ' from ' if name else ''}{source} {section[source]}" if source else name


class ProcessorBuilder(PreviewView):
    """Pick the processor class, give the parts the design lacks, press Build processor to see both
    halves on one input and the save → AutoProcessor round trip, then Save it to a folder.
    ``ProcessorBuilder(spec=...)`` restores a design and ``.spec`` returns it (its ``processor`` is
    what this sets, with any part given here); ``build()`` and ``save()`` do the same from Python."""

    _esm = bundle("processor_builder.js")
    key = "processor"

    # Processor
    processor_classes = traitlets.List(traitlets.Unicode()).tag(sync=True)
    default_processor = traitlets.Unicode("").tag(sync=True)  # the model type's own ("" if none)
    chosen = traitlets.Unicode("").tag(sync=True)  # typed in the processor field, not yet built
    parts = traitlets.List(traitlets.Dict()).tag(sync=True)  # each part the chosen class combines

    # Input
    text = traitlets.Unicode(SAMPLE_TEXT).tag(sync=True)

    # Saving
    folder = traitlets.Unicode("processor").tag(sync=True)
    status = traitlets.Unicode("").tag(sync=True)

    def _state(self, design: Design) -> dict[str, Any]:
        return {**super()._state(design), "default_processor": default_class("processor", design.model_type) or "",
                "parts": self._parts(design)}

    @traitlets.default("processor_classes")
    def _all_classes(self) -> list[str]:  # fixed by the installed transformers: set once, not per edit
        return list(known_classes("processor"))

    def _parts(self, design: Design) -> list[dict[str, Any]]:
        """What the chosen class combines, what the design has for each and the model type's default."""
        name = self.chosen or design.draft.get("processor") or default_class("processor", design.model_type)
        try:
            attributes = processor_attributes(transformers_class(name, "ProcessorMixin", "processor",
                                                                 "Wav2Vec2Processor")) if name else []
        except SpecError:
            attributes = []
        return [{"attribute": a, "has": _describe(a, design.section(a)),
                 "default": default_class(a, design.model_type) or ""} for a in attributes]

    @traitlets.observe("chosen")
    def _chosen_changed(self, change) -> None:
        self.parts = self._parts(self._design)

    def owns(self, path: str) -> bool:
        return in_section(path, "processor")

    def _spec(self) -> Spec:
        """The last valid design (an edit shows once it is valid)."""
        return self._design.spec

    def _inputs(self) -> Any:
        spec = self._spec()
        return spec.model_type, json.dumps([getattr(spec, k) for k in PARTS], sort_keys=True), self.text

    @traitlets.observe("text")
    def _text_changed(self, change) -> None:
        self.request()

    def _compute(self) -> dict[str, Any]:
        spec = self._spec()
        return processor_preview(spec, text=self.text) if spec.processor else {}

    # ----- actions -------------------------------------------------------------------------------

    def build(self, processor: str | None = None, **parts: dict[str, Any]) -> dict[str, Any]:
        """Set the processor class (default: the model type's) and any part given as a Spec section,
        e.g. ``build(tokenizer={"vocab_file": "vocab.json"})``; returns the preview."""
        name = processor or self.chosen or self._design.draft.get("processor") or self.default_processor
        if not name:
            raise SpecError("processor", f"transformers pairs no processor with {self._design.model_type}; "
                            "name one, e.g. Wav2Vec2Processor")
        unknown = set(parts) - set(PARTS[:3])
        if unknown:
            raise SpecError("processor", f"unknown part {sorted(unknown)[0]!r}; parts are {', '.join(PARTS[:3])}")
        self._design.edits({"processor": name, **{k: v for k, v in parts.items() if v}})
        return self.refresh()

    def save(self, folder: str | Path | None = None) -> dict[str, Any]:
        """save_pretrained to ``folder`` (default: the ``folder`` field), reload it with AutoProcessor
        and compare outputs on the preview's input; the status says what came back."""
        self._design.flush()
        spec = self._spec()
        report = save_processor(spec, folder or self.folder, text=self.text)
        parts = ", ".join(f"{k}: {v}" for k, v in report["parts"].items())
        verdict = "identical outputs" if report["identical"] else f"outputs that differ in {', '.join(report['differ'])}"
        self.status = (f"Saved {spec.processor} to {report['folder']} ({', '.join(report['files'])}). "
                       f"AutoProcessor reloaded it as {report['class']} ({parts}) with {verdict}.")
        return report

    def _action(self, name: str, content: dict[str, Any]) -> None:
        try:
            if name == "build":
                self.status = ""
                self.build(content.get("processor") or None, **(content.get("parts") or {}))
            elif name == "save":
                self.status = "Saving…"  # as the page shows it: a second save's same report is then a change
                self.save(content.get("folder") or None)
        except Exception as err:  # said in the status line, next to the button pressed
            self.status = f"Failed: {one_line(err)}"
