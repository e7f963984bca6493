"""Parameters, memory by dtype and the module tree of a design, computed on the meta device."""

from __future__ import annotations

from typing import Any

from composer import provenance, repeats
from composer.build import build_model
from composer.errors import SpecError
from composer.sizes import human
from composer.spec import Spec
from composer.validation import ready

MAX_LISTED_BLOCKS = 8  # blocks of new, resized or unused tensors the text names (--json has every tensor)


def summarize(spec: Spec | dict) -> dict[str, Any]:
    """Summary of a design, built on the meta device with its repeated blocks counted once and
    multiplied (composer.repeats: a 70B design answers at once); a pretrained design's with where each weight
    comes from (composer.provenance)."""
    spec = ready(spec)
    return provenance.marked(spec, repeats.measured(spec).summary)


def layer_rows(tree: dict[str, Any], depth: int = 2) -> list[tuple[str, str, int, dict[str, int]]]:
    """(dotted name, class, params, tensors by provenance mark) down to ``depth`` levels, for the layer table."""
    rows = []

    def walk(node, prefix, level):
        rows.append((prefix or node["name"], node["class"], node["params"], node.get("weights", {})))
        if level < depth:
            for child in node["children"]:
                walk(child, f"{prefix}.{child['name']}" if prefix else child["name"], level + 1)

    walk(tree, "", 0)
    return rows


def format_summary(summary: dict[str, Any], depth: int = 2) -> str:
    """The text the command line prints."""
    total = summary["total"]
    lines = [
        f"{summary['architecture']}",
        f"  total parameters      {total:>16,}",
        f"  trainable parameters  {summary['trainable']:>16,}",
        f"  embedding parameters  {summary['embeddings']:>16,}",
        "  memory  " + "  ".join(f"{k} {human(v, 'B')}" for k, v in summary["memory"].items()),
        *_provenance_lines(summary.get("provenance")),
        "",
        f"  {'module':<48} {'class':<40} {'params':>16} {'share':>7}" + ("  weights" if "provenance" in summary else ""),
    ]
    for name, cls, n, marks in layer_rows(summary["tree"], depth):
        share = f"{100 * n / total:.1f}%" if total else "-"
        lines.append(f"  {name[:48]:<48} {cls[:40]:<40} {n:>16,} {share:>7}" +
                     (f"  {provenance.in_words(marks)}" if "provenance" in summary else ""))
    return "\n".join(lines) + "\n"


def _provenance_lines(found: dict[str, Any] | None) -> list[str]:
    """Where a pretrained design's weights come from: tensors and parameters per mark, and the blocks of the
    new, resized and unused ones (``--json`` lists every tensor)."""
    if found is None:
        return []
    totals = found["totals"]
    lines = ["", f"  weights from {found['folder']} (resized: {found['resized']})"]
    for mark in provenance.MARKS:
        t = totals[mark]
        blocks = found["blocks"].get(mark, [])
        where = ", ".join(f"{b['block']} ({b['tensors']:,})" for b in blocks[:MAX_LISTED_BLOCKS])
        more = f" and {len(blocks) - MAX_LISTED_BLOCKS:,} more" if len(blocks) > MAX_LISTED_BLOCKS else ""
        lines.append(f"    {mark:<8} {t['tensors']:>6,} tensors {t['parameters']:>16,} params"
                     + (f"  {where}{more}" if where else ""))
    return lines


# ----- forward-pass summary (on request: builds real weights) ----------------------------------


def example_inputs(model) -> dict[str, Any]:
    """Small valid inputs for the model's main input (token ids, not an input size)."""
    import torch

    config = model.config
    main = getattr(model, "main_input_name", "input_ids")
    g = torch.Generator().manual_seed(0)
    if main == "input_ids":
        vocab = getattr(config, "vocab_size", None) or 100
        inputs = {"input_ids": torch.randint(0, vocab, (1, 16), generator=g)}
        if getattr(config, "is_encoder_decoder", False):
            inputs["decoder_input_ids"] = torch.randint(0, vocab, (1, 8), generator=g)
        return inputs
    if main == "pixel_values":
        size = getattr(config, "image_size", None) or 224
        size = size[0] if isinstance(size, (list, tuple)) else size
        channels = getattr(config, "num_channels", 3)
        return {"pixel_values": torch.randn(1, channels, size, size, generator=g)}
    if main == "input_values":
        return {"input_values": torch.randn(1, 16000, generator=g)}
    if main == "input_features":
        bins = getattr(config, "num_mel_bins", None) or getattr(config, "feature_size", 80)
        frames = 2 * getattr(config, "max_source_positions", 1500)
        return {"input_features": torch.randn(1, bins, frames, generator=g)}
    raise SpecError("architecture", f"no example input for main input {main!r}; the forward-pass summary "
                    "supports input_ids, pixel_values, input_values and input_features")


def forward_summary(spec: Spec | dict, depth: int = 3) -> str:
    """torchinfo's forward-pass table for the design (builds the model on CPU)."""
    import torch
    import torchinfo


    model = build_model(ready(spec), device="cpu").eval()
    with torch.no_grad():
        stats = torchinfo.summary(model, input_data=example_inputs(model), depth=depth, verbose=0,
                                  col_names=("output_size", "num_params"))
    return str(stats)
