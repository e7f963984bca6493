"""PartForm: every option of an image processor or feature extractor class as a form (ViT: size,
resample, do_resize, do_rescale, do_normalize, image_mean, image_std, …), read from the class itself,
so it covers any class transformers ships; and FormAndView, that form beside a preview of the part
(ImagePreview, AudioPreview)."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets

from composer.catalog import default_class, known_classes
from composer.errors import SpecError
from composer.preview.forms import part_form
from composer.sections.parts import PART_KINDS
from composer.spec import Spec
from widgets._base import DesignAPI, DesignWidget, bundle, heading, in_section
from widgets._design import Design
from widgets._preview import CSS, PreviewView, part_class


@functools.lru_cache(maxsize=32)
def _form(key: str, name: str) -> tuple[dict[str, Any], ...] | None:
    """The form of class ``name``; None for a name that is not one (cached too: one is redrawn per edit)."""
    try:
        return tuple(part_form(key, name))
    except SpecError:
        return None


class PartForm(DesignWidget):
    """The class by name and each of its options with the right control; an option set differently from
    the class default is highlighted with a reset, and a bad value is flagged at its option."""

    _esm = bundle("part_form.js")
    _css = CSS

    # Part
    key = traitlets.Enum(tuple(PART_KINDS)).tag(sync=True)  # the Spec section edited
    title = traitlets.Unicode("").tag(sync=True)  # its heading (widgets._base.heading)
    part_class = traitlets.Unicode("").tag(sync=True)
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)  # offered by name in the class field
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, key: str, design: Design | None = None,
                 **kwargs: Any):
        self._key = key  # _state needs it before the traits exist
        super().__init__(spec, design=design, key=key, title=heading(key, "options"), **kwargs)

    def owns(self, path: str) -> bool:
        return in_section(path, self._key)

    def _state(self, design: Design) -> dict[str, Any]:
        name = part_class(design, self._key)
        fields = _form(self._key, name)
        if fields is None:  # a class name being typed: the last valid class's form stays, the error shows
            name = (getattr(design.spec, self._key) or {}).get("class") or \
                default_class(self._key, design.spec.model_type) or PART_KINDS[self._key][2]
            fields = _form(self._key, name)
        return {**super()._state(design), "part_class": name, "fields": list(fields)}

    @traitlets.default("classes")
    def _all_classes(self) -> list[str]:  # fixed by the installed transformers: set once, not per edit
        return list(known_classes(self._key))


class FormAndView(DesignAPI, ipywidgets.HBox):
    """A part's form beside its preview (``view_class``), sharing one design: its own, or a Composer's
    when given ``design``. ``.spec`` is the design; ``.preview`` the view's preview, up to date."""

    view_class: type[PreviewView]

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 error_scope: str = "all", **kwargs: Any):
        self._design = design or Design(spec)
        # Alone it lists every error of the design; in a Composer (error_scope "own") those about its part.
        self.form = PartForm(design=self._design, key=self.view_class.key, error_scope=error_scope,
                             layout=ipywidgets.Layout(flex="1 1 300px", min_width="260px"))
        self.view = self.view_class(design=self._design, layout=ipywidgets.Layout(flex="2 1 440px", min_width="320px"))
        super().__init__([self.form, self.view], layout=ipywidgets.Layout(flex_flow="row wrap"), **kwargs)

    @property
    def preview(self) -> dict[str, Any]:
        return self.view.refresh()

    @property
    def preview_error(self) -> str:
        return self.view.preview_error
