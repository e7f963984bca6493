"""ImagePreview: an image processor's form beside what it does to one image, original → resized/cropped
→ normalised (and each channel), with the tensor's shape, value range and per-channel mean and std.
Images reach the browser as small PNGs; an upload comes back as the file's bytes."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import traitlets

from composer.preview.image import image_preview, load_image, sample_image_path
from composer.spec import Spec
from widgets._base import bundle
from widgets._preview import PreviewView
from widgets.part_form import FormAndView

SAMPLE = "grace_hopper.jpg (sample photo)"  # matplotlib's sample_data, see sample_image_path


@functools.cache
def _sample():
    return load_image(sample_image_path())[0]


class ImageView(PreviewView):
    """The preview half: one image through the design's image processor, redrawn on every option change."""

    _esm = bundle("image_preview.js")
    key = "image_processor"
    half = "preview"  # beside its options (FormAndView)
    lists_errors = False  # its form lists them
    by_path = ": preview.load_image(path)"

    # Input
    source = traitlets.Unicode(SAMPLE).tag(sync=True)  # what is previewed: the sample photo or a file's name

    def __init__(self, spec: Spec | dict | str | Path | None = None, **kwargs: Any):
        self._image, self._notes = None, []  # None: the sample photo
        self._loads = 0  # counts images loaded: a new image may reuse a freed one's id(), never its number
        super().__init__(spec, **kwargs)

    def load_image(self, image: Any, name: str | None = None) -> None:
        """Preview ``image`` (a path, bytes or PIL image). A file that cannot be shown raises
        PreviewError with the reason; the previous image stays."""
        self._image, self._notes = load_image(image, name=name)
        self._loads += 1
        self.source = name or (Path(image).name if isinstance(image, (str, Path)) else "your image")
        self.request()

    def use_sample(self) -> None:
        self._image, self._notes, self.source = None, [], SAMPLE
        self._loads += 1
        self.request()

    def upload(self, kind: str, name: str, data: bytes) -> None:
        self.load_image(data, name)

    def _action(self, name: str, content: dict) -> None:
        if name == "sample":
            self.use_sample()

    def _inputs(self) -> Any:
        return (*super()._inputs(), self._loads)

    def _compute(self) -> dict[str, Any]:
        processor, notes = self.part()
        result = image_preview(processor, _sample() if self._image is None else self._image)
        result["warnings"] = [*notes, *self._notes, *result["warnings"]]
        return result


class ImagePreview(FormAndView):
    """Edit an image processor and watch one image go through it. ``ImagePreview(spec=...)`` restores
    a design, ``.spec`` returns it (its ``image_processor`` section is what this edits), and
    ``load_image(path)`` previews your own picture."""

    view_class = ImageView

    def load_image(self, image: Any, name: str | None = None) -> None:
        self.view.load_image(image, name)

    def use_sample(self) -> None:
        self.view.use_sample()
