"""How far a long piece of work is, in bytes, and how long it has left: what a save reports.

A save is measured in the bytes it handles: the weights its build makes (each parameter counted as
torch registers it), then the bytes of the safetensors file written. A ``Meter`` adds them up, times
them with an injectable clock (time left is the rate so far applied to what remains) and checks a
cancel flag at every step, so a Cancel stops the work at the next parameter or chunk.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from composer.errors import SpecError
from composer.sizes import human

REPORTS = 200  # a meter reports at most this many steps of its total (each may be a message to the page)


class Flag(Protocol):
    """What asks a save to stop (a ``threading.Event``)."""

    def is_set(self) -> bool: ...


class Cancelled(SpecError):
    """The work was cancelled; whatever it had written is gone."""

    def __init__(self, what: str = "nothing was written"):
        super().__init__("save", f"cancelled; {what}")


@dataclass(frozen=True)
class Progress:
    """One report: the stage, the bytes done of the total (all stages), those of this stage, the
    seconds since the start and the seconds left at the rate since the first byte was counted (None
    until then: the checks before the build count no bytes)."""

    stage: str
    done: int
    total: int
    stage_done: int
    stage_total: int
    elapsed: float
    left: float | None

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0  # nothing planned yet: not measured

    def line(self) -> str:
        """``Writing the weights: 1.2 GiB of 3.1 GiB · 61% · 8 s left`` (the command line's and the panel's)."""
        detail = [f"{human(self.stage_done, 'B')} of {human(self.stage_total, 'B')}"] if self.stage_total else []
        if self.done < self.total:
            detail += [f"{100 * self.fraction:.0f}%",
                       f"{seconds(self.left)} left" if self.left is not None else f"{seconds(self.elapsed)} so far"]
        title = self.stage[:1].upper() + self.stage[1:]
        return f"{title}: {' · '.join(detail)}" if detail else title


def seconds(s: float) -> str:
    """``8 s``, ``2 min 5 s``, ``1 h 3 min``."""
    s = max(0, round(s))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    return f"{s // 3600} h {s % 3600 // 60} min"


class Meter:
    """Counts the bytes of a save's stages against their totals and reports a ``Progress`` at each
    stage and every 1/REPORTS of the total; raises ``Cancelled`` at the next step once ``cancel`` is
    set, until ``final()`` (past that point the save completes)."""

    def __init__(self, report: Callable[[Progress], None], cancel: Flag | None = None,
                 clock: Callable[[], float] = time.monotonic):
        self._report, self._cancel, self._clock = report, cancel, clock
        self._start = clock()
        self._totals: dict[str, int] = {}
        self.stage, self._key, self._done, self._stage_done, self._stage_total = "", None, 0, 0, 0
        self._cancellable, self._next = True, 0
        self._counting_since: float | None = None  # when the first byte was counted: the rate's start

    def plan(self, **totals: int) -> None:
        """The stages whose bytes are counted, and their expected bytes (``building=…, writing=…``)."""
        self._totals = dict(totals)

    @property
    def total(self) -> int:
        return sum(self._totals.values())

    def begin(self, stage: str, key: str | None = None, total: int | None = None) -> None:
        """A new stage; ``key`` names its entry in the plan (``total`` corrects its expected bytes)."""
        self.check()
        self._finish_stage()
        if key is not None and total is not None:
            self._totals[key] = total
        self.stage, self._key = stage, key
        self._stage_done, self._stage_total = 0, self._totals.get(key, 0) if key else 0
        self._emit()

    def add(self, nbytes: int) -> None:
        """``nbytes`` more of this stage done (capped at its expected total)."""
        self.check()
        step = min(nbytes, self._stage_total - self._stage_done)
        if step <= 0:
            return
        if self._counting_since is None:
            self._counting_since = self._clock()
        self._stage_done += step
        self._done += step
        if self._done >= self._next:
            self._emit()

    def final(self, stage: str) -> None:
        """A stage past which the save completes: no more cancelling."""
        self.begin(stage)
        self._cancellable = False

    def check(self) -> None:
        if self._cancellable and self._cancel is not None and self._cancel.is_set():
            raise Cancelled()

    def _finish_stage(self) -> None:
        """What a stage expected but did not count (an estimate a little high) is done when it ends."""
        self._done += self._stage_total - self._stage_done
        self._stage_done = self._stage_total

    def _emit(self) -> None:
        total = self.total
        self._next = self._done + max(1, total // REPORTS)
        now = self._clock()
        counting = now - self._counting_since if self._counting_since is not None else 0
        left = counting * (total - self._done) / self._done if self._done and counting > 0 else None
        elapsed = now - self._start
        self._report(Progress(self.stage, self._done, total, self._stage_done, self._stage_total, elapsed, left))


# ----- bytes a build makes ---------------------------------------------------------------------

_BUILD = threading.local()  # this thread's Meter while it builds; None outside a build
_HOOK: list = []  # the one process-wide registration hook, installed on first use
_LOCK = threading.Lock()


def _parameter_made(module, name, param) -> None:
    meter, seen = getattr(_BUILD, "meter", None), getattr(_BUILD, "seen", None)
    if meter is None or param is None or id(param) in seen:
        return
    seen.add(id(param))
    meter.add(param.numel() * param.element_size())


@contextmanager
def counting_build(meter: Meter) -> Iterator[None]:
    """Count into ``meter`` the bytes of every parameter this thread's build makes (each object once:
    tying a weight registers it again), and let a cancel stop the build at the next parameter."""
    from torch.nn.modules.module import register_module_parameter_registration_hook

    with _LOCK:
        if not _HOOK:
            _HOOK.append(register_module_parameter_registration_hook(_parameter_made))
    _BUILD.meter, _BUILD.seen = meter, set()
    try:
        yield
    finally:
        _BUILD.meter = _BUILD.seen = None


def parameter_bytes(model) -> int:
    """What ``counting_build`` counts for a build of this (meta) model: every parameter slot, a tied
    one too (its own weight is made before tying replaces it)."""
    return sum(p.numel() * p.element_size() for _, p in model.named_parameters(remove_duplicate=False))
