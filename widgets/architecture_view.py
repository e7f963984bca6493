"""ArchitectureView: the design drawn as blocks in data-flow order (composer.architecture), the repeated
block once with ×N; clicking a block lists the config fields that shape it."""

from __future__ import annotations

from typing import Any

import traitlets

from widgets._base import DesignWidget, bundle
from widgets._design import Design


class ArchitectureView(DesignWidget):
    """Drawn from the last valid design; the drawing is computed with its summary, off the main thread,
    once per burst of edits (widgets._design.rebuilt)."""

    _esm = bundle("architecture.js")
    lists_errors = False  # the shared design's notice says where the error is

    # Drawing: architecture, total, input (the sample input's shapes), blocks (composer.architecture)
    drawing = traitlets.Dict().tag(sync=True)

    def _state(self, design: Design) -> dict[str, Any]:
        return {**super()._state(design), "drawing": design.architecture}
