"""One edit in the Composer, kernel side, against the code of an earlier commit measured in the same run.

An edit is the front end's message changing the layer count or a width, through to the summary, the code and every
preprocessing panel brought up to date (all four panels open), with each message the widgets send
serialised to JSON as the kernel would. Two designs: DistilBERT (examples/distilbert.json) and the
70B Llama (examples/llama70b.json, the design of tests/golden/llama70b.py). The earlier commit (default
ad05b37, main before issue 9) is checked out with ``git worktree add`` into a temporary folder; both
run in fresh subprocesses, alternating, so load from other processes on a shared machine hits both
alike. Reported: median and p90 per design and version, the ratio old / new, and what one edit sends.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/edit_path.py [--base COMMIT] [--rounds 4] [--edits 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# design -> (spec file, the field each edit changes, its first value, the step between edits): a layer
# count, and a width (every block changes: nothing of the previous design's builds can be reused).
DESIGNS = {"DistilBERT": ("examples/distilbert.json", "config.n_layers", 2, 1),
           "DistilBERT dim": ("examples/distilbert.json", "config.dim", 768, 12),
           "Llama-70B": ("examples/llama70b.json", "config.num_hidden_layers", 80, 1),
           "Llama-70B width": ("examples/llama70b.json", "config.hidden_size", 8192, 128)}  # head_dim stays even (rotary)
PANELS = ("tokenizer", "image_processor", "feature_extractor", "processor")
WARM_EDITS = 3


def worker(design: str, edits: int) -> None:
    """Run in a subprocess whose import path is one version's tree: print the timings as JSON."""
    import comm
    from comm.base_comm import BaseComm

    sent: Counter = Counter()

    class JsonComm(BaseComm):
        """What the kernel does with a widget message: serialise it (and count the traits it carries)."""

        def publish_msg(self, msg_type, data=None, metadata=None, buffers=None, **keys):
            json.dumps(data, default=str)
            for name in (data or {}).get("state", {}):
                sent[name] += 1

    comm.create_comm = JsonComm
    from widgets import Composer

    path, field, start, step = DESIGNS[design]
    composer = Composer(spec=ROOT / path)
    panels = [composer.preview(key) for key in PANELS]

    def one_edit(value: int) -> float:
        began = time.perf_counter()
        composer.config_form._handle_custom_msg({"edit": {field: value}}, [])
        composer.flush()
        for panel in panels:
            (panel.view if hasattr(panel, "view") else panel).refresh()
        return (time.perf_counter() - began) * 1000

    values = iter(range(start + step, start + step * (1 + WARM_EDITS + edits), step))  # every edit a new design
    for _ in range(WARM_EDITS):
        one_edit(next(values))
    sent.clear()
    times = [one_edit(next(values)) for _ in range(edits)]
    print(json.dumps({"ms": times, "sent": {k: v / edits for k, v in sent.items()}}))


def run(tree: Path, design: str, edits: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(tree), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--worker", design, "--edits", str(edits)],
                         cwd=tree, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="ad05b37", help="the commit to compare against")
    parser.add_argument("--rounds", type=int, default=4, help="subprocesses per design and version")
    parser.add_argument("--edits", type=int, default=30, help="timed edits per subprocess")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.edits)
        return
    with tempfile.TemporaryDirectory(prefix="edit-path-") as tmp:
        base = Path(tmp) / "base"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(base), args.base],
                       check=True)
        if (base / "package.json").is_file():  # its front end is bundled by esbuild: the widgets load the build
            (base / "node_modules").symlink_to(ROOT / "node_modules")
            subprocess.run(["npm", "run", "build", "--silent"], cwd=base, check=True, capture_output=True)
        try:
            trees = {"base": base, "this": ROOT}
            results = {(d, v): {"ms": [], "sent": {}} for d in DESIGNS for v in trees}
            for round_ in range(args.rounds):
                for design in DESIGNS:
                    order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
                    for version in order:
                        got = run(trees[version], design, args.edits)
                        results[design, version]["ms"] += got["ms"]
                        results[design, version]["sent"] = got["sent"]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=True)
    print(f"One edit, kernel side, every panel open; {args.rounds} x {args.edits} edits per row; base {args.base}")
    print(f"{'design':<15} {'version':<7} {'median ms':>10} {'p90 ms':>8}   messages per edit (trait: times)")
    for design in DESIGNS:
        for version in trees:
            r = results[design, version]
            sent = ", ".join(f"{k} {v:g}" for k, v in sorted(r["sent"].items()))
            print(f"{design:<15} {version:<7} {statistics.median(r['ms']):>10.1f} {p90(r['ms']):>8.1f}   {sent}")
        old, new = results[design, "base"]["ms"], results[design, "this"]["ms"]
        print(f"{design:<15} {'ratio':<7} {statistics.median(old) / statistics.median(new):>9.2f}x "
              f"{p90(old) / p90(new):>7.2f}x   (base / this: above 1 is faster)")


if __name__ == "__main__":
    main()
