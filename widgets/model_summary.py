"""ModelSummary: parameters, memory by dtype and a block view of the module tree of the last valid design."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.memory_chart import chart, weight_bars
from composer.module_tree import compact
from widgets._base import DesignWidget, bundle
from widgets._design import Design


class ModelSummary(DesignWidget):
    """Built on the meta device from the last valid design and refreshed once per burst of edits, so a
    70B design answers at once and typing never waits on it."""

    _esm = bundle("model_summary.js")
    lists_errors = False  # the shared design's notice says where the error is

    # Summary
    summary = traitlets.Dict().tag(sync=True)  # architecture, total, …, tree, and the memory chart (chart)

    # Memory chart: a device's memory in bytes, drawn as a marker across the bars (None: no marker)
    device_memory = traitlets.Int(None, allow_none=True, min=1)

    _shown: tuple[Any, dict[str, Any]] = ("", {})  # (design key and marker, summary with its compacted tree)

    def _state(self, design: Design) -> dict[str, Any]:
        if design.summary is None:  # the first validation still runs: the view says so
            return {**super()._state(design), "summary": {}}
        key = (design.spec.key(), self.device_memory)
        if key != self._shown[0]:
            self._shown = (key, {**design.summary, "tree": compact(design.summary["tree"]),
                                 "chart": chart(weight_bars(design.summary["memory"]), self.device_memory)})
        return {**super()._state(design), "summary": self._shown[1]}

    @traitlets.observe("device_memory")
    def _redraw(self, change) -> None:
        self._sync(self._design)
