"""ModelSummary: parameters, memory by dtype and a block view of the module tree of the last valid design."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.memory_chart import chart, weight_bars
from widgets._base import DesignWidget, bundle
from widgets._design import Design


def _signature(node: dict[str, Any]) -> tuple:
    return (node["class"], node["params"], tuple(node.get("weights", {}).items()),
            tuple(_signature(c) for c in node["children"]))


def compact(node: dict[str, Any]) -> dict[str, Any]:
    """The module tree with runs of identical numbered siblings (a ModuleList's 80 decoder layers) folded
    into one block ``{"name": "0–79", "repeat": 80, "params": <all 80>, "each": <one>}``: small to
    send, quick to draw. Named siblings (q_proj, k_proj, …) stay apart even when alike, and so do layers
    whose weights come from elsewhere (loaded ones, new ones)."""
    children: list[dict[str, Any]] = []
    run: list[dict[str, Any]] = []

    def close_run() -> None:
        if len(run) == 1:
            children.append(compact(run[0]))
        elif run:
            first = compact(run[0])
            children.append({**first, "name": f"{run[0]['name']}–{run[-1]['name']}", "repeat": len(run),
                             "each": first["params"], "params": first["params"] * len(run),
                             **({"weights": {m: n * len(run) for m, n in first["weights"].items()}}
                                if "weights" in first else {})})
        run.clear()

    for child in node["children"]:
        numbered = child["name"].isdigit()
        if run and not (numbered and run[-1]["name"].isdigit() and _signature(child) == _signature(run[0])):
            close_run()
        run.append(child)
    close_run()
    out = {"name": node["name"], "class": node["class"], "params": node["params"], "children": children}
    if "weights" in node:  # a pretrained design's tensors by provenance mark (composer.provenance)
        out["weights"] = node["weights"]
    return out


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
