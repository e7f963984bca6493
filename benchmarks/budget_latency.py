"""The parameter budget's search on the 70B design (examples/llama70b.json), against one summarize of
the same design measured in the same run, both from cold engine caches (the validated designs, the
summaries and the few-layer builds dropped before each run): how many summaries' worth a budget costs,
and how many designs it counts.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/budget_latency.py [ROUNDS]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from composer import repeats, validation  # noqa: E402
from composer.budget import budget  # noqa: E402
from composer.spec import Spec  # noqa: E402
from composer.summary import summarize  # noqa: E402

DESIGN = Spec.load(ROOT / "examples" / "llama70b.json")
CASES = [("num_hidden_layers", "30B"), ("num_hidden_layers", "100B"), ("hidden_size", "30B")]


def cold() -> None:
    """Forget every design the engine validated, summarised or built a few-layer variant of."""
    for cache in (validation._READY, repeats._MEASURED, repeats._BUILT):
        cache.clear()


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def timed(fn) -> tuple[float, object]:
    cold()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main(rounds: int) -> None:
    warnings.simplefilter("ignore")
    summarize(DESIGN)  # imports, the catalog
    for field, target in CASES:
        budget(DESIGN, target, field)
    base: list[float] = []
    times: dict[tuple[str, str], list[float]] = {case: [] for case in CASES}
    found: dict[tuple[str, str], dict] = {}
    for _ in range(rounds):  # interleaved: a busy moment on a shared machine hits both alike
        base.append(timed(lambda: summarize(DESIGN))[0])
        for case in CASES:
            seconds, found[case] = timed(lambda case=case: budget(DESIGN, case[1], case[0]))
            times[case].append(seconds)
    b_med, b_p90 = statistics.median(base), p90(base)
    print(f"baseline: one summarize of the 70B design, cold: median {b_med * 1e3:.0f} ms, p90 {b_p90 * 1e3:.0f} ms "
          f"({rounds} rounds)")
    for (field, target), values in times.items():
        r = found[(field, target)]
        med, high = statistics.median(values), p90(values)
        print(f"budget {field} for {target}: median {med * 1e3:.0f} ms ({med / b_med:.1f}x the baseline), "
              f"p90 {high * 1e3:.0f} ms ({high / b_p90:.1f}x); {r['counts']} designs counted, {r['checked']} values "
              f"checked; below {r['below']['value']:,}, above {r['above']['value']:,}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 9)
