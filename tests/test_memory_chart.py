"""The memory chart's figures (issue 10, item 4): a bar per way of storing the weights, segments that
later figures stack onto, a device marker."""

from pathlib import Path

from composer import summarize
from composer.memory_chart import chart, stacked, weight_bars

LLAMA_70B = 70_553_706_496
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_a_bar_per_size_of_the_weights_largest_first():
    bars = weight_bars(summarize(EXAMPLES / "llama70b.json")["memory"])
    assert [(bar["label"], bar["segments"]) for bar in bars] == [
        ("fp32", [{"name": "weights", "bytes": 4 * LLAMA_70B}]),
        ("fp16 / bf16", [{"name": "weights", "bytes": 2 * LLAMA_70B}]),
        ("int8", [{"name": "weights", "bytes": LLAMA_70B}])]


def test_later_figures_stack_onto_the_bars_and_the_marker_sets_the_scale():
    bars = stacked(weight_bars({"fp32": 400, "bf16": 200}), "gradients", {"fp32": 400})
    drawn = chart(bars, device=1000)
    assert [bar["bytes"] for bar in drawn["bars"]] == [800, 200]
    assert drawn["legend"] == ["weights", "gradients"] and drawn["scale"] == 1000
    assert drawn["marker"] == {"label": "device memory", "bytes": 1000}
    assert chart(bars)["scale"] == 800 and chart(bars)["marker"] is None
    assert chart(bars, device=1000, headroom=100)["marker"]["headroom"] == 100  # a bar must stay under 900
