"""The state every view of one design shares: the last valid Spec, the draft being typed, its errors,
and what is computed from the valid Spec (summary, code).

An edit is checked at once (types, names: microseconds), so a bad value is flagged while the person
types. The expensive part (building on the meta device to catch cross-field errors, the summary,
the code) runs once per burst of edits, a short delay after the last one, on the kernel's event loop.
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any, Callable

from composer.errors import SpecError
from composer.spec import Spec

DEFAULT_SPEC = {"model_type": "distilbert"}

# Sections tied to one model type: a new model type starts them afresh.
TYPE_BOUND = ("architecture", "config", "backbone", "tokenizer", "image_processor", "feature_extractor",
              "processor", "pretrained")
# The value of an edit that puts a field back to its default (the key leaves the draft).
RESET = object()


def set_path(data: dict, path: str, value: Any) -> dict:
    """A copy of ``data`` with ``path`` ("config.dim", "backbone.out_indices") set to ``value``."""
    out = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = out
    for key in parents:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[last] = value
    return out


def drop_path(data: dict, path: str) -> dict:
    """A copy of ``data`` without ``path``; a sub-config left empty goes too (all its defaults)."""
    out = copy.deepcopy(data)
    keys = path.split(".")
    nodes = [out]
    for key in keys[:-1]:
        node = nodes[-1].get(key)
        if not isinstance(node, dict):
            return out
        nodes.append(node)
    nodes[-1].pop(keys[-1], None)
    for depth in range(len(nodes) - 1, 1, -1):  # never drops a top-level section such as "config"
        if not nodes[depth]:
            nodes[depth - 1].pop(keys[depth - 1])
    return out


def quick_errors(draft: dict) -> dict[str, str]:
    """Every error found without building anything: shape, names and value types, one per field."""
    from composer.fields import canonical_name, check_value, fields_by_name
    from composer.validation import validate

    try:
        spec = Spec.from_dict(draft)
        by_name = fields_by_name(spec.model_type)
    except SpecError as err:
        return {err.field: err.message}
    errors = {}
    for key, value in spec.config.items():
        field = by_name.get(canonical_name(spec.model_type, key))
        if field is not None:
            try:
                check_value(field, value, f"config.{key}")
            except SpecError as err:
                errors[err.field] = err.message
    if not errors:
        try:
            validate(spec, deep=False)
        except SpecError as err:
            errors[err.field] = err.message
        except Exception as err:  # the engine failing in a way it did not name: still shown, never lost
            errors[""] = f"{type(err).__name__}: {err}"
    return errors


class Coalesce:
    """Call ``fn`` once, ``delay`` seconds after the last request and at most ``max_wait`` seconds after
    the first, on the kernel's event loop; at once where no loop runs (plain Python, tests)."""

    def __init__(self, fn: Callable[[], None], delay: float, max_wait: float):
        self.fn, self.delay, self.max_wait = fn, delay, max_wait
        self._timer: asyncio.TimerHandle | None = None
        self._first = 0.0

    def __call__(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.fn()
            return
        now = loop.time()
        if self._timer is None:
            self._first = now
        else:
            self._timer.cancel()
        self._timer = loop.call_at(min(now + self.delay, self._first + self.max_wait), self._fire)

    def _fire(self) -> None:
        self._timer = None
        self.fn()

    @property
    def pending(self) -> bool:
        """A call is scheduled."""
        return self._timer is not None

    def cancel(self) -> None:
        """Drop a scheduled call."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def flush(self) -> None:
        """Run a scheduled call now."""
        if self._timer is not None:
            self._timer.cancel()
            self._fire()


class Design:
    """One design, edited by any number of views. Views subscribe with a callback taking the Design."""

    delay = 0.05  # seconds of quiet after an edit before the rebuild (the form debounces typing too)
    max_wait = 1.0  # a steady stream of edits still rebuilds this often

    def __init__(self, spec: Spec | dict | None = None):
        from composer.spec import as_spec

        self._views: list[Callable[[Design], None]] = []
        self._rebuild = Coalesce(self._settle, self.delay, self.max_wait)
        self._edited: list[str] = []  # paths edited since the last valid design, for error placement
        self._deep: dict[str, str] = {}  # errors of the last rebuild, kept while their field is untouched
        self._accept(as_spec(DEFAULT_SPEC if spec is None else spec))

    # ----- reading -------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """A rebuild is scheduled: the summary and code are about to change."""
        return self._rebuild.pending

    @property
    def model_type(self) -> str:
        """The model type being edited (the last valid one while the draft names an unknown type)."""
        from composer.catalog import model_types

        typed = self.draft.get("model_type")
        return typed if typed in model_types() else self.spec.model_type

    def section(self, key: str) -> dict[str, Any]:
        """The draft's ``key`` section ("backbone", "tokenizer", …) when it is an object, else {}: a
        value such as ``edit("backbone", "resnet50")`` is the engine's to flag at ``key``, not a view's
        to trip over."""
        section = self.draft.get(key)
        return section if isinstance(section, dict) else {}

    def subscribe(self, view: Callable[[Design], None]) -> None:
        self._views.append(view)

    # ----- editing -------------------------------------------------------------------------------

    def replace(self, spec: Spec | dict) -> None:
        """Make ``spec`` the design now (from Python): raises SpecError if it is not valid."""
        from composer.spec import as_spec

        self._rebuild.cancel()
        self._accept(as_spec(spec))
        self._notify()

    def edit(self, path: str, value: Any) -> None:
        """Set one value of the draft, as a form does; ``model_type`` starts a fresh design."""
        self.edits({path: value})

    def reset(self, path: str) -> None:
        """Back to the config class's default (the key leaves the draft)."""
        self.edits({path: RESET})

    def edits(self, changes: dict[str, Any]) -> None:
        """Several values at once (e.g. ``num_labels`` and ``id2label``): one check, one rebuild.
        A value of RESET puts that field back to its default."""
        draft = self.draft
        for path, value in changes.items():
            if path == "model_type" and value != draft.get("model_type"):
                draft = {k: v for k, v in draft.items() if k not in TYPE_BOUND}
            draft = drop_path(draft, path) if value is RESET else set_path(draft, path, value)
            self._edited.append(path)
            self._deep.pop(path, None)
        self.draft = draft
        quick = quick_errors(draft)
        # Until the next rebuild, a rebuild's error (n_heads must divide dim) stays at its field.
        self.errors = {**self._deep, **quick}
        if quick:
            self._rebuild.cancel()  # the last valid design stays; nothing to rebuild
        else:
            self._rebuild()
        self._notify()

    def flush(self) -> None:
        """Run a scheduled rebuild now (tests, scripts, a "Save" that must see the latest edit)."""
        self._rebuild.flush()

    # ----- rebuilding ----------------------------------------------------------------------------

    def _accept(self, spec: Spec) -> None:
        from composer.validation import ready
        from composer.codegen import to_code
        from composer.summary import summarize

        valid = ready(spec)
        summary, code = summarize(valid), to_code(valid)  # all computed before anything changes
        self.spec, self.draft, self.summary, self.code = valid, valid.to_dict(), summary, code
        self.errors: dict[str, str] = {}
        self._edited, self._deep = [], {}

    def _settle(self) -> None:
        try:
            self._accept(Spec.from_dict(self.draft))
        except SpecError as err:
            self._deep = self._place(err)
        except Exception as err:  # transformers failing in a way the engine did not name: still shown
            self._deep = {"": f"{type(err).__name__}: {err}"}
        if self._deep:  # a copy: edits pop from _deep, and the views must see `errors` change then
            self.errors = dict(self._deep)
        self._notify()

    def _place(self, err: SpecError) -> dict[str, str]:
        """Where to show a deep error, once, where the person is looking: at the field they just
        edited when the message is about it (``n_heads 5 must divide dim 64`` after editing n_heads),
        or when the engine could only guess (a transformers message naming no field, such as "list
        index out of range" after editing out_indices); else at the field the engine names."""
        words = set(err.message.replace(".", " ").split())
        for path in reversed(self._edited):
            if path.split(".")[-1] in words:
                return {path: err.message}
        if self._edited and err.field.split(".")[-1] not in words:
            return {self._edited[-1]: err.message}
        return {err.field: err.message}

    def _notify(self) -> None:
        for view in self._views:
            view(self)
