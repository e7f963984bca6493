"""What the preview views share: a preview recomputed once per burst of changes on the kernel's event
loop (typing never waits for it), a failure shown as one line, files uploaded from the browser, and
the parts a Spec section makes, built by the engine the way the exported code builds them."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Any

import traitlets

from composer.catalog import default_class
from composer.errors import SpecError
from composer.preview import PreviewError
from composer.sections.parts import PART_KINDS
from composer.sections.tokenizer import file_stamps
from composer.spec import Spec
from widgets._base import DesignWidget, bundle, heading
from widgets._design import Coalesce, Design

# The shared look and the previews' own, bundled as one (anywidget takes one stylesheet per widget).
CSS = bundle("preview.css")
MAX_UPLOAD_BYTES = 64 * 2**20  # larger files are refused in the browser: load them by path from Python


def one_line(err: Exception) -> str:
    """What a person reads in the alert: the engine's message, else the exception in one line."""
    if isinstance(err, SpecError):
        return f"{err.field}: {err.message}"
    if isinstance(err, PreviewError):
        return str(err)
    return f"{type(err).__name__}: {' '.join(str(err).split())}"


# ----- parts built from a Spec section ---------------------------------------------------------


def build_part(model_type: str, key: str, section: dict[str, Any], validated: bool) -> tuple[Any, list[str]]:
    """(the tokenizer / image processor / feature extractor of ``section``, the warnings building it
    gave), built by the engine and cached: a preview redrawn per keystroke builds once. A section of the
    design was ``validated`` with it (once per edit, by the Design); another one (the model type's
    default class, shown when the design has none) is validated here."""
    return _build(model_type, key, json.dumps(section, sort_keys=True), file_stamps(section), validated)


@functools.lru_cache(maxsize=8)
def _build(model_type: str, key: str, section: str, stamp: tuple, validated: bool) -> tuple[Any, list[str]]:
    from composer import sections
    from composer.build import build_processors

    normal = json.loads(section)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if not validated:
            spec = Spec(model_type=model_type, **{key: normal})
            normal = sections.check(sections.BY_NAME[key], spec)[key]
        part = build_processors(Spec(model_type=model_type, **{key: normal}))[key]
    return part, list(dict.fromkeys(str(w.message) for w in caught))


def part_class(design: Design, key: str) -> str:
    """The class the design uses for ``key`` (typed, else transformers' pairing for the model type)."""
    return design.section(key).get("class") or default_class(key, design.model_type) or PART_KINDS[key][2]


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 2**10:,.1f} KB" if n >= 2**10 else f"{n} bytes"


def save_upload(folder: str | Path, name: str, data: bytes) -> Path:
    """Keep an uploaded file where the kernel runs, named by its content (the Spec and the exported code
    read it from there, so a changed file is a new path and never a stale cache)."""
    stem, suffix = Path(name).stem, Path(name).suffix
    safe = re.sub(r"[^\w.-]+", "_", stem)[:60] or "upload"
    path = Path(folder).expanduser() / f"{safe}-{hashlib.sha256(data).hexdigest()[:8]}{suffix}"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.write_bytes(data)
    return path


# ----- the view --------------------------------------------------------------------------------


class PreviewView(DesignWidget):
    """A view of what one part of the design (``key``, a Spec section) does to an input. The preview
    is recomputed when the section or the input changes, once per burst; while the section has an
    error the last preview stays and the error is shown at its field."""

    _css = CSS
    key = ""  # the Spec section previewed
    half = ""  # "preview" beside a form (FormAndView); "" where the view is the whole panel
    by_path = ""  # how to give a file too large to upload, e.g. ": preview.load_image(path)"

    # Preview
    title = traitlets.Unicode("").tag(sync=True)  # its heading (widgets._base.heading)
    preview = traitlets.Dict().tag(sync=True)  # images as PNG bytes, waveforms as float32 envelopes
    preview_error = traitlets.Unicode("").tag(sync=True)
    max_upload = traitlets.Int(MAX_UPLOAD_BYTES).tag(sync=True)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 **kwargs: Any):
        design = design or Design(spec)
        self._refresh = Coalesce(self._run_if_changed, design.clock)
        self._shown: Any = None
        super().__init__(design=design, title=heading(self.key, self.half), **kwargs)
        self._run()  # the first preview goes out with the widget

    # ----- what the preview depends on -----------------------------------------------------------

    def section(self) -> dict[str, Any] | None:
        """The section of the last valid design, as its validation normalised it (an edit shows once
        it is valid; while it has an error the last preview stays)."""
        return getattr(self._design.spec, self.key)

    def part(self) -> tuple[Any, list[str]]:
        """The part previewed (the model type's default class when the design has none) and its notes."""
        design, section = self._design, self.section()
        if section is None:
            return build_part(design.model_type, self.key, {"class": part_class(design, self.key)}, validated=False)
        # Until the design's first validation ends (a Composer's runs in the background) the section is checked here.
        part, notes = build_part(design.spec.model_type, self.key, section, validated=design.checked)
        return part, [*design.notes_of(self.key), *notes]

    def _inputs(self) -> Any:
        """Everything the preview depends on, comparable: the section and the view's own inputs."""
        return self._design.model_type, json.dumps(self.section(), sort_keys=True)

    def _compute(self) -> dict[str, Any]:
        raise NotImplementedError

    # ----- recomputing ---------------------------------------------------------------------------

    def _sync(self, design: Design) -> None:
        super()._sync(design)
        self.request()

    def request(self) -> None:
        """Recompute soon if anything the preview depends on changed."""
        if self._inputs() != self._shown:
            self._refresh()

    def refresh(self) -> dict[str, Any]:
        """Recompute now (from Python: after ``edit``, before reading ``preview``)."""
        self._design.flush()
        self._refresh.flush()
        self._run_if_changed()
        return self.preview

    def _run_if_changed(self) -> None:
        if self._inputs() != self._shown:
            self._run()

    def _run(self) -> None:
        self._shown = self._inputs()
        try:
            preview, error = self._compute(), ""
        except Exception as err:  # a part that cannot preview this input: said in one line, never raised
            preview, error = {}, one_line(err)
        with self.hold_sync():
            self.preview, self.preview_error = preview, error

    # ----- files from the browser ----------------------------------------------------------------

    def _on_msg(self, widget, content: Any, buffers: list) -> None:
        if isinstance(content, dict) and "upload" in content:
            raw = buffers[0] if buffers else b""
            try:
                size = memoryview(raw).nbytes  # checked before the bytes are copied
                if size > self.max_upload:
                    raise PreviewError(f"{content.get('name')} is {_size(size)}, over the upload limit of "
                                       f"{_size(self.max_upload)}; load it by path from Python" + self.by_path)
                self.upload(content["upload"], str(content.get("name") or "upload"), bytes(raw))
            except Exception as err:  # a bad file keeps the last input and preview, with the reason
                self.preview_error = one_line(err)
        else:
            try:
                super()._on_msg(widget, content, buffers)
            except Exception as err:  # a malformed message from a front end: said, not lost in the log
                self.preview_error = one_line(err)

    def upload(self, kind: str, name: str, data: bytes) -> None:
        """A file the front end sent (``kind`` says which control)."""
        raise PreviewError(f"this view takes no {kind} upload")
