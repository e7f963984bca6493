"""A launch folder for a design and its training plan: train.py (PyTorch's FSDP2, importing only torch
and transformers) with the design's exported code as design.py, launch.sh (torchrun, one node or
many), an accelerate config and a README giving the plan. The folder is written as a checkpoint is
(composer.safe_folder): whole or not at all, and never over a folder the composer did not write.

train.py, launch.sh, README.md and the sample text are files of composer/training/launch_folder:
train.py (which reads launch.json) and the text are copied as they are, launch.sh and README.md with the
plan's figures filled in at their @NAME@ marks."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path
from typing import Any

from composer import catalog
from composer.build import build_meta_model
from composer.build import plan as build_steps
from composer.codegen import saved_parts, to_code
from composer.errors import SpecError
from composer.progress import Meter
from composer.safe_folder import admit, target_path, writing
from composer.sizes import human
from composer.spec import Spec
from composer.training import inputs
from composer.training.inputs import Sizes
from composer.training.plan import Plan, format_plan, plan
from composer.training.settings import Settings
from composer.validation import ready

TEMPLATES = Path(__file__).parent / "launch_folder"
SAMPLE = "sample.txt"  # the shipped training text: the default data of a design with a tokenizer
# The heads train.py has data and labels for, with the main inputs it reads for them and the
# preprocessing part it reads them through (text without a tokenizer can still be token ids).
TASKS = {"causal-lm": (("input_ids",), None), "masked-lm": (("input_ids",), None),
         "image-classification": (("pixel_values",), "image_processor"),
         "audio-classification": (("input_values", "input_features"), "feature_extractor")}
DEVICES_PER_NODE = 8  # the usual GPU node; a plan on more devices spans whole nodes of 8
FORMAT = "composer.launch/1"

LAYOUTS = {
    "single": "one device: `fully_shard` over a group of one is plain training (more processes shard "
              "as `zero-2` does).",
    "ddp": "data-parallel. train.py maps it to `fully_shard(reshard_after_forward=False)`: weights, gradients "
           "and optimizer states sharded, the weights kept gathered from the forward to the backward, so "
           "each device holds at most what DDP would, with ZeRO-2's communication.",
    "zero-1": "ZeRO-1. train.py maps it to `fully_shard(reshard_after_forward=False)` (ZeRO-2-like: the "
              "gradients are sharded too, which only lowers the memory the plan counts).",
    "zero-2": "ZeRO-2: `fully_shard(reshard_after_forward=False)`; the weights stay gathered from the "
              "forward to the backward.",
    "fsdp": "full shard: `fully_shard(reshard_after_forward=True)`; each block's weights are gathered for "
            "its forward and again for its backward.",
}
PRECISIONS = {
    "fp32": "fp32 throughout.",
    "bf16-mixed": "`MixedPrecisionPolicy(param_dtype=bfloat16, reduce_dtype=float32)`: fp32 master "
                  "weights and optimizer states, bf16 compute, fp32 gradient reduction.",
    "fp16-mixed": "`MixedPrecisionPolicy(param_dtype=float16, reduce_dtype=float32)` with a dynamic loss "
                  "scale (from 2^16, halved and the step skipped on an overflow, doubled after 2,000 good "
                  "steps; the gradient norm is global, so every process skips the same steps).",
}
OPTIMIZERS = {
    "adamw": "`torch.optim.AdamW` (torch's defaults but the learning rate).",
    "sgd-momentum": "`torch.optim.SGD(momentum=0.9)`.",
    "adafactor": "`transformers.optimization.Adafactor(relative_step=False, scale_parameter=False)`, its "
                 "factored states made as sharded tensors so that it runs on the shards as it would unsharded.",
}
RECOMPUTATIONS = {
    "none": "none.",
    "per-block": "per block: `gradient_checkpointing_enable(use_reentrant=False)`, each block's forward run "
                 "again in the backward.",
}


def write_launch(spec: Spec | dict | str | Path, settings: Settings | dict | None, folder: str | Path,
                 overwrite: bool = False) -> Path:
    """Write the launch folder of ``spec`` for the training plan of ``settings`` and return its path.
    A design or setting train.py cannot run is refused first, as a SpecError naming its field; an
    existing folder is replaced only with ``overwrite`` (composer.safe_folder.FolderExists)."""
    target = target_path(folder)
    admit(target, overwrite)  # a refused folder costs no plan
    settings = settings if isinstance(settings, Settings) else Settings.from_dict(settings or {})
    spec = ready(spec)
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    model = build_meta_model(spec)
    made = {step.target for step in build_steps(spec)}
    _refuse(spec, settings, head, model, made)
    p = plan(spec, settings)
    if not p.fits:
        field, _, reason = (p.advice or "plan.devices: no device count holds the peak").partition(": ")
        raise SpecError(field, f"the plan does not fit ({reason}); a launch of it would run out of memory")
    blocks = shardable_blocks(model)
    per_node = min(p.devices, DEVICES_PER_NODE)  # whole nodes: more devices than planned only hold less each
    nodes = math.ceil(p.devices / per_node)
    sizes = Sizes(*p.measured["micro_batch"])
    text_data = sizes.main == "input_ids" and ("tokenizer" in made or "processor" in made)
    settings_file = {
        "format": FORMAT, "architecture": head.name, "task": head.task, "seed": spec.seed, "main_input": sizes.main,
        "micro_batch": settings.micro_batch, "sequence_length": sizes.tokens if sizes.main == "input_ids" else None,
        "audio_samples": sizes.samples,
        "precision": settings.precision, "optimizer": settings.optimizer, "recomputation": settings.recomputation,
        "attention": settings.attention, "layout": settings.layout, "devices": p.devices, "tokens": p.tokens,
        "blocks": blocks, "processors": saved_parts(made), "data": SAMPLE if text_data else None,
    }
    marks = {"ARCHITECTURE": head.name, "PLAN": format_plan(p), "NODES": str(nodes), "NPROC": str(per_node),
             "DEVICES": str(p.devices), "WEIGHTS": human(p.total_states["weights"], "B"),
             "BLOCKS": ", ".join(f"`{b}`" for b in blocks) or "none: the model is sharded as one unit",
             "LAYOUT": LAYOUTS[settings.layout], "PRECISION": PRECISIONS[settings.precision],
             "OPTIMIZER": OPTIMIZERS[settings.optimizer], "RECOMPUTATION": RECOMPUTATIONS[settings.recomputation],
             "BATCH": _batch_text(settings.micro_batch, sizes), "STEPS": _steps_text(sizes, p.tokens),
             "DATA": _data_text(text_data, head.task, sizes)}
    with writing(target, overwrite, Meter(lambda report: None)) as tmp:
        (tmp / "design.py").write_text(to_code(spec, output_dir=None), encoding="utf-8")
        shutil.copy(TEMPLATES / "train.py", tmp / "train.py")
        for name in ("launch.sh", "README.md"):
            (tmp / name).write_text(_filled((TEMPLATES / name).read_text(encoding="utf-8"), marks), encoding="utf-8")
        (tmp / "launch.sh").chmod(0o755)
        (tmp / "launch.json").write_text(json.dumps(settings_file, indent=1) + "\n", encoding="utf-8")
        (tmp / "accelerate.yaml").write_text(accelerate_config(p, settings, blocks, nodes, per_node), encoding="utf-8")
        (tmp / "composer.spec.json").write_text(spec.to_json(), encoding="utf-8")
        if text_data:
            shutil.copy(TEMPLATES / SAMPLE, tmp / SAMPLE)
    return target


def shardable_blocks(model) -> list[str]:
    """The classes of the model's ``_no_split_modules`` that train.py shards one by one: those present
    whose modules share no parameter with the rest of the model (BERT's embeddings are tied to its
    masked-LM decoder; FSDP2 refuses a parameter in two groups, so such a block stays in the root's)."""
    owners: dict[int, set[str]] = {}
    for name, param in model.named_parameters(remove_duplicate=False):
        owners.setdefault(id(param), set()).add(name)
    wanted, tied = set(model._no_split_modules or ()), set()
    present = set()
    for prefix, module in model.named_modules():
        kind = type(module).__name__
        if kind not in wanted or module is model:
            continue
        present.add(kind)
        if any(not n.startswith(prefix + ".") for p in module.parameters() for n in owners[id(p)]):
            tied.add(kind)
    return sorted(present - tied)


def _refuse(spec: Spec, settings: Settings, head, model, made: set[str]) -> None:
    """What train.py does not do, refused before anything is measured or written. A classifier reads
    its files through the design's own preprocessing, at the size the plan is measured for."""
    if settings.tensor_parallel > 1:
        raise SpecError("plan.tensor_parallel", f"{settings.tensor_parallel}: train.py shards with FSDP2 only "
                        "(data-parallel); a tensor-parallel launch is not written, choose 1")
    if settings.optimizer == "adamw-8bit":
        raise SpecError("plan.optimizer", "adamw-8bit needs bitsandbytes, and train.py imports only torch and "
                        "transformers; choose adamw, sgd-momentum or adafactor")
    main = getattr(model, "main_input_name", "input_ids")
    if head.task not in TASKS or main not in TASKS[head.task][0]:
        raise SpecError("architecture", f"{head.name} is a {head.task} head; train.py has data and labels for "
                        "causal-lm and masked-lm heads on text, and image- and audio-classification heads on "
                        "class folders (e.g. the ...ForCausalLM or ...ForImageClassification of a model type)")
    if settings.recomputation == "per-block" and not model.supports_gradient_checkpointing:
        raise SpecError("plan.recomputation", f"{head.name} does not support gradient checkpointing in "
                        "transformers; choose none")
    part = TASKS[head.task][1]
    if part and part not in made and "processor" not in made:
        raise SpecError(part, f"train.py reads the {head.task} data through the design's {part.replace('_', ' ')}; "
                        "the design has none: add one")
    if settings.image_size is not None and inputs.sizes(spec, model, settings.replace(image_size=None)).image \
            != settings.image_size:
        raise SpecError("plan.image_size", f"{settings.image_size}: train.py feeds images at the size of the "
                        "design's image processor; leave it unset or set the processor's size")


def _batch_text(micro_batch: int, sizes: Sizes) -> str:
    if sizes.main == "input_ids":
        return f"{micro_batch} sequences of {sizes.tokens:,} tokens"
    if sizes.main == "pixel_values":
        return f"{micro_batch} images ({sizes.image} x {sizes.image} through the image processor)"
    length = f"{sizes.samples:,} samples, padded or cut" if sizes.samples else "the feature extractor's chunk"
    return f"{micro_batch} clips ({length})"


def _steps_text(sizes: Sizes, tokens: int) -> str:
    if sizes.main == "input_ids":
        return f"the plan's token budget of {tokens:,} tokens over the global batch"
    return "one pass over the class folders"


def _data_text(text_data: bool, task: str, sizes: Sizes) -> str:
    if task in ("image-classification", "audio-classification"):
        kind = "images (`.png`, `.jpg`, `.jpeg`, `.bmp`, `.gif`, `.webp`) read through the design's image " \
               "processor" if sizes.main == "pixel_values" else \
            "16-bit PCM WAV clips at the feature extractor's sampling rate, read with Python's `wave`, through " \
            "the design's feature extractor"
        return (f"`--data` is a folder of class folders, `DATA/CLASS/FILE` (torchvision's and 🤗 datasets' "
                f"image/audio folder layout): {kind}. A class is the design's label of that name (`id2label`) "
                "when every folder is one; else the folders in sorted order are labels 0, 1, ... (their names go "
                "into the saved config when they are as many as `num_labels`). Each epoch visits the files in "
                "an order drawn from the design's seed and the epoch. There is no default data.")
    labels = "each block is its own labels (the model shifts them)" if task == "causal-lm" else \
        "15 % of the tokens are predicted (BERT's 80 / 10 / 10 masking, seeded by the step)"
    order = ("Every process reads the whole stream and takes its own blocks: the order is the file's, the same "
             "on every run (shuffle the file beforehand if its order matters; for a large corpus, give JSON lines "
             "of `input_ids` tokenized once, so that no process tokenizes what the others train on).")
    if text_data:
        return (f"`--data` is a plain-text file (`.txt`, read line by line), or JSON lines (`.jsonl`) of "
                "`{\"text\": ...}` (each followed by the end-of-text token) or of `{\"input_ids\": [...]}`; the "
                f"default is `{SAMPLE}`, a short English text shipped with the composer. It is tokenized by "
                f"the design's tokenizer and cut into blocks of the sequence length; {labels}. {order}")
    return ("This design has no tokenizer: `--data` must be JSON lines (`.jsonl`) of `{\"input_ids\": [...]}` "
            f"(ids below the config's vocab_size), cut into blocks of the sequence length; {labels}. There is no "
            f"default data. {order}")


def _filled(template: str, marks: dict[str, str]) -> str:
    for name, value in marks.items():
        template = template.replace(f"@{name}@", value)
    return template


def accelerate_config(p: Plan, settings: Settings, blocks: list[str], nodes: int, per_node: int) -> str:
    """accelerate's config (YAML; these values are JSON scalars, which YAML reads as they are) for the
    same topology and FSDP2 settings as train.py applies."""
    fsdp = {
        "fsdp_version": 2,
        "fsdp_auto_wrap_policy": "TRANSFORMER_BASED_WRAP" if blocks else "NO_WRAP",
        **({"fsdp_transformer_layer_cls_to_wrap": ",".join(blocks)} if blocks else {}),
        "fsdp_reshard_after_forward": settings.layout == "fsdp",
        "fsdp_activation_checkpointing": settings.recomputation == "per-block",
        "fsdp_state_dict_type": "SHARDED_STATE_DICT",
        "fsdp_cpu_ram_efficient_loading": True,
        "fsdp_sync_module_states": True,
        "fsdp_offload_params": False,
    }
    top: dict[str, Any] = {
        "compute_environment": "LOCAL_MACHINE", "distributed_type": "FSDP",
        "mixed_precision": {"fp32": "no", "bf16-mixed": "bf16", "fp16-mixed": "fp16"}[settings.precision],
        "num_machines": nodes, "num_processes": nodes * per_node, "machine_rank": 0,
        "main_process_port": 29500, "rdzv_backend": "static", "same_network": True, "use_cpu": False,
        "main_training_function": "main", "downcast_bf16": False,
    }
    lines = [f"# accelerate launch --config_file accelerate.yaml train.py  (the plan: {p.devices} x {p.device}, "
             f"{human(p.peak, 'B')} per device)",
             "# On each node: --machine_rank R --main_process_ip NODE0_ADDRESS."]
    lines += [f"{key}: {json.dumps(value)}" for key, value in top.items()]
    lines += ["fsdp_config:"] + [f"  {key}: {json.dumps(value)}" for key, value in fsdp.items()]
    return "\n".join(lines) + "\n"
