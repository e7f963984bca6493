"""ArchitectureView: the design drawn as blocks in data-flow order (composer.architecture), the repeated
block once with ×N; clicking a block lists the config fields that shape it."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.architecture import architecture
from widgets._base import DesignWidget, bundle
from widgets._design import Design


class ArchitectureView(DesignWidget):
    """Drawn from the last valid design, with its summary (widgets._design.rebuilt) but without the
    forward pass that gives the shapes and the data-flow order: that pass costs more than the summary,
    so it runs after, off the main thread, and fills them in unless a newer design came first."""

    _esm = bundle("architecture.js")
    lists_errors = False  # the shared design's notice says where the error is

    # Drawing: architecture, total, input (the sample input's shapes), traced, blocks (composer.architecture)
    drawing = traitlets.Dict().tag(sync=True)

    def __init__(self, *args: Any, **kwargs: Any):
        self._wanted: str | None = None  # the design whose shapes are being traced
        self._traced: tuple[str, dict] | None = None  # (design key, its drawing with shapes)
        super().__init__(*args, **kwargs)
        self._fill(self._design)

    def _state(self, design: Design) -> dict[str, Any]:
        drawing = design.architecture
        if self._traced is not None and self._traced[0] == design.spec.key():
            drawing = self._traced[1]
        return {**super()._state(design), "drawing": drawing}

    def _sync(self, design: Design) -> None:
        super()._sync(design)
        self._fill(design)

    def _fill(self, design: Design) -> None:
        """Trace the shapes of the design on show, once (a newer design drops an older trace)."""
        spec = design.spec
        wanted = spec.key()
        if not design.checked or design.architecture.get("traced") or wanted in (self._wanted, self._traced and self._traced[0]):
            return
        self._wanted = wanted

        def job():
            return architecture(spec) if self._wanted == wanted else None

        def done(future) -> None:
            if self._wanted == wanted and future.exception() is None and future.result() is not None:
                self._wanted, self._traced = None, (wanted, future.result())
                self.drawing = future.result()

        design.clock.start(job, done)
