"""The training plan's accuracy and latency, as ratios against baselines measured in the same run.

1. For each small design of tests/test_training_plan.py, and two of a size people train on a laptop
   (BERT-base, GPT-2 small), the plan's peak against the peak of the real step on this CPU, and the
   time of a cold plan (a design it never saw: another seed) against the time of finding that peak by
   running the step (composer.training.actual: the model built with real weights, a step, a profiled
   step).
2. For the 70B design (examples/llama70b.json), in a warm process: a plan of settings not measured
   before (the micro-batch changed), and a repeated edit (the device kind changed: nothing measured
   again), each against validating the design with its summary, the composer's own work on every
   edit (a new seed: built again).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/training_plan.py
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from composer.spec import as_spec  # noqa: E402
from composer.training import actual  # noqa: E402
from composer.training.plan import plan  # noqa: E402
from composer.training.settings import Settings  # noqa: E402
from composer.validation import ready  # noqa: E402
from test_training_plan import DESIGNS  # noqa: E402

LAPTOP = {
    "BERT-base, fp32": ({"model_type": "bert", "architecture": "BertForMaskedLM", "config": {}},
                        {"micro_batch": 4, "sequence_length": 128, "precision": "fp32"}),
    "GPT-2 small, fp32": ({"model_type": "gpt2", "architecture": "GPT2LMHeadModel", "config": {}},
                          {"micro_batch": 2, "sequence_length": 128, "precision": "fp32"}),
}
REPEATS = 5


def timed(fn):
    started = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - started


def median_p90(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def seeded(spec: dict, seed: int):
    return ready(as_spec({**spec, "seed": seed}))


def small_designs() -> None:
    print(f"{'design':<44} {'plan B':>13} {'real B':>13} {'error':>7} {'plan s':>13} {'real s':>13} "
          f"{'real/plan':>14}")
    for kind, (spec, settings) in {**DESIGNS, **LAPTOP}.items():
        repeats = REPEATS if kind in DESIGNS else 3
        plans, reals, ratios = [], [], []
        for seed in range(repeats):
            design = seeded(spec, 1000 + seed)  # never planned before: the plan is cold
            p, plan_s = timed(lambda: plan(design, settings))
            real, real_s = timed(lambda: actual.peak_bytes(design, Settings(**settings)))
            plans.append(plan_s)
            reals.append(real_s)
            ratios.append(real_s / plan_s)
        pm, pp = median_p90(plans)
        rm, rp = median_p90(reals)
        qm, qp = median_p90(ratios)
        print(f"{kind:<44} {p.peak:>13,} {real:>13,} {100 * (p.peak - real) / real:>+6.2f}% "
              f"{pm:>6.2f}/{pp:<6.2f} {rm:>6.2f}/{rp:<6.2f} {qm:>6.1f}x/{qp:<5.1f}x")
    print("(times: median/p90 seconds; real/plan: how many times faster the plan is, median/p90 of the"
          " per-run ratios)")


def seventy_b() -> None:
    spec = as_spec(ROOT / "examples" / "llama70b.json").to_dict()
    base = {"micro_batch": 1, "sequence_length": 4096, "recomputation": "per-block", "layout": "fsdp"}
    plan(seeded(spec, 0), base)  # the process warm: imports, transformers' classes, torch's fake kernels
    rows: dict[str, list[float]] = {"validation + summary (baseline)": [], "plan, new micro-batch": [],
                                    "plan, repeated edit (device kind)": []}
    ratios: dict[str, list[float]] = {k: [] for k in list(rows)[1:]}
    for run in range(REPEATS):
        design, summary_s = timed(lambda: seeded(spec, 1 + run))
        plan(design, base)
        _, new_s = timed(lambda: plan(design, {**base, "micro_batch": 2 + run}))
        p, edit_s = timed(lambda: plan(design, {**base, "micro_batch": 2 + run, "device": "141"}))
        for label, seconds in zip(rows, (summary_s, new_s, edit_s)):
            rows[label].append(seconds)
        ratios["plan, new micro-batch"].append(new_s / summary_s)
        ratios["plan, repeated edit (device kind)"].append(edit_s / summary_s)
    print(f"\n70B design ({p.params:,} parameters), {REPEATS} runs: seconds median/p90, and against the baseline")
    for label, values in rows.items():
        m, q = median_p90(values)
        extra = "" if label not in ratios else "  {:.2f}x/{:.2f}x".format(*median_p90(ratios[label]))
        print(f"  {label:<36} {m:7.3f}/{q:<7.3f}{extra}")
    print(f"  last plan: {p.devices} devices of 141 GB, peak {p.peak / 2**30:.2f} GiB per device")


if __name__ == "__main__":
    small_designs()
    seventy_b()
