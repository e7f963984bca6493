"""When the widgets' deferred work runs: timers that coalesce a burst of edits, and the rebuild of a
design off the kernel's event loop so that typing never waits on it.

Every timer and every background job goes through a clock object, so that tests (and scripts) can
drive time themselves instead of sleeping. A clock has three methods:

* ``now()`` - the current time in seconds, or None when nothing can run later (plain Python with no
  event loop): then a timer's work runs at once;
* ``call_at(when, fn)`` - run ``fn`` at ``now() >= when``; returns a handle with ``cancel()``;
* ``start(job, done)`` - run ``job()`` away from the event loop and then ``done(future)`` on it;
  returns the ``concurrent.futures.Future`` (``result()`` waits for it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable

# One worker: two rebuilds never run at once (transformers' init switches are process-wide).
_WORKER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="composer-rebuild")


class LoopClock:
    """The running asyncio loop (the kernel's); without one, everything runs at once, in order."""

    @staticmethod
    def _loop() -> asyncio.AbstractEventLoop | None:
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            return None

    def now(self) -> float | None:
        loop = self._loop()
        return None if loop is None else loop.time()

    def call_at(self, when: float, fn: Callable[[], None]) -> asyncio.TimerHandle:
        return self._loop().call_at(when, fn)

    def start(self, job: Callable[[], Any], done: Callable[[concurrent.futures.Future], None]) -> concurrent.futures.Future:
        loop = self._loop()
        if loop is None:
            future: concurrent.futures.Future = concurrent.futures.Future()
            try:
                future.set_result(job())
            except Exception as err:  # handed to done(), which says it at the field
                future.set_exception(err)
            done(future)
            return future
        future = _WORKER.submit(job)
        future.add_done_callback(lambda f: _hand_back(loop, done, f))
        return future


def _hand_back(loop: asyncio.AbstractEventLoop, done: Callable[[concurrent.futures.Future], None],
               future: concurrent.futures.Future) -> None:
    """``done(future)`` on the loop, unless the loop has ended (a kernel shutting down, a script's
    asyncio.run returned after waiting for the job itself): then no one is left to show the result."""
    try:
        loop.call_soon_threadsafe(done, future)
    except RuntimeError:  # "Event loop is closed"
        pass


LOOP_CLOCK = LoopClock()
