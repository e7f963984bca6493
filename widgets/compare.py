"""Compare: the design beside another one (a spec file, a saved folder, the last design the save panel
wrote) — the fields that differ, the parameter and memory deltas, the two module trees aligned and
marked — and a parameter budget: the values of one integer field closest to a target, with a button
that puts one into the design. The engine computes everything (composer.compare, composer.budget)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets

from composer.budget import MEASURES, budget, budget_fields
from composer.compare import diff
from composer.counting import BYTES_PER_PARAM
from composer.errors import SpecError
from composer.spec import Spec
from widgets._base import DesignWidget, bundle
from widgets._design import Design


class Compare(DesignWidget):
    """Side A is the design (a Composer's, or this widget's own); side B is ``other``. From the buttons
    the work runs on the design's clock (off the kernel's event loop) and the view fills in when it
    ends; a comparison follows the design's edits. From Python ``compare()`` and ``budget()`` block
    and return what the engine gives."""

    _esm = bundle("compare.js")
    lists_errors = False

    # Comparison: against the last saved design or a path typed in
    against = traitlets.Enum(("saved", "path"), "path").tag(sync=True)
    path = traitlets.Unicode("").tag(sync=True)  # a spec file or a saved folder
    saved = traitlets.Unicode("").tag(sync=True)  # the folder the save panel last wrote ("" before any)
    with_plan = traitlets.Bool(False).tag(sync=True)  # include the training plans (default settings)
    comparison = traitlets.Dict().tag(sync=True)  # composer.compare.diff, with "names"; {} before any
    compare_status = traitlets.Unicode("").tag(sync=True)

    # Budget
    budget_fields = traitlets.List().tag(sync=True)  # composer.budget.budget_fields of the design
    measures = traitlets.List(list(MEASURES)).tag(sync=True)
    dtypes = traitlets.List(list(BYTES_PER_PARAM)).tag(sync=True)
    budget_result = traitlets.Dict().tag(sync=True)  # composer.budget.budget; {} before any
    budget_status = traitlets.Unicode("").tag(sync=True)

    # Work
    busy = traitlets.Bool(False).tag(sync=True)
    expanded = traitlets.Bool(True).tag(sync=True)  # the panel open (a Composer starts it closed)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, other: Spec | dict | str | Path | None = None,
                 design: Design | None = None, save_panel=None, **kwargs: Any):
        self._other = other  # B given from Python (a Spec or dict; a path also shows in `path`)
        self._save_panel = save_panel
        self._fields_of: str | None = None  # the design key budget_fields was computed for
        self._shown_b: Any = None  # B of the comparison shown: it follows the design's edits
        self._token: dict[str, object] = {}  # the newest request of each kind; older results are dropped
        super().__init__(spec, design=design, **kwargs)
        if isinstance(other, (str, Path)):
            self.path = str(other)
        if save_panel is not None:
            save_panel.observe(self._follow_save, "status")
            self._follow_save()

    # ----- Python --------------------------------------------------------------------------------

    def compare(self, other: Spec | dict | str | Path | None = None, plan: bool | dict | None = None) -> dict[str, Any]:
        """The comparison of the design with ``other`` (default: what the view chose), made now.
        ``plan``: True for the plans at default settings, a settings dict, or None for ``with_plan``."""
        other = self._b() if other is None else other
        result = self._compared(self._design.valid(), other, self._settings(plan))
        self._show_comparison(result, other)
        return result

    def budget(self, field: str, target: int | float | str, measure: str = "parameters", dtype: str = "bf16") -> dict[str, Any]:
        """The values of ``field`` closest to ``target`` (composer.budget.budget), found now."""
        result = budget(self._design.valid(), target, field, measure=measure, dtype=dtype)
        self.budget_result, self.budget_status = result, ""
        return result

    def use(self, field: str, value: int) -> None:
        """Put a budget's value into the design (one edit, as the form makes it)."""
        self._design.edit(f"config.{field}", value)

    # ----- state ---------------------------------------------------------------------------------

    def _state(self, design: Design) -> dict[str, Any]:
        state = super()._state(design)
        if design.checked and design.spec.key() != self._fields_of:
            self._fields_of = design.spec.key()
            state["budget_fields"] = budget_fields(design.spec)
            if self._shown_b is not None:  # the design changed under a comparison: it follows
                self._start("compare", self._compare_job(design.spec, self._shown_b, self._settings(None)))
        return state

    def _follow_save(self, change=None) -> None:
        last = self._save_panel.last_saved
        self.saved = "" if last is None else str(last)

    def _b(self) -> Spec | dict | str | Path:
        if self.against == "saved":
            if not self.saved:
                raise SpecError("B", "nothing saved yet: save the design first, or give a spec file or folder")
            return self.saved
        if self._other is not None and not isinstance(self._other, (str, Path)) and not self.path:
            return self._other
        if not self.path.strip():
            raise SpecError("B", "give a spec file or a folder the composer saved")
        return self.path.strip()

    def _settings(self, plan: bool | dict | None) -> dict | None:
        plan = self.with_plan if plan is None else plan
        return plan if isinstance(plan, dict) else ({} if plan else None)

    @staticmethod
    def _compared(a: Spec, b: Any, settings: dict | None) -> dict[str, Any]:
        return diff(a, b, settings)

    def _show_comparison(self, result: dict[str, Any], other: Any) -> None:
        names = ["this design", str(other) if isinstance(other, (str, Path)) else "the other design"]
        self._shown_b = other
        self.comparison, self.compare_status = {**result, "names": names}, ""

    # ----- buttons -------------------------------------------------------------------------------

    def _compare_job(self, a: Spec, other: Any, settings: dict | None):
        def job():
            return self._compared(a, other, settings)

        def done(result):
            self._show_comparison(result, other)

        return job, done, "Comparing…"

    def _action(self, name: str, content: dict[str, Any]) -> None:
        try:
            if name == "compare":
                self._design.flush()
                self.against = content.get("against", self.against)
                self.path = str(content.get("path", self.path))
                self.with_plan = bool(content.get("plan", self.with_plan))
                self._start("compare", self._compare_job(self._design.valid(), self._b(), self._settings(None)))
            elif name == "budget":
                self._start("budget", self._budget_job(content))
            elif name == "use":
                self.use(str(content["field"]), int(content["value"]))
        except SpecError as err:
            self._fail("budget" if name in ("budget", "use") else "compare", err)

    def _budget_job(self, content: dict[str, Any]):
        self._design.flush()
        spec = self._design.valid()
        field, target = str(content.get("field", "")), content.get("target", "")
        measure, dtype = str(content.get("measure", "parameters")), str(content.get("dtype", "bf16"))

        def job():
            return budget(spec, target, field, measure=measure, dtype=dtype)

        def done(result):
            self.budget_result, self.budget_status = result, ""

        return job, done, "Searching…"

    def _start(self, kind: str, work) -> None:
        """Run ``job`` on the design's clock; its ``done`` only if no newer request of its kind came."""
        job, done, busy_text = work
        token = self._token[kind] = object()
        setattr(self, f"{kind}_status", busy_text)
        self.busy = True

        def finished(future) -> None:
            if self._token.get(kind) is not token:
                return
            self._token.pop(kind)
            self.busy = bool(self._token)
            error = future.exception()
            if error is None:
                done(future.result())
            elif isinstance(error, SpecError):
                self._fail(kind, error)
            else:  # transformers failing in a way the engine did not name: still shown
                self._fail(kind, SpecError("", f"{type(error).__name__}: {error}"))

        self._design.clock.start(job, finished)

    def _fail(self, kind: str, err: SpecError) -> None:
        """The failure in the status line, in place of the last result (it was for another request)."""
        if kind == "compare":
            self.comparison, self._shown_b = {}, None
        else:
            self.budget_result = {}
        setattr(self, f"{kind}_status", "")  # the same failure twice still shows as new
        setattr(self, f"{kind}_status", f"Failed: {err}")
