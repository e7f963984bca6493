"""A clock the test moves by hand (the interface of widgets._clock): timers fire when the test advances
time past them, and background rebuilds run when the test says, in the order it says. Nothing sleeps,
so a test of coalescing or of a newer edit overtaking an older rebuild gives the same result every run."""

from __future__ import annotations

import concurrent.futures
from typing import Any, Callable


class _Timer:
    def __init__(self, when: float, fn: Callable[[], None]):
        self.when, self.fn, self.cancelled = when, fn, False

    def cancel(self) -> None:
        self.cancelled = True


class _Job(concurrent.futures.Future):
    """A background job that runs when the test finishes it, or when someone waits for its outcome."""

    def __init__(self, job: Callable[[], Any], done: Callable[[concurrent.futures.Future], None]):
        super().__init__()
        self.job, self.done_callback = job, done

    def run(self) -> None:
        if self.done():
            return
        try:
            self.set_result(self.job())
        except Exception as err:
            self.set_exception(err)

    def result(self, timeout=None):
        self.run()
        return super().result(timeout)

    def exception(self, timeout=None):
        self.run()
        return super().exception(timeout)


class ManualClock:
    def __init__(self) -> None:
        self.time = 0.0
        self._timers: list[_Timer] = []
        self.jobs: list[_Job] = []  # started, not yet finished, oldest first

    def now(self) -> float:
        return self.time

    def call_at(self, when: float, fn: Callable[[], None]) -> _Timer:
        timer = _Timer(when, fn)
        self._timers.append(timer)
        return timer

    def start(self, job: Callable[[], Any], done: Callable[[concurrent.futures.Future], None]) -> _Job:
        future = _Job(job, done)
        self.jobs.append(future)
        return future

    def advance(self, seconds: float) -> None:
        """Move time on, firing every timer that falls due, in time order (a timer may set another)."""
        end = self.time + seconds
        while True:
            due = sorted((t for t in self._timers if not t.cancelled and t.when <= end), key=lambda t: t.when)
            if not due:
                break
            timer = due[0]
            self._timers.remove(timer)
            self.time = max(self.time, timer.when)
            timer.fn()
        self.time = end
        self._timers = [t for t in self._timers if not t.cancelled]

    def finish(self, index: int = 0) -> None:
        """Complete the ``index``-th job still running and hand its outcome back, as the event loop would."""
        job = self.jobs.pop(index)
        job.run()
        job.done_callback(job)

    def finish_all(self) -> None:
        while self.jobs:
            self.finish()
