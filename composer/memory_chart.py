"""The memory chart: one horizontal bar per way of storing the weights (fp32, fp16 / bf16, int8), each a
stack of named segments in bytes, and an optional marker for a device's memory.

The summary's bars hold one segment, the weights; the training plan's bar (composer.training.plan.Plan.bars)
stacks gradients, optimizer states, gathered blocks and activations on them, against its device's memory
less a headroom. The view draws whatever segments a bar has, in order, with one legend entry per segment
name.
"""

from __future__ import annotations

from typing import Any


def weight_bars(memory: dict[str, int]) -> list[dict[str, Any]]:
    """A bar per size of the summary's memory by dtype (``summary["memory"]``); dtypes of equal size
    share one ("fp16 / bf16"), largest first."""
    by_size: dict[int, list[str]] = {}
    for dtype, size in memory.items():
        by_size.setdefault(size, []).append(dtype)
    return [{"label": " / ".join(dtypes), "segments": [{"name": "weights", "bytes": size}]}
            for size, dtypes in sorted(by_size.items(), reverse=True)]


def stacked(bars: list[dict[str, Any]], name: str, sizes: dict[str, int]) -> list[dict[str, Any]]:
    """The bars with a segment ``name`` added on top of those ``sizes`` names by label."""
    return [{**bar, "segments": [*bar["segments"], {"name": name, "bytes": sizes[bar["label"]]}]}
            if bar["label"] in sizes else bar for bar in bars]


def chart(bars: list[dict[str, Any]], device: int | None = None, device_label: str = "device memory",
          headroom: int = 0) -> dict[str, Any]:
    """What the view draws: the bars with each one's total, the segment names in legend order, the
    scale (the largest of the totals and the marker) and the marker, if a device's bytes are given,
    with the ``headroom`` below it that a bar must leave free (a bar over the rest is over)."""
    shown = [{**bar, "bytes": sum(s["bytes"] for s in bar["segments"])} for bar in bars]
    legend = list(dict.fromkeys(s["name"] for bar in bars for s in bar["segments"]))
    marker = {"label": device_label, "bytes": device, **({"headroom": headroom} if headroom else {})} if device else None
    scale = max([bar["bytes"] for bar in shown] + ([device] if device else []), default=0)
    return {"bars": shown, "legend": legend, "scale": scale, "marker": marker}
