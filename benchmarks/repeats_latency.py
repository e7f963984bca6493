"""The edit path of a summary (validate + summarize of a changed design) with repeated blocks counted
once and multiplied (composer.repeats), against the code before it, in the same run.

Each code version runs in its own interpreter (the code before is a `git archive` of REF, default
ad05b37, main before issue 9), measures the same edits, and measures a baseline: DistilBertModel built
on CPU by hand. Figures are medians and p90s; each is also given as a ratio of that baseline, so that
two versions measured a minute apart on a shared machine compare fairly.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/repeats_latency.py [REF]
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parent.parent
EDITS = 15
LLAMA_70B = {"hidden_size": 8192, "intermediate_size": 28672, "num_hidden_layers": 80, "num_attention_heads": 64,
             "num_key_value_heads": 8, "vocab_size": 128256}
# name, model type, architecture, config, the attribute each edit changes, its values
CASES = [
    ("DistilBERT, n_layers edits", "distilbert", None, {}, "n_layers", [2 + i for i in range(EDITS)]),
    ("DistilBERT, dim edits", "distilbert", None, {}, "dim", [768 + 12 * (i + 1) for i in range(EDITS)]),
    ("DistilBERT 1000 layers, dim edits", "distilbert", None, {"n_layers": 1000}, "dim", [768 + 12 * (i + 1) for i in range(5)]),
    ("Llama-70B, layer edits", "llama", "LlamaForCausalLM", LLAMA_70B, "num_hidden_layers",
     [80 + (-1) ** i * (1 + i // 2) for i in range(EDITS)]),
    ("Llama-70B, width edits", "llama", "LlamaForCausalLM", LLAMA_70B, "intermediate_size",
     [28672 + 256 * (i + 1) for i in range(EDITS)]),
]


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def measure() -> dict:
    """Run in the interpreter of one code version: the baseline and each case's edit times (s)."""
    import warnings

    import torch
    import transformers
    from transformers import DistilBertConfig, DistilBertModel

    from composer import Spec, summarize

    transformers.logging.set_verbosity_error()
    warnings.simplefilter("ignore")

    def by_hand():
        torch.manual_seed(0)
        DistilBertModel(DistilBertConfig())

    by_hand()
    baseline = []
    for _ in range(5):
        start = time.perf_counter()
        by_hand()
        baseline.append(time.perf_counter() - start)
    out = {"baseline": statistics.median(baseline), "cases": {}}
    for name, model_type, architecture, config, attr, values in CASES:
        summarize(Spec(model_type=model_type, architecture=architecture, config=dict(config)))  # warm: imports
        times, totals = [], []
        for value in values:
            spec = Spec(model_type=model_type, architecture=architecture, config={**config, attr: value})
            start = time.perf_counter()
            totals.append(summarize(spec)["total"])
            times.append(time.perf_counter() - start)
        out["cases"][name] = {"times": times, "totals": totals}
    return out


def run_version(tree: Path) -> dict:
    code = f"import sys; sys.path.insert(0, {str(tree)!r}); sys.path.insert(1, {str(ROOT / 'benchmarks')!r}); " \
           "import json, repeats_latency as r; print(json.dumps(r.measure()))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tree, check=True,
                          env={**os.environ, "PYTHONPATH": str(tree)})
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> int:
    ref = argv[0] if argv else "ad05b37"
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(["git", "archive", ref], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        before = run_version(Path(tmp))
    after = run_version(ROOT)
    print(f"baseline, DistilBertModel on CPU by hand (median of 5): before {before['baseline'] * 1000:.0f} ms, "
          f"after {after['baseline'] * 1000:.0f} ms")
    print(f"{'edit path (validate + summarize)':<36} {'before med/p90':>18} {'after med/p90':>16} "
          f"{'x baseline before':>18} {'after':>12} {'speed-up med/p90':>17}")
    same = True
    for name in after["cases"]:
        b, a = before["cases"][name], after["cases"][name]
        same = same and b["totals"] == a["totals"]
        bm, bp, am, ap = statistics.median(b["times"]), p90(b["times"]), statistics.median(a["times"]), p90(a["times"])
        rb = (bm / before["baseline"], bp / before["baseline"])
        ra = (am / after["baseline"], ap / after["baseline"])
        print(f"{name:<36} {bm * 1000:>8.1f}/{bp * 1000:>6.1f} ms {am * 1000:>7.1f}/{ap * 1000:>6.1f} ms "
              f"{rb[0]:>9.3f}/{rb[1]:.3f} {ra[0]:>6.3f}/{ra[1]:.3f} {rb[0] / ra[0]:>9.1f}x/{rb[1] / ra[1]:.1f}x")
    print(f"same parameter counts before and after: {'yes' if same else 'NO'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
