"""What every view of a design shares: the Spec it shows, the draft being typed and its errors, the
edit messages its front end sends, and the Python calls a notebook user makes (jupyter-scatter style:
methods on the widget, traits synced underneath)."""

from __future__ import annotations

import weakref
from pathlib import Path
from typing import Any

import anywidget
import ipywidgets
import traitlets

from composer.spec import Spec
from widgets._design import RESET, Design

# The front end as esbuild bundles it from js/ (`npm run build`, run by make; the wheel carries it).
STATIC = Path(__file__).parent / "static"


def bundle(name: str) -> Path:
    """A built view module or stylesheet, given to anywidget as a path (it live-reloads the file when
    ANYWIDGET_HMR=1 and `npm run dev` rebuilds it)."""
    path = STATIC / name
    if not path.is_file():
        raise ImportError(f"{path} is missing: the front end is built by `make` (npm ci && npm run build)")
    return path


# The Spec's sections in words, as the panels are titled (a notice says where an error is).
SECTION_TITLES = {"model_type": "Model type", "architecture": "Head", "config": "Config", "backbone": "Backbone",
                  "tokenizer": "Tokenizer", "image_processor": "Image processor",
                  "feature_extractor": "Feature extractor", "processor": "Processor", "pretrained": "Pretrained",
                  "resized": "Pretrained", "seed": "Seed"}


def heading(section: str, half: str = "") -> str:
    """A panel's heading: its section's title, then which half where the panel shows a form beside a
    preview ("Image processor options", "Image processor preview"): one naming scheme for every panel."""
    return f"{SECTION_TITLES[section]} {half}" if half else SECTION_TITLES[section]


def section_of(path: str) -> str:
    """The Spec section an error's field is in: its first part ("tokenizer.options.padding_side")."""
    return path.split(".", 1)[0]


def in_section(path: str, *sections: str) -> bool:
    return section_of(path) in sections


def field_words(path: str) -> str:
    """The field of an error within its section, as its panel labels it: "padding_side" for
    tokenizer.options.padding_side, "n_heads" for config.n_heads, "" for the section itself."""
    rest = path.partition(".")[2]
    return rest.removeprefix("options.")


def where(path: str) -> str:
    """Where an error is, for a person: "padding_side in Tokenizer", "Backbone", "the design"."""
    title = SECTION_TITLES.get(section_of(path), section_of(path))
    field = field_words(path)
    return f"{field} in {title}" if field and title else title or "the design"


def notice(errors: dict[str, str]) -> str:
    """The summary's and the code's line while the edit has errors: where the first one is."""
    if not errors:
        return ""
    more = len(errors) - 1
    return (f"Showing the last valid design: an error at {where(next(iter(errors)))}"
            + (f" and {more} more" if more else "") + ".")


class DesignState(ipywidgets.Widget):
    """The design as the page sees it, one model per design however many views show it: each view
    holds a reference (the anywidget composition pattern), so an edit sends the draft once."""

    draft = traitlets.Dict().tag(sync=True)  # what was typed, valid or not
    pending = traitlets.Bool(False).tag(sync=True)  # the summary and code are about to change
    notice = traitlets.Unicode("").tag(sync=True)  # where the edit's error is, in words ("" if none)

    def __init__(self, design: Design):
        super().__init__(**self._state(design))
        design.subscribe(self._sync)

    @staticmethod
    def _state(design: Design) -> dict[str, Any]:
        return {"draft": design.draft, "pending": design.pending, "notice": notice(design.errors)}

    def _sync(self, design: Design) -> None:
        with self.hold_sync():
            for name, value in self._state(design).items():
                setattr(self, name, value)


_STATES: weakref.WeakKeyDictionary[Design, DesignState] = weakref.WeakKeyDictionary()


def shared_state(design: Design) -> DesignState:
    """The one DesignState of ``design``."""
    if design not in _STATES:
        _STATES[design] = DesignState(design)
    return _STATES[design]


class DesignAPI:
    """The Python side of a design: restore, edit, save. Mixed into every widget of the package."""

    _design: Design

    @property
    def spec(self) -> Spec:
        """The last valid design (a composer Spec; waits for a Composer's first validation, SpecError if
        the design was never valid); assigning one (a Spec, a spec dict or the path of a spec.json) checks
        it first: SpecError, naming the field, if it is not valid."""
        return self._design.valid()

    @spec.setter
    def spec(self, value: Spec | dict | str | Path) -> None:
        from composer.spec import as_spec

        self._design.replace(as_spec(value))

    @property
    def draft(self) -> dict[str, Any]:
        """The design as typed, valid or not."""
        return self._design.draft

    @property
    def pending(self) -> bool:
        """The summary and code are about to change (a rebuild is scheduled or running)."""
        return self._design.pending

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
        self._design.valid().save(path)
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
    """An anywidget bound to a Design. Alone it owns one; inside a Composer it shares the Composer's.
    The design itself reaches the page once, in the shared DesignState; a view's own traits carry what
    only it shows, and the errors it lists (``view_errors``)."""

    _css = bundle("composer.css")

    # Design: a reference to the one model of the design (draft, pending, notice)
    design = anywidget.WidgetTrait().tag(sync=True)  # a DesignState, sent as "anywidget:<model id>"

    # Errors: which ones this view lists. "all": every error of the design, at its control or on top
    # (a view used alone); "own": only those about this part; "rest": those about no part (a Composer
    # shows them once, on its model-type picker).
    error_scope = traitlets.Enum(("all", "own", "rest"), "all")
    view_errors = traitlets.Dict().tag(sync=True)
    lists_errors = True  # False for views that only say where an error is (the design's notice)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 error_scope: str = "all", **kwargs: Any):
        self._design = design or Design(spec)
        self._scope = error_scope  # read by _state before the traits are set
        # The first state goes out with the widget, not as updates after it.
        super().__init__(**{"design": shared_state(self._design), "error_scope": error_scope,
                            **self._state(self._design), **kwargs})
        self._design.subscribe(self._sync)
        self.on_msg(self._on_msg)

    def owns(self, path: str) -> bool:
        """Whether an error at ``path`` is about this part of the design (views say which)."""
        return False

    def _errors(self, design: Design) -> dict[str, str]:
        if not self.lists_errors:
            return {}
        if self._scope == "all":
            return dict(design.errors)
        return {path: message for path, message in design.errors.items() if self.owns(path)}

    def _state(self, design: Design) -> dict[str, Any]:
        """This view's synced traits, from the design; views add what they show."""
        return {"view_errors": self._errors(design)}

    def _sync(self, design: Design) -> None:
        with self.hold_sync():
            for name, value in self._state(design).items():
                setattr(self, name, value)

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
