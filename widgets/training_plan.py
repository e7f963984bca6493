"""TrainingPlan: what it takes to train the design (composer.training.plan): its settings as a form, the
memory of each device as a stacked bar against the device's memory and headroom, the fewest devices or
the setting to change, FLOPs per token, time for a token budget and, for decoders, the KV cache; and the
launch folder that trains it on a cluster (composer.training.launch)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import traitlets

from composer.errors import SpecError, one_line
from composer.memory_chart import chart
from composer.safe_folder import FolderExists
from composer.spec import Spec
from composer.training.launch import write_launch
from composer.training.plan import Plan, figures, plan, size_settings
from composer.training.settings import Settings, settings_fields
from widgets._base import DesignWidget, bundle, where
from widgets._design import Coalesce, Design


def shown(p: Plan) -> dict[str, Any]:
    """A plan as the view draws it: its figures, its bar in the memory chart's shape, its lines in words."""
    headroom = p.device_memory - p.usable_memory
    return {**p.to_dict(), "chart": chart(p.bars(), p.device_memory, p.device, headroom),
            "figures": [{"name": name, "words": words} for name, words in figures(p)]}


class TrainingPlan(DesignWidget):
    """The plan of the last valid design for the settings typed. A plan can take seconds when a design or
    a step size is measured for the first time, so it is made off the event loop once the design's summary
    is out, one at a time: the edits (of the design or of the settings) made while one runs fold into one
    plan of the newest when it ends, and a result they overtook is dropped, never shown. A setting is
    checked as it is typed (Settings: microseconds) and its error shown at its field, ``plan.<field>``."""

    _esm = bundle("training_plan.js")
    lists_errors = False  # the shared design's notice says where a design error is

    # Settings: as typed (valid or not), the form (composer.training.settings.settings_fields), the errors
    # at plan.<field> (and "" for one of no field)
    settings = traitlets.Dict().tag(sync=True)
    fields = traitlets.List(traitlets.Dict()).tag(sync=True)
    setting_errors = traitlets.Dict().tag(sync=True)

    # Plan: the one shown (see `shown`; {} until the first is made), whether it is for the design and
    # settings as they are now, and whether a newer one is coming
    plan = traitlets.Dict().tag(sync=True)
    current = traitlets.Bool(False).tag(sync=True)
    planning = traitlets.Bool(False).tag(sync=True)
    # Plans are made while this is set: a Composer clears it while its panel is closed, so that no plan
    # waits in the worker ahead of the design's next rebuild for nobody to see
    active = traitlets.Bool(True)

    # Launch: the folder to write (relative to the kernel's working folder, as the save panel's), the
    # errors of the last export by field ("DIR" the folder, plan.<field> a setting, "" none), its status
    folder = traitlets.Unicode("launch").tag(sync=True)
    exporting = traitlets.Bool(False).tag(sync=True)
    launch_errors = traitlets.Dict().tag(sync=True)
    launch_status = traitlets.Unicode("").tag(sync=True)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 settings: dict[str, Any] | None = None, **kwargs: Any):
        self._given: dict[str, Any] = {}  # the settings as typed
        self._valid = Settings()  # the last valid settings
        self._quick: dict[str, str] = {}  # the typed settings' error, found without planning
        self._failed: dict[str, str] = {}  # the error of the plan of `_planned`
        self._reads: tuple[str | None, tuple[str, ...]] = (None, ())  # (design key, size settings it reads)
        self._planned: tuple | None = None  # what the last plan made (or its error) is for: (design key, Settings)
        self._result: tuple[tuple, Plan] | None = None  # (what for, the plan shown)
        self._running: tuple[tuple, Any] | None = None  # (what for, future) of the plan being made
        super().__init__(spec, design=design, **kwargs)
        self._replan = Coalesce(self._start, self._design.clock)
        self.configure(**(settings or {}))

    # ----- settings ------------------------------------------------------------------------------

    def configure(self, **changes: Any) -> None:
        """Set settings as the form does, e.g. ``configure(micro_batch=4, layout="fsdp")``."""
        self._set({**self._given, **changes})

    def reset_settings(self, *names: str) -> None:
        """Put settings back to their defaults."""
        self._set({k: v for k, v in self._given.items() if k not in names})

    def _set(self, given: dict[str, Any]) -> None:
        self._given = given
        self.launch_errors = {}  # of settings the person has since changed
        try:
            self._valid, self._quick = Settings.from_dict(given), {}
        except SpecError as err:
            self._quick = {err.field: err.message}
        self._sync(self._design)

    def _errors_now(self) -> dict[str, str]:
        return self._quick or (self._failed if self._planned == self._wanted() else {})

    # ----- the plan ------------------------------------------------------------------------------

    def refresh(self) -> Plan:
        """The plan of the design and settings as they are now, waiting for it (scripts, tests); SpecError
        at its field for a setting the plan refuses."""
        self._design.flush()
        self._replan.flush()
        while self._running is not None:
            wanted, future = self._running
            future.exception()  # waits; _done reads the outcome
            self._done(wanted, future)
        if self._errors_now():
            raise SpecError(*next(iter(self._errors_now().items())))
        return self._result[1]

    def _wanted(self) -> tuple | None:
        """What the plan to show is for, None while nothing can be planned (no design checked yet)."""
        return (self._design.spec.key(), self._valid) if self._design.checked else None

    def _state(self, design: Design) -> dict[str, Any]:
        key = design.spec.key()
        if design.checked and self._reads[0] != key:
            self._read(design)
        return {**super()._state(design), "settings": self._given, "setting_errors": self._errors_now(),
                "fields": settings_fields(self._reads[1], self._given),
                "plan": shown(self._result[1]) if self._result else {},
                "current": self._result is not None and self._result[0] == self._wanted() and not self._quick,
                "planning": not self._quick and (self._wanted() is None or self._planned != self._wanted())}

    def _sync(self, design: Design) -> None:
        super()._sync(design)
        if hasattr(self, "_replan"):  # not while the widget is made
            self._replan()

    def _read(self, design: Design) -> None:
        """Which size settings the design reads (a class attribute and its config: milliseconds, on the
        worker, where its transformers classes are imported)."""
        spec, key = design.spec, design.spec.key()
        self._reads = (key, self._reads[1])  # asked once; until it answers, the last design's stay

        def done(future) -> None:
            if future.exception() is None and self._reads[0] == key:
                self._reads = (key, future.result())
                if hasattr(self, "_replan"):  # else the widget is being made: its first state reads them
                    self._sync(design)

        design.clock.start(lambda: size_settings(spec), done)

    def _start(self) -> None:
        wanted = self._wanted()
        if not self.active or wanted is None or self._quick or wanted == self._planned or self._running is not None:
            return  # nothing to plan, or the newest is planned when the running one ends
        spec, settings = self._design.spec, self._valid
        future = self._design.clock.start(lambda: plan(spec, settings), lambda done: self._done(wanted, done))
        if self._planned != wanted:  # not finished at once (as it is where no event loop runs)
            self._running = (wanted, future)

    @traitlets.observe("active")
    def _shown_again(self, change) -> None:
        self._replan()

    def _done(self, wanted: tuple, future) -> None:
        if self._running is not None:
            if self._running[1] is not future:
                return  # refresh() finished it already
            self._running = None
        if wanted == self._wanted():  # else a newer edit overtook it: dropped
            self._planned = wanted
            error = future.exception()
            if error is None:
                self._result, self._failed = (wanted, future.result()), {}
            elif isinstance(error, SpecError):
                self._failed = {error.field: error.message}
            else:  # torch failing on a design in a way the engine did not name: still shown
                self._failed = {"": f"{type(error).__name__}: {one_line(error)}"}
        self._start()  # the newest, if this was not it
        self._sync(self._design)

    # ----- the launch folder ----------------------------------------------------------------------

    def export_launch(self, folder: str | Path | None = None) -> Path:
        """Write the launch folder of the design and settings as they are (composer.training.launch) to
        ``folder`` (else the ``folder`` trait) and return its path: a setting or design it cannot run is
        refused as a SpecError at its field, and an existing folder is never replaced."""
        self._design.flush()  # an Export right after an edit exports that edit
        spec, settings = self._exportable()
        return write_launch(spec, settings, self.folder if folder is None else folder, overwrite=False)

    @traitlets.observe("folder")
    def _new_folder(self, change) -> None:
        self.launch_errors = {k: v for k, v in self.launch_errors.items() if k != "DIR"}

    def _exportable(self) -> tuple[Spec, Settings]:
        """The design and settings to export, or SpecError where an error stands in the way."""
        if self._design.errors:
            path = next(iter(self._design.errors))
            raise SpecError("launch", f"the design has an error at {where(path)}; fix it to export the launch")
        if self._quick:
            raise SpecError(*next(iter(self._quick.items())))
        return self._design.valid(), self._valid

    def _export(self) -> None:
        """The button: the folder written on the worker (it builds the design on the meta device), the
        kernel free meanwhile; the status says where, or the error is shown at its field."""
        self._design.flush()
        self.launch_status, self.launch_errors = "", {}
        try:
            spec, settings = self._exportable()
        except SpecError as err:
            self.launch_errors = {err.field: err.message}
            return
        folder = self.folder
        self.exporting = True
        self._design.clock.start(lambda: write_launch(spec, settings, folder, overwrite=False), self._exported)

    def _exported(self, future) -> None:
        self.exporting = False
        error = future.exception()
        if error is None:
            path = future.result()
            self.launch_status = f"Wrote the launch folder to {path}: {', '.join(sorted(p.name for p in path.iterdir()))}"
        elif isinstance(error, FolderExists):
            self.launch_errors = {error.field: error.told("remove it first").message}
        elif isinstance(error, SpecError):
            self.launch_errors = {error.field: error.message}
        elif isinstance(error, OSError):
            self.launch_errors = {"DIR": one_line(error)}
        else:  # torch or transformers failing in a way the engine did not name: still shown
            self.launch_errors = {"": f"{type(error).__name__}: {one_line(error)}"}

    # ----- messages from the front end ------------------------------------------------------------

    def _on_msg(self, widget, content: Any, buffers: list) -> None:
        if isinstance(content, dict) and ("setting" in content or "reset_setting" in content):
            given = {**self._given, **content.get("setting", {})}
            self._set({k: v for k, v in given.items() if k not in content.get("reset_setting", [])})
        else:
            super()._on_msg(widget, content, buffers)

    def _action(self, name: str, content: dict) -> None:
        if name == "export" and not self.exporting:
            self._export()
