"""What the architecture drawing adds to an edit, against the summary of the same edit, in one run.

Each edit is a new design (the summary's caches never answer it): the summary is the engine's edit
path (validate + summarize, composer.summary.summarize), the drawing is composer.architecture.draw on
what that summary was read from, as the Composer's rebuild computes them one after the other. Designs:
the 70B Llama of examples/llama70b.json with its layer count edited (the few-layer variants and their
traced shapes are reused) and its width edited (every build and the meta forward pass are new), and
DistilBERT (examples/distilbert.json, built whole). Printed: median and p90 of each, and the ratio
drawing / summary. The heap is frozen after the warm-up edits, as the Composer freezes it.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/architecture_latency.py [--edits 20]
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
WARM_EDITS = 3
# name -> (spec file, the config field each edit changes, its first value, the step between edits)
CASES = {"Llama-70B layers": ("examples/llama70b.json", "num_hidden_layers", 80, 1),
         "Llama-70B width": ("examples/llama70b.json", "intermediate_size", 28672, 256),
         "DistilBERT dim": ("examples/distilbert.json", "dim", 768, 12)}


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def measure(name: str, edits: int) -> tuple[list[float], list[float]]:
    from composer import repeats
    from composer.architecture import draw
    from composer.spec import Spec
    from composer.summary import summarize
    from composer.validation import ready

    path, field, start, step = CASES[name]
    base = Spec.load(ROOT / path)
    summary_ms, drawing_ms = [], []
    for i in range(1, WARM_EDITS + edits + 1):
        spec = base.replace(config={**base.config, field: start + i * step})
        began = time.perf_counter()
        summarize(spec)
        middle = time.perf_counter()
        valid = ready(spec)  # cached by the summary: what the rebuild hands the drawing
        draw(valid, repeats.measured(valid))
        ended = time.perf_counter()
        if i == WARM_EDITS:  # as the Composer does after its first design (widgets._design.freeze_heap)
            gc.collect()
            gc.freeze()
        if i > WARM_EDITS:
            summary_ms.append((middle - began) * 1000)
            drawing_ms.append((ended - middle) * 1000)
    return summary_ms, drawing_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--edits", type=int, default=20, help="timed edits per design")
    args = parser.parse_args()
    print(f"Summary vs. architecture drawing of one edit; {args.edits} edits per row, each a new design")
    print(f"{'design':<18} {'summary ms':>11} {'p90':>7} {'drawing ms':>11} {'p90':>7} {'drawing/summary':>16} {'p90':>7}")
    for name in CASES:
        summary, drawing = measure(name, args.edits)
        print(f"{name:<18} {statistics.median(summary):>11.1f} {p90(summary):>7.1f} {statistics.median(drawing):>11.1f} "
              f"{p90(drawing):>7.1f} {statistics.median(drawing) / statistics.median(summary):>15.2f}x "
              f"{p90(drawing) / p90(summary):>6.2f}x")


if __name__ == "__main__":
    main()
