"""What every view of a design shares: the Spec it shows, the draft being typed and its errors, the
edit messages its front end sends, and the Python calls a notebook user makes (jupyter-scatter style:
methods on the widget, traits synced underneath)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anywidget
import traitlets

from composer.spec import Spec
from widgets._design import RESET, Design

# The front-end modules, one per view, and their stylesheet (in the wheel as widgets/js).
JS = Path(__file__).parent / "js"


def view_module(name: str) -> str:
    """A view's ES module: the DOM helpers every view shares (js/dom.js), then the view's own file."""
    return (JS / "dom.js").read_text(encoding="utf-8") + "\n" + (JS / name).read_text(encoding="utf-8")


class SpecTrait(traitlets.TraitType):
    """A validated composer Spec; accepts a Spec, a spec dict or a path, syncs as the spec's JSON."""

    info_text = "a composer Spec, a spec dict or the path of a spec.json"

    def validate(self, obj, value):
        from composer.spec import as_spec
        from composer.validation import ready

        return ready(as_spec(value))  # SpecError (a ValueError naming the field) if it is not valid


def _spec_json(spec: Spec, widget) -> dict:
    return spec.to_dict()


class DesignAPI:
    """The Python side of a design: restore, edit, save. Mixed into every widget of the package."""

    _design: Design

    @property
    def spec(self) -> Spec:
        """The last valid design (a composer Spec); assigning one checks it first. (A DesignWidget
        replaces this with a synced trait that does the same.)"""
        return self._design.spec

    @spec.setter
    def spec(self, value: Spec | dict | str | Path) -> None:
        self._design.replace(value)

    @classmethod
    def from_file(cls, path: str | Path, **kwargs: Any):
        """A widget showing the design saved at ``path`` (a spec.json or a checkpoint folder)."""

        return cls(spec=Spec.load(path), **kwargs)

    @classmethod
    def from_config(cls, path: str | Path, **kwargs: Any):
        """A widget showing the design of a config.json (a file, a folder holding one, or a hub id),
        with random initial weights: the guide's first step (composer.importing.spec_from_config)."""
        from composer.importing import spec_from_config

        return cls(spec=spec_from_config(path), **kwargs)

    def save_spec(self, path: str | Path) -> Path:
        """Write the current (last valid) design as a spec.json; ``from_file`` reads it back."""
        self._design.spec.save(path)
        return Path(path)

    def edit(self, path: str, value: Any) -> None:
        """Change one value as the form does, e.g. ``edit("config.n_layers", 3)``."""
        self._design.edit(path, value)

    def reset(self, path: str) -> None:
        """Put one value back to its default, e.g. ``reset("config.n_layers")``."""
        self._design.reset(path)

    def flush(self) -> None:
        """Rebuild now instead of after the short pause that coalesces a burst of edits."""
        self._design.flush()

    @property
    def errors(self) -> dict[str, str]:
        """What is wrong with the current edit, by field (empty when the design is valid)."""
        return dict(self._design.errors)


class DesignWidget(DesignAPI, anywidget.AnyWidget):
    """An anywidget bound to a Design. Alone it owns one; inside a Composer it shares the Composer's."""

    _css = JS / "composer.css"

    # Design (written by Python only; the front end sends edits as messages)
    spec = SpecTrait().tag(sync=True, to_json=_spec_json)
    draft = traitlets.Dict().tag(sync=True)
    errors = traitlets.Dict().tag(sync=True)
    pending = traitlets.Bool(False).tag(sync=True)

    # Errors: which ones this view lists. "all": every error of the design, at its control or on top
    # (a view used alone); "own": only those about this part; "rest": those about no part (a Composer
    # shows them once, on its model-type picker).
    error_scope = traitlets.Enum(("all", "own", "rest"), "all").tag(sync=True)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 **kwargs: Any):
        self._design = design or Design(spec)
        self._syncing = True  # the first state goes out with the widget, not as updates after it
        super().__init__(**{**self._state(self._design), **kwargs})
        self._syncing = False
        self._design.subscribe(self._sync)
        self.on_msg(self._on_msg)

    def _state(self, design: Design) -> dict[str, Any]:
        """This view's synced traits, from the design; views add what they show."""
        return {"spec": design.spec, "draft": design.draft, "errors": design.errors, "pending": design.pending}

    def _sync(self, design: Design) -> None:
        self._syncing = True
        try:
            with self.hold_sync():
                for name, value in self._state(design).items():
                    setattr(self, name, value)
        finally:
            self._syncing = False

    @traitlets.observe("spec")
    def _spec_set_from_python(self, change) -> None:
        if not self._syncing and change.new is not self._design.spec:
            self._design.replace(change.new)

    # ----- messages from the front end ------------------------------------------------------------

    def _on_msg(self, widget, content: Any, buffers: list) -> None:
        if not isinstance(content, dict):
            return
        if "edit" in content or "reset" in content:  # one message may set some fields and reset others
            changes = dict(content.get("edit", {}))
            changes.update({path: RESET for path in content.get("reset", [])})
            self._design.edits(changes)
        elif "action" in content:
            self._action(content["action"], content)

    def _action(self, name: str, content: dict) -> None:
        """Buttons other than edits (save, verify, …), for the views that have them."""
