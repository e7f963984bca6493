"""The state every view of one design shares: the last valid Spec, the draft being typed, its errors,
and what is computed from the valid Spec (summary, code).

An edit is checked at once (types, names: microseconds), so a bad value is flagged while the person
types. The expensive part (validating each section once, building on the meta device to catch
cross-field errors, the summary, the code) starts as soon as the kernel is free, in a worker thread so
that the kernel keeps answering, one rebuild at a time: edits arriving while one runs drop its result
(never shown after them) and fold into one rebuild of the newest draft when it ends.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import gc
import json
import warnings
from typing import Any, Callable

from composer.errors import SpecError
from composer.spec import Spec
from widgets._clock import LOOP_CLOCK

DEFAULT_SPEC = {"model_type": "distilbert"}

# Sections tied to one model type: a new model type starts them afresh.
TYPE_BOUND = ("architecture", "config", "backbone", "tokenizer", "image_processor", "feature_extractor",
              "processor", "pretrained", "resized")
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
    """Every error found without validating a section: the Spec's shape, its names and the config's value
    types, one per field (the rebuild validates each section, once)."""
    from composer.fields import canonical_name, check_value, fields_by_name

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
    return errors


@dataclasses.dataclass(frozen=True)
class Built:
    """What one validation of a design gives the views: the normalised Spec, its summary, code and
    architecture drawing, and the warnings its sections gave (each begins with its field, e.g.
    "image_processor.options.resample: ...")."""

    spec: Spec
    summary: dict[str, Any]
    code: str
    architecture: dict[str, Any]
    warned: tuple[tuple[type[Warning], str], ...]  # (category, message), in the order raised

    @property
    def notes(self) -> tuple[str, ...]:
        return tuple(message for _, message in self.warned)

    def warn_again(self) -> None:
        """Raise the validation's warnings to the caller (a design made or replaced from Python), as
        validating it directly would."""
        for category, message in self.warned:
            warnings.warn(message, category, stacklevel=4)


@functools.lru_cache(maxsize=16)
def rebuilt(draft: str) -> Built:
    """The design of a draft (its JSON), validated once (SpecError if it is not valid). Cached with its
    warnings: going back to an earlier design (an undo) shows the same notes again."""
    from composer.architecture import architecture
    from composer.codegen import to_code
    from composer.summary import summarize
    from composer.validation import ready

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        valid = ready(Spec.from_dict(json.loads(draft)))
        summary, code, drawing = summarize(valid), to_code(valid), architecture(valid, traced=False)
    return Built(valid, summary, code, drawing, tuple(dict.fromkeys((w.category, str(w.message)) for w in caught)))


@functools.cache
def freeze_heap() -> None:
    """Once per process, after the first design is built (torch, transformers and a meta model imported):
    move the ~630,000 objects on the heap out of the garbage collector's sight, so that no edit pays for a
    full collection of them (220-330 ms, about one edit in seven of a 70B design)."""
    gc.collect()
    gc.freeze()


class Coalesce:
    """Call ``fn`` once for a burst of requests: the first schedules it for as soon as the event loop of
    ``clock`` is free (at once where none runs), and the requests until then fold into that call. It adds
    no delay: the front end's typing debounce (js/lib/commit.js) is the page's only one."""

    def __init__(self, fn: Callable[[], None], clock=LOOP_CLOCK):
        self.fn, self.clock = fn, clock
        self._timer = None

    def __call__(self) -> None:
        now = self.clock.now()
        if now is None:
            self.fn()
        elif self._timer is None:
            self._timer = self.clock.call_at(now, self._fire)

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
    """One design, edited by any number of views. Views subscribe with a callback taking the Design.
    ``clock`` runs its timers and its rebuilds (widgets._clock; tests pass one they advance by hand).

    ``background``: where the clock runs later work (a kernel's event loop), the first design is checked
    as an edit is: at once for what needs no transformers (its shape, names, value types and domains,
    from the catalog cache; SpecError here), then, once the code that made it has returned (a cell: its
    views are on their way to the page), validated, summarised and coded on the worker, which imports
    torch and transformers meanwhile. The views fill in when that is done (``checked``). Without it, or
    with no loop, the first design is validated before this returns (its warnings raised to the caller)."""

    def __init__(self, spec: Spec | dict | None = None, *, clock=LOOP_CLOCK, background: bool = False):
        from composer.spec import as_spec

        self.clock = clock
        self._views: list[Callable[[Design], None]] = []
        self._rebuild = Coalesce(self._start, clock)
        self._work: object | None = None  # the rebuild whose result is wanted; an edit drops it
        self._running: tuple[object, Any] | None = None  # (work, future) of the rebuild in the worker
        self._waiting = False  # a newer draft rebuilds when the running one ends
        self._edited: list[str] = []  # paths edited since the last valid design, for error placement
        self._deep: dict[str, str] = {}  # errors of the last rebuild, kept while their field is untouched
        self.checked = False  # a validation has accepted a design: spec, summary and code are its
        given = as_spec(DEFAULT_SPEC if spec is None else spec)
        quick = quick_errors(given.to_dict())
        if quick:
            raise SpecError(*next(iter(quick.items())))
        if background and clock.now() is not None:
            self._unchecked(given)
            self._rebuild()  # on the loop, once the cell that made it has returned: its views go out first
            return
        built = rebuilt(_key(given.to_dict()))
        self._accept(built)
        built.warn_again()

    def _unchecked(self, spec: Spec) -> None:
        """The state until the first validation ends: the design as given, no summary or code yet."""
        self.spec, self.summary, self.code, self.notes, self.architecture = spec, None, None, (), {}
        self.draft, self.errors = spec.to_dict(), {}

    # ----- reading -------------------------------------------------------------------------------

    @property
    def pending(self) -> bool:
        """A rebuild is scheduled or running: the summary and code are about to change."""
        return self._rebuild.pending or self._work is not None or self._waiting

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

    def notes_of(self, key: str) -> list[str]:
        """The warnings the validation of the valid design gave about its ``key`` section."""
        return [n for n in self.notes if n.split(":", 1)[0].split(".", 1)[0] == key]

    def subscribe(self, view: Callable[[Design], None]) -> None:
        self._views.append(view)

    # ----- editing -------------------------------------------------------------------------------

    def replace(self, spec: Spec | dict) -> None:
        """Make ``spec`` the design now (from Python): raises SpecError if it is not valid."""
        from composer.spec import as_spec

        built = rebuilt(_key(as_spec(spec).to_dict()))
        self._rebuild.cancel()
        self._work, self._waiting = None, False
        self._accept(built)
        built.warn_again()
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
            for stale in [k for k in self._deep if k == path or k.startswith(f"{path}.")]:
                self._deep.pop(stale)  # a section replaced whole takes its fields' errors with it
        self.draft = draft
        self._work = None  # a rebuild still running is for an older draft: its result is dropped
        quick = quick_errors(draft)
        # Until the next rebuild, a rebuild's error (n_heads must divide dim) stays at its field.
        self.errors = {**self._deep, **quick}
        if quick:
            self._rebuild.cancel()  # the last valid design stays; nothing to rebuild
            self._waiting = False
        else:
            self._rebuild()  # with no event loop this rebuilds (and notifies) at once
        if quick or self.pending:
            self._notify()

    def flush(self) -> None:
        """Finish the rebuild now, waiting for one in flight (tests, scripts, a "Save" that must see
        the latest edit)."""
        self._rebuild.flush()
        while self._running is not None:
            work, future = self._running
            future.exception()  # waits; the outcome is read by _finish
            self._finish(work, future)

    def valid(self) -> Spec:
        """The last valid design, once one was validated (waiting for the first validation if it still
        runs); SpecError at its field if the design was never valid."""
        if not self.checked:
            self.flush()
        if not self.checked:
            raise SpecError(*next(iter(self.errors.items())))
        return self.spec

    # ----- rebuilding ----------------------------------------------------------------------------

    def _start(self) -> None:
        if self._running is not None:  # one rebuild at a time: the newest draft starts when it ends
            self._waiting = True
            return
        self._waiting = False
        work = self._work = object()
        draft = _key(self.draft)
        future = self.clock.start(lambda: rebuilt(draft), lambda done: self._finish(work, done))
        if self._work is work:  # not finished at once (as it is where no event loop runs)
            self._running = (work, future)

    def _finish(self, work: object, future) -> None:
        if self._running is not None:
            if self._running[1] is not future:
                return  # flush() finished it already
            self._running = None
        if self._waiting:
            self._start()
        if work is not self._work:  # a newer edit came meanwhile: its rebuild is the one shown
            return
        self._work = None
        error = future.exception()
        if error is None:
            self._accept(future.result())
        elif isinstance(error, SpecError):
            self._deep = self._place(error)
        else:  # transformers failing in a way the engine did not name: still shown
            self._deep = {"": f"{type(error).__name__}: {error}"}
        if self._deep:  # a copy: edits pop from _deep, and the views must see `errors` change then
            self.errors = dict(self._deep)
        self._notify()

    def _accept(self, built: Built) -> None:
        self.spec, self.summary, self.code, self.notes = built.spec, built.summary, built.code, built.notes
        self.architecture = built.architecture
        self.draft = built.spec.to_dict()
        self.errors: dict[str, str] = {}
        self._edited, self._deep = [], {}
        self.checked = True
        freeze_heap()

    def _place(self, err: SpecError) -> dict[str, str]:
        """Where to show a deep error, once, where the person is looking: at the field the engine names
        when it is within what was just edited (tokenizer.vocab_file after setting the tokenizer); at
        the field they just edited when the message is about it (``n_heads 5 must divide dim 64`` after editing n_heads),
        or when the engine could only guess (a transformers message naming no field, such as "list
        index out of range" after editing out_indices); else at the field the engine names."""
        if any(err.field == path or err.field.startswith(f"{path}.") for path in self._edited):
            return {err.field: err.message}  # the engine names a field within the edit: the precise place
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


def _key(draft: dict) -> str:
    """A draft as the rebuild cache's key, its keys in their order (the code writes them so)."""
    return json.dumps(draft, default=repr)
