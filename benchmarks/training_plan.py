"""The training plan's accuracy and latency: for each small design of tests/test_training_plan.py, the
plan's peak against the peak of the real step on this CPU (and the plan's time against the real
step's, the plan cold for its design); for the 70B design, a cold plan, a repeated edit that
measures nothing (device kind), and an edit that measures again (micro-batch).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/training_plan.py
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from composer.training import actual  # noqa: E402
from composer.training.plan import plan  # noqa: E402
from composer.training.settings import Settings  # noqa: E402
from composer.validation import ready  # noqa: E402
from test_training_plan import DESIGNS  # noqa: E402


def timed(fn):
    started = time.perf_counter()
    return fn(), time.perf_counter() - started


def main() -> None:
    print(f"{'design':<46} {'plan B':>12} {'real B':>12} {'error':>7} {'plan s':>7} {'real s':>7}")
    for kind, (spec, settings) in DESIGNS.items():
        ready(spec)  # validation is the composer's, not the plan's
        p, plan_s = timed(lambda: plan(spec, settings))
        real, real_s = timed(lambda: actual.peak_bytes(spec, Settings(**settings)))
        print(f"{kind:<46} {p.peak:>12,} {real:>12,} {100 * (p.peak - real) / real:>+6.2f}% {plan_s:>7.2f} {real_s:>7.2f}")
    spec = ROOT / "examples" / "llama70b.json"
    ready(spec)
    base = {"micro_batch": 1, "sequence_length": 4096, "recomputation": "per-block", "layout": "fsdp"}
    for label, settings in (("70B cold", base), ("70B edit: device 141 GB", {**base, "device": "141"}),
                            ("70B edit: micro-batch 2", {**base, "micro_batch": 2}),
                            ("70B again: micro-batch 1", base)):
        p, seconds = timed(lambda: plan(spec, settings))
        print(f"{label:<28} {seconds:7.2f} s  devices {p.devices}  peak {p.peak / 2**30:.2f} GiB  "
              f"{[(k, round(v / 2**30, 2)) for k, v in p.per_device.items()]}")


if __name__ == "__main__":
    main()
