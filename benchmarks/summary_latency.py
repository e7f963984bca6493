"""How fast a design's summary answers, on the meta device, against building DistilBERT on CPU by hand.

The machine is shared and noisy, so every figure is a median and is also given as a ratio against
the by-hand build measured in the same run. Three cases per design:

* first  - the first summary of that design in this process (torch and transformers are already
           imported by the baseline; the first Llama imports its modeling module);
* cached - the same design again (what a re-render or an undo costs);
* edit   - a changed design (one more or one fewer layer each time): validated and built anew.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/summary_latency.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

LLAMA_70B = {"hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
             "num_key_value_heads": 8, "vocab_size": 128256}
BERT_LARGE = {"hidden_size": 1024, "num_hidden_layers": 24, "num_attention_heads": 16, "intermediate_size": 4096}
# name, model_type, architecture, config, the layer-count attribute an edit changes
DESIGNS = [
    ("DistilBERT", "distilbert", None, {}, "n_layers"),
    ("BERT-large", "bert", None, BERT_LARGE, "num_hidden_layers"),
    ("Llama-7B", "llama", "LlamaForCausalLM", {}, "num_hidden_layers"),
    ("Llama-70B", "llama", "LlamaForCausalLM", LLAMA_70B, "num_hidden_layers"),
]
GOAL_MS, GOAL_RATIO, IMPORT_GOAL_S = 100, 5, 0.5


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def import_time(repeat: int = 5) -> float:
    """`import composer` in a fresh interpreter (it must stay lazy: no torch, no transformers)."""
    code = "import time; t = time.perf_counter(); import composer; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(repeat)]
    return statistics.median(runs)


def by_hand_cpu_build():
    import torch
    from transformers import DistilBertConfig, DistilBertModel

    torch.manual_seed(0)
    return DistilBertModel(DistilBertConfig())


def weights(model) -> dict:
    return {name: tensor.clone() for name, tensor in model.state_dict().items()}


def concurrent_cpu_builds_unchanged(reference: dict) -> bool:
    """The save panel builds on CPU in a thread while edits build on meta with torch's init off:
    the CPU weights must still be the seeded ones."""
    import threading

    import torch

    from composer import Spec
    from composer.validation import ready
    from composer.build import build_model
    from composer.summary import summarize

    spec = ready(Spec(model_type="distilbert"))
    same = []

    def cpu():
        for _ in range(3):
            state = build_model(spec).state_dict()
            same.append(state.keys() == reference.keys() and all(torch.equal(reference[k], state[k]) for k in state))

    thread = threading.Thread(target=cpu)
    thread.start()
    n = 0
    while thread.is_alive():
        n += 1
        summarize(Spec(model_type="bert", config={**BERT_LARGE, "num_hidden_layers": 1 + n % 40, "vocab_size": 20000 + n}))
    thread.join()
    return all(same)


def main() -> int:
    import torch

    from composer import Spec
    from composer.fields import fields_by_name
    from composer.summary import summarize

    imported = import_time()
    by_hand_cpu_build()  # warm-up: imports and first-call costs are not the baseline
    before = weights(by_hand_cpu_build())
    baseline = median_time(by_hand_cpu_build, 5)

    rows = []
    for name, model_type, architecture, config, layers in DESIGNS:
        spec = Spec(model_type=model_type, architecture=architecture, config=dict(config))
        start = time.perf_counter()
        total = summarize(spec)["total"]
        first = time.perf_counter() - start
        cached = median_time(lambda: summarize(spec), 20)
        n = config.get(layers) or fields_by_name(model_type)[layers].default
        edits = iter([n + d for k in range(1, 5) for d in (-k, k)])
        edit = median_time(lambda: summarize(spec.replace(config={**config, layers: next(edits)})), 7)
        rows.append((name, total, first, cached, edit))

    # torch's init is skipped on meta; the CPU build right after all these meta builds must not change.
    after = weights(by_hand_cpu_build())
    same = before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
    concurrent = concurrent_cpu_builds_unchanged(before)

    print(f"import composer: {imported * 1000:.0f} ms (goal < {IMPORT_GOAL_S * 1000:.0f} ms)")
    print(f"baseline, DistilBertModel(DistilBertConfig()) on CPU by hand: {baseline * 1000:.0f} ms (median of 5)")
    print(f"CPU build unchanged by the meta builds in between (bit-identical weights): {'yes' if same else 'NO'}")
    print(f"CPU builds on a thread during meta builds, bit-identical: {'yes' if concurrent else 'NO'}")
    print()
    print(f"{'design':<11} {'parameters':>15} {'first':>9} {'cached':>9} {'edit':>9}   "
          f"{'baseline/cached':>15} {'baseline/edit':>13}")
    for name, total, first, cached, edit in rows:
        print(f"{name:<11} {total:>15,} {first * 1000:>7.0f}ms {cached * 1000:>7.2f}ms {edit * 1000:>7.0f}ms   "
              f"{baseline / cached:>14.0f}x {baseline / edit:>12.1f}x")
    print()
    cached_ok = all(c * 1000 <= GOAL_MS and baseline / c >= GOAL_RATIO for _, _, _, c, _ in rows)
    edit_ok = all(e * 1000 <= GOAL_MS and baseline / e >= GOAL_RATIO for _, _, _, _, e in rows)
    print(f"goal, cached summary <= {GOAL_MS} ms and >= {GOAL_RATIO}x faster than the baseline: "
          f"{'met' if cached_ok else 'NOT met'}")
    print(f"same goal for an edit (uncached design): {'met' if edit_ok else 'NOT met'}")
    print(f"goal, import composer < {IMPORT_GOAL_S} s: {'met' if imported < IMPORT_GOAL_S else 'NOT met'}")
    return 0 if same and concurrent and cached_ok and imported < IMPORT_GOAL_S else 1


if __name__ == "__main__":
    sys.exit(main())
