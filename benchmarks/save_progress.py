"""Writing the weights with progress and cancel (composer.weights_file: chunk by chunk, each chunk synced
before it is counted) against safetensors' own save_file followed by one fsync, the file both write
byte for byte, in the same run. Each of RUNS rounds writes the same tensors both ways, alternating, to
a fresh file; figures are medians and p90s in seconds and the ratio of ours to safetensors'.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/save_progress.py [MiB]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

RUNS = 7


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10)[-1] if len(values) > 1 else values[0]


def main() -> None:
    import torch
    from safetensors.torch import save_file

    from composer.progress import Meter
    from composer.weights_file import write

    mib = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    torch.manual_seed(0)
    # Llama-like tensors: a few large matrices and many small vectors, fp32.
    tensors = {f"layers.{i}.weight": torch.randn(4096, 4096) for i in range(mib // 64)}
    tensors.update({f"layers.{i}.norm": torch.randn(4096) for i in range(mib // 64)})
    reports: list = []

    def ours(path: Path) -> None:
        meter = Meter(reports.append)
        meter.plan(writing=sum(t.numel() * t.element_size() for t in tensors.values()))
        meter.begin("writing the weights", "writing")
        write(tensors, path, {"format": "pt"}, meter)

    def theirs(path: Path) -> None:
        save_file(tensors, path, metadata={"format": "pt"})
        with open(path, "rb+") as f:
            os.fsync(f.fileno())

    times: dict[str, list[float]] = {"ours": [], "safetensors": []}
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(RUNS):
            for name, fn in (("ours", ours), ("safetensors", theirs)) if run % 2 else (("safetensors", theirs), ("ours", ours)):
                path = Path(tmp) / f"{name}.safetensors"
                path.unlink(missing_ok=True)
                start = time.perf_counter()
                fn(path)
                times[name].append(time.perf_counter() - start)
        same = (Path(tmp) / "ours.safetensors").read_bytes() == (Path(tmp) / "safetensors.safetensors").read_bytes()
    print(f"writing {mib} MiB of weights, {RUNS} runs each (byte-identical files: {same})")
    base_median, base_p90 = statistics.median(times["safetensors"]), p90(times["safetensors"])
    for name, values in times.items():
        median, top = statistics.median(values), p90(values)
        print(f"  {name:12} median {median:6.2f} s  p90 {top:6.2f} s   ratio to safetensors: "
              f"median {median / base_median:.2f}x  p90 {top / base_p90:.2f}x")
    print(f"  progress reports per write: {len(reports) // RUNS}")


if __name__ == "__main__":
    main()
