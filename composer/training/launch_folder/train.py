"""Trains the design of design.py with PyTorch's own FSDP2 on the settings of launch.json (written by
transformers-composer's `launch`). Start it with launch.sh (torchrun), `accelerate launch` or, for one
process, `python train.py`. Imports only torch, transformers and the standard library.

Rank 0 runs design.py (the composer's exported code: the same seed gives the same weights), the other
ranks build the same model on the meta device; every rank shards it (fully_shard on each block of the
model's _no_split_modules, then the root), and rank 0's weights are broadcast into the shards. Data
are read in an order that is the same on every run, so that a run resumed from a checkpoint sees the
batches the interrupted one would have seen."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import os
import re
import runpy
import shutil
import sys
import time
import wave
from pathlib import Path

import torch
import torch.distributed as dist
import torch.distributed.checkpoint as dcp
import transformers
from torch.distributed.checkpoint.state_dict import (
    StateDictOptions,
    get_model_state_dict,
    get_state_dict,
    set_model_state_dict,
    set_state_dict,
)
from torch.distributed.fsdp import MixedPrecisionPolicy, fully_shard
from torch.distributed.tensor import DTensor, Replicate
from transformers.image_utils import load_image
from transformers.optimization import Adafactor

HERE = Path(__file__).resolve().parent
SETTINGS = json.loads((HERE / "launch.json").read_text(encoding="utf-8"))
PARAM_DTYPES = {"fp32": None, "bf16-mixed": torch.bfloat16, "fp16-mixed": torch.float16}
CHECKPOINT = re.compile(r"step-(\d+)")  # a complete checkpoint; one being written ends in .partial
STATE_FILE = "trainer_state.json"
FP16_GROWTH = 2000  # steps without an overflow before the fp16 loss scale doubles
IMAGE_FILES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


class Refused(Exception):
    """A setting or a file a person can fix: one line, exit 2."""


def options() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default=SETTINGS["data"] and str(HERE / SETTINGS["data"]),
                   help="a plain-text file (.txt) or JSON lines (.jsonl) of {\"text\": ...} or {\"input_ids\": [...]} "
                        "for a text design, a folder of class folders for an image or audio classifier "
                        f"(default: {SETTINGS['data'] or 'none'})")
    p.add_argument("--steps", type=int, help="optimizer steps (default: " + (
        f"the plan's token budget, {SETTINGS['tokens']:,} tokens, over the global batch)"
        if SETTINGS["main_input"] == "input_ids" else "one pass over the class folders)"))
    p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (default 3e-4)")
    p.add_argument("--warmup", type=int, default=None, help="linear warm-up steps (default: 1%% of --steps), "
                   "then cosine decay to a tenth of --lr")
    p.add_argument("--accumulation", type=int, default=1, help="micro-batches per optimizer step (default 1)")
    p.add_argument("--max-grad-norm", type=float, default=1.0)
    p.add_argument("--checkpoint-every", type=int, default=500, help="steps between sharded checkpoints")
    p.add_argument("--keep", type=int, default=2, help="complete checkpoints kept (default 2)")
    p.add_argument("--checkpoints", default=str(HERE / "checkpoints"), help="where checkpoints go (shared by "
                   "every node); the run resumes from the latest complete one there")
    p.add_argument("--output", default=str(HERE / "trained"), help="the save_pretrained folder written at the end")
    args = p.parse_args()
    for name in ("steps", "accumulation", "checkpoint_every", "keep", "warmup"):
        value = getattr(args, name)
        if value is not None and value < (0 if name in ("steps", "warmup") else 1):
            raise Refused(f"--{name.replace('_', '-')}: {value} is too small")
    return args


# ----- the processes ------------------------------------------------------------------------------


def start() -> torch.device:
    """One process group over every process torchrun (or accelerate launch) started: nccl on GPUs,
    gloo on CPUs. Started alone, this is a group of one."""
    for name, value in (("MASTER_ADDR", "127.0.0.1"), ("MASTER_PORT", "29500"), ("RANK", "0"),
                        ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0")):
        os.environ.setdefault(name, value)
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
        dist.init_process_group("nccl")
        return torch.device("cuda", torch.cuda.current_device())
    dist.init_process_group("gloo")
    return torch.device("cpu")


def say(*parts) -> None:
    if dist.get_rank() == 0:
        print(*parts, flush=True)


# ----- the model ----------------------------------------------------------------------------------


def design() -> tuple[torch.nn.Module, dict, dict, dict]:
    """A meta model of the design on every rank, and on rank 0 its weights and buffers from design.py;
    the processors (tokenizer, ...) are sent from rank 0 to all."""
    names, sent = {"model": None}, [None, None, None]
    if dist.get_rank() == 0:
        try:
            names = runpy.run_path(str(HERE / "design.py"), run_name="design")
            sent = [type(names["model"]).__name__, names["model"].config,
                    {name: names[name] for name in SETTINGS["processors"]}]
        except Exception as err:  # a file design.py names is missing here, ...: every rank stops
            sent = [None, f"design.py: {type(err).__name__}: {' '.join(str(err).split())}", None]
    dist.broadcast_object_list(sent, src=0)
    architecture, config, processors = sent
    if architecture is None:
        raise Refused(config)
    model = names["model"]
    weights = model.state_dict() if model is not None else {}
    buffers = dict(model.named_buffers()) if model is not None else {}
    with torch.device("meta"):
        shell = getattr(transformers, architecture)(config)
    return shell, weights, buffers, processors


def shard(model: torch.nn.Module, device: torch.device, weights: dict, buffers: dict) -> torch.nn.Module:
    """FSDP2 as the plan says: each block of _no_split_modules, then the root; the weights from rank 0."""
    if SETTINGS["attention"]:
        model.set_attn_implementation(SETTINGS["attention"])
    if SETTINGS["recomputation"] == "per-block":
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    dtype = PARAM_DTYPES[SETTINGS["precision"]]
    kwargs = {"reshard_after_forward": SETTINGS["layout"] == "fsdp"}
    if dtype is not None:
        kwargs["mp_policy"] = MixedPrecisionPolicy(param_dtype=dtype, reduce_dtype=torch.float32)
    blocks = set(SETTINGS["blocks"])  # the model's _no_split_modules but those holding a tied weight
    for module in reversed(list(model.modules())):  # inner blocks before the blocks holding them
        if type(module).__name__ in blocks and module is not model:
            fully_shard(module, **kwargs)
    fully_shard(model, **kwargs)
    model.to_empty(device=device)
    set_model_state_dict(model, weights, options=StateDictOptions(full_state_dict=True, broadcast_from_rank0=True))
    for name, buffer in model.named_buffers():  # non-persistent buffers (rotary frequencies) are no weights
        if dist.get_rank() == 0:
            buffer.copy_(buffers[name])
        dist.broadcast(buffer, src=0)
    model.train()
    return model


def optimizer(model: torch.nn.Module, lr: float) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    kind = SETTINGS["optimizer"]
    if kind == "adamw":
        return torch.optim.AdamW(params, lr=lr)
    if kind == "sgd-momentum":
        return torch.optim.SGD(params, lr=lr, momentum=0.9)
    opt = Adafactor(params, lr=lr, relative_step=False, scale_parameter=False, warmup_init=False)
    _adafactor_states(opt)
    return opt


def _adafactor_states(opt: Adafactor) -> None:
    """transformers' Adafactor makes its factored states as plain tensors, which a sharded (DTensor)
    gradient cannot be added to; made here as DTensors of the same shapes, its step runs unchanged and
    gives what it gives unsharded (the column means are reduced over the shards)."""
    for group in opt.param_groups:
        for p in group["params"]:
            factored, first_moment = opt._get_options(group, p.shape)
            zeros = torch.zeros_like(p, dtype=torch.float32)
            state = opt.state[p]
            state.update(step=0, RMS=opt._rms(zeros))  # a tensor, as its step leaves it (and a checkpoint holds it)
            if first_moment:
                state["exp_avg"] = zeros.clone()
            if factored:
                state["exp_avg_sq_row"] = zeros.mean(dim=-1)
                state["exp_avg_sq_col"] = zeros.mean(dim=-2).redistribute(placements=[Replicate()])
            else:
                state["exp_avg_sq"] = zeros.clone()


def learning_rate(step: int, steps: int, lr: float, warmup: int) -> float:
    """Linear warm-up, then cosine decay to lr / 10: a function of the step, so a resume needs no state."""
    if step < warmup:
        return lr * (step + 1) / warmup
    done = (step - warmup) / max(1, steps - warmup)
    return lr * (0.1 + 0.45 * (1 + math.cos(math.pi * min(1.0, done))))


# ----- the data -----------------------------------------------------------------------------------


class Stream:
    """Text as blocks of ``length`` tokens, read line by line in the file's order and wrapped round at
    its end. Its state (byte offset, epoch, tokens read but not yet in a block) is the same on every
    rank and goes into each checkpoint."""

    def __init__(self, path: Path, tokenizer, length: int, vocab: int, state: dict | None = None):
        self.path, self.tokenizer, self.length, self.vocab = path, tokenizer, length, vocab
        self.jsonl = path.suffix in (".jsonl", ".json")
        self.eos = getattr(tokenizer, "eos_token_id", None)
        state = state or {"offset": 0, "epoch": 0, "buffer": []}
        self.offset, self.epoch, self.buffer = state["offset"], state["epoch"], list(state["buffer"])
        self.file = path.open("rb")
        self.file.seek(self.offset)
        self.read = 0  # tokens read since the file was last read from its start

    def state(self) -> dict:
        return {"offset": self.offset, "epoch": self.epoch, "buffer": self.buffer}

    def batch(self, world: int, rank: int, micro_batch: int, generator: torch.Generator) -> dict:
        """This rank's share of the next world x micro_batch blocks (every rank reads all of them)."""
        ids = torch.tensor([[self.block() for _ in range(micro_batch)] for _ in range(world)][rank])
        if int(ids.max()) >= self.vocab or int(ids.min()) < 0:
            raise Refused(f"--data: token id {int(ids.max())} is outside the design's vocabulary (config.vocab_size "
                          f"{self.vocab}); the tokenizer and the config disagree")
        return self._labelled(ids, generator)

    def block(self) -> list[int]:
        whole = self.offset == 0  # this pass reads the file from its start
        while len(self.buffer) < self.length:
            raw = self.file.readline()
            if not raw:
                if whole and not self.read:
                    raise Refused(f"--data: {self.path} holds no tokens")
                self.file.seek(0)
                self.offset, self.epoch, self.read, whole = 0, self.epoch + 1, 0, True
                continue
            self.offset += len(raw)
            tokens = self._tokens(raw)
            self.read += len(tokens)
            self.buffer += tokens
        out, self.buffer = self.buffer[:self.length], self.buffer[self.length:]
        return out

    def _tokens(self, raw: bytes) -> list[int]:
        text = raw.decode("utf-8", errors="replace")
        if not self.jsonl:
            return self._encoded(text)
        if not text.strip():
            return []
        try:
            item = json.loads(text)
        except ValueError:
            raise Refused(f"--data: {self.path} at byte {self.offset - len(raw):,} is not a JSON line") from None
        if isinstance(item, dict) and isinstance(item.get("input_ids"), list):
            return item["input_ids"]
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            return self._encoded(item["text"]) + ([self.eos] if self.eos is not None else [])
        raise Refused(f"--data: {self.path} at byte {self.offset - len(raw):,}: expected an object with "
                      "\"text\" (a string) or \"input_ids\" (a list of token ids)")

    def _encoded(self, text: str) -> list[int]:
        if self.tokenizer is None:
            raise Refused(f"--data: this design has no tokenizer; give JSON lines of {{\"input_ids\": [...]}}, "
                          f"not text ({self.path})")
        return self.tokenizer(text, add_special_tokens=False)["input_ids"]

    def _labelled(self, ids: torch.Tensor, generator: torch.Generator) -> dict:
        """The next token for a causal LM (the model shifts the labels), 15 % of the tokens to predict
        for a masked LM (BERT's 80 / 10 / 10 rule, drawn from ``generator``)."""
        if SETTINGS["task"] == "causal-lm":
            return {"input_ids": ids, "labels": ids.clone()}
        chosen = torch.rand(ids.shape, generator=generator) < 0.15
        labels = torch.where(chosen, ids, torch.full_like(ids, -100))
        draw = torch.rand(ids.shape, generator=generator)
        masked = ids.masked_fill(chosen & (draw < 0.8), self.tokenizer.mask_token_id)
        swapped = chosen & (draw >= 0.8) & (draw < 0.9)
        random_ids = torch.randint(0, len(self.tokenizer), ids.shape, generator=generator)
        return {"input_ids": torch.where(swapped, random_ids, masked), "labels": labels}


class Examples:
    """Labelled files of a folder of class folders (DATA/CLASS/FILE): images through the design's
    image processor, or 16-bit PCM WAV clips (read with the standard library's wave) through its
    feature extractor. Each epoch visits them in an order drawn from the design's seed and the epoch,
    the same on every run; the state is the epoch and the position in it. Every rank reads only its
    own examples."""

    def __init__(self, root: Path, processor, config, state: dict | None = None):
        self.root, self.processor = root, processor
        self.audio = SETTINGS["main_input"] != "pixel_values"
        suffixes = (".wav",) if self.audio else IMAGE_FILES
        classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        named = {name: int(i) for i, name in config.id2label.items()}
        if classes and set(classes) <= set(named) and not all(re.fullmatch(r"LABEL_\d+", n) for n in named):
            label_of = {name: named[name] for name in classes}  # the design's own label names
        elif len(classes) > config.num_labels:
            raise Refused(f"--data: {len(classes)} class folders in {root}; the design has {config.num_labels} "
                          "labels (config.num_labels)")
        else:  # folders in sorted order are labels 0, 1, ...; their names go into the saved config
            label_of = {name: i for i, name in enumerate(classes)}
            if len(classes) == config.num_labels:
                config.id2label, config.label2id = {i: n for n, i in label_of.items()}, dict(label_of)
        self.files = [(path, label_of[name]) for name in classes for path in sorted((root / name).iterdir())
                      if path.suffix.lower() in suffixes]
        if not self.files:
            raise Refused(f"--data: {root} holds no class folders of {'/'.join(suffixes)} files")
        state = state or {"epoch": 0, "position": 0}
        self.epoch, self.position = state["epoch"], state["position"]
        self.order = self._order()

    def state(self) -> dict:
        return {"epoch": self.epoch, "position": self.position}

    def _order(self) -> list[int]:
        generator = torch.Generator().manual_seed(SETTINGS["seed"] * 1_000_003 + self.epoch)
        return torch.randperm(len(self.files), generator=generator).tolist()

    def _take(self, n: int) -> list[tuple[Path, int]]:
        out = []
        for _ in range(n):
            if self.position == len(self.files):
                self.epoch, self.position = self.epoch + 1, 0
                self.order = self._order()
            out.append(self.files[self.order[self.position]])
            self.position += 1
        return out

    def batch(self, world: int, rank: int, micro_batch: int, generator: torch.Generator) -> dict:
        mine = [self._take(micro_batch) for _ in range(world)][rank]
        labels = torch.tensor([label for _, label in mine])
        if not self.audio:
            images = [load_image(str(path)) for path, _ in mine]
            return {**self.processor(images=images, return_tensors="pt"), "labels": labels}
        rate = self.processor.sampling_rate
        clips = [self._clip(path, rate) for path, _ in mine]
        fixed = {"padding": "max_length", "max_length": SETTINGS["audio_samples"], "truncation": True} \
            if self.processor.feature_size == 1 else {}  # raw samples; spectrogram extractors pad to their own
        return {**self.processor(clips, sampling_rate=rate, return_tensors="pt", **fixed), "labels": labels}

    @staticmethod
    def _clip(path: Path, rate: int):
        with wave.open(str(path), "rb") as clip:
            width, channels, found = clip.getsampwidth(), clip.getnchannels(), clip.getframerate()
            frames = clip.readframes(clip.getnframes())
        if width != 2:
            raise Refused(f"--data: {path} is not 16-bit PCM WAV ({8 * width}-bit samples)")
        if found != rate:
            raise Refused(f"--data: {path} is sampled at {found:,} Hz; the design's feature extractor takes "
                          f"{rate:,} Hz (resample the files)")
        samples = torch.frombuffer(bytearray(frames), dtype=torch.int16).float().div(32768)
        return samples.view(-1, channels).mean(dim=1).numpy()


def data_path(path: str | None) -> Path:
    """--data as the design's main input reads it: a file of text (or token ids) for input_ids, a folder
    of class folders else."""
    text = SETTINGS["main_input"] == "input_ids"
    if path is None:
        raise Refused("--data: this design has no tokenizer and no default data; give JSON lines of "
                      "{\"input_ids\": [...]}" if text else "--data: give a folder of class folders "
                      f"({'images' if SETTINGS['main_input'] == 'pixel_values' else 'WAV clips'}, DATA/CLASS/FILE)")
    where = Path(path)
    if not (where.is_file() if text else where.is_dir()):
        raise Refused(f"--data: {where} is not a {'file' if text else 'folder'}")
    return where


def dataset(where: Path, processors: dict, config, state: dict | None) -> Stream | Examples:
    processor = processors.get("processor")
    if SETTINGS["main_input"] == "input_ids":
        tokenizer = processors.get("tokenizer") or getattr(processor, "tokenizer", None)
        if SETTINGS["task"] == "masked-lm" and getattr(tokenizer, "mask_token_id", None) is None:
            raise Refused("tokenizer: a masked LM needs a tokenizer with a mask token")
        return Stream(where, tokenizer, SETTINGS["sequence_length"], config.get_text_config().vocab_size, state)
    part = processors.get("image_processor") or processors.get("feature_extractor") or processor
    return Examples(where, part, config, state)


# ----- checkpoints --------------------------------------------------------------------------------


def latest(root: Path) -> Path | None:
    """The newest complete checkpoint: one renamed from .partial after every rank wrote its shards."""
    done = [p for p in root.glob("step-*") if CHECKPOINT.fullmatch(p.name) and (p / STATE_FILE).is_file()]
    return max(done, key=lambda p: int(CHECKPOINT.fullmatch(p.name).group(1)), default=None)


def save_checkpoint(root: Path, step: int, model, opt, trainer: dict, keep: int) -> None:
    """Every rank writes its shards into step-N.partial; rank 0 adds the trainer state and renames the
    folder to step-N, the one change that makes it a checkpoint (a killed save leaves only .partial)."""
    final, partial = root / f"step-{step:08d}", root / f"step-{step:08d}.partial"
    if dist.get_rank() == 0:
        shutil.rmtree(partial, ignore_errors=True)
        root.mkdir(parents=True, exist_ok=True)
    dist.barrier()
    model_state, optim_state = get_state_dict(model, opt)
    dcp.save({"model": model_state, "optimizer": optim_state}, checkpoint_id=str(partial))
    dist.barrier()
    if dist.get_rank() == 0:
        with open(partial / STATE_FILE, "w", encoding="utf-8") as f:
            json.dump(trainer, f)
            f.flush()
            os.fsync(f.fileno())
        shutil.rmtree(final, ignore_errors=True)
        os.replace(partial, final)
        synced(root)
        kept = sorted((p for p in root.glob("step-*") if CHECKPOINT.fullmatch(p.name)), key=lambda p: p.name)
        for old in kept[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
        for stale in root.glob("step-*.partial"):
            shutil.rmtree(stale, ignore_errors=True)
    dist.barrier()


def synced(folder: Path) -> None:
    """A rename in ``folder`` made durable (its directory entry flushed)."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def resume(root: Path, model, opt) -> dict | None:
    newest = latest(root) if dist.get_rank() == 0 and root.is_dir() else None
    found = [str(newest) if newest else None]
    dist.broadcast_object_list(found, src=0)  # rank 0's answer for all, should the filesystem lag
    if found[0] is None:
        return None
    folder = Path(found[0])
    model_state, optim_state = get_state_dict(model, opt)
    state = {"model": model_state, "optimizer": optim_state}
    dcp.load(state, checkpoint_id=str(folder))
    set_state_dict(model, opt, model_state_dict=state["model"], optim_state_dict=state["optimizer"])
    trainer = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    say(json.dumps({"resumed": str(folder), "step": trainer["step"]}))
    return trainer


def save_final(model, config, processors: dict, output: Path) -> None:
    """The gathered weights as a save_pretrained folder (safetensors) that transformers loads alone,
    written beside the target and renamed into place."""
    weights = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
    if dist.get_rank() == 0:
        with torch.device("meta"):
            shell = getattr(transformers, SETTINGS["architecture"])(config)
        partial = output.with_name(output.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        shell.save_pretrained(partial, state_dict=weights)
        for part in processors.values():
            part.save_pretrained(partial)
        shutil.copy(HERE / "composer.spec.json", partial / "composer.spec.json")
        if output.exists():
            old = output.with_name(output.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            os.replace(output, old)
            shutil.rmtree(old)
        os.replace(partial, output)
        synced(output.parent)
        print(json.dumps({"saved": str(output)}), flush=True)
    dist.barrier()


# ----- the run ------------------------------------------------------------------------------------


def train(args: argparse.Namespace, device: torch.device) -> None:
    world, rank = dist.get_world_size(), dist.get_rank()
    where = data_path(args.data)  # refused before the design is built
    shell, weights, buffers, processors = design()
    config = shell.config
    model = shard(shell, device, weights, buffers)
    del weights, buffers
    opt = optimizer(model, args.lr)
    checkpoints = Path(args.checkpoints)
    trainer = resume(checkpoints, model, opt) or {"step": 0, "data": None, "loss_scale": 2.0 ** 16, "good_steps": 0}
    data = dataset(where, processors, config, trainer["data"])
    text = isinstance(data, Stream)
    micro_batch, accumulation = SETTINGS["micro_batch"], args.accumulation
    per_step = world * micro_batch * accumulation  # sequences, images or clips
    tokens_per_step = per_step * SETTINGS["sequence_length"] if text else None
    default_steps = -(-SETTINGS["tokens"] // tokens_per_step) if text else -(-len(data.files) // per_step)
    steps = args.steps if args.steps is not None else max(1, default_steps)
    warmup = args.warmup if args.warmup is not None else steps // 100
    fp16 = SETTINGS["precision"] == "fp16-mixed"
    no_cache = {"use_cache": False} if "use_cache" in inspect.signature(model.forward).parameters else {}
    say(json.dumps({"start": trainer["step"], "steps": steps, "processes": world, "examples_per_step": per_step,
                    "tokens_per_step": tokens_per_step, "layout": SETTINGS["layout"],
                    "precision": SETTINGS["precision"], "optimizer": SETTINGS["optimizer"]}))
    step = trainer["step"]
    while step < steps:
        began = time.perf_counter()
        lr = learning_rate(step, steps, args.lr, warmup)
        for group in opt.param_groups:
            group["lr"] = lr
        seed = SETTINGS["seed"] * 1_000_003 + step * 1009 + rank  # dropout and masks: a function of the step
        torch.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        total = torch.zeros((), device=device)
        for i in range(accumulation):
            model.set_requires_gradient_sync(i == accumulation - 1)  # reduce-scatter once per step
            batch = {k: v.to(device) for k, v in data.batch(world, rank, micro_batch, generator).items()}
            loss = model(**batch, **no_cache).loss / accumulation
            total += loss.detach()
            (loss * trainer["loss_scale"] if fp16 else loss).backward()
        if fp16:
            for p in model.parameters():
                if p.grad is not None:
                    p.grad.div_(trainer["loss_scale"])
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), args.max_grad_norm)
        norm = float(norm.full_tensor() if isinstance(norm, DTensor) else norm)
        if math.isfinite(norm):
            opt.step()
        opt.zero_grad(set_to_none=True)
        if fp16:  # a dynamic loss scale; the norm is global, so every rank skips the same steps
            good = trainer["good_steps"] + 1 if math.isfinite(norm) else 0
            scale = trainer["loss_scale"] * (2 if good >= FP16_GROWTH else 1 if math.isfinite(norm) else 0.5)
            trainer.update(loss_scale=scale, good_steps=0 if good >= FP16_GROWTH else good)
        dist.all_reduce(total)
        step += 1
        rate = (tokens_per_step or per_step) / (time.perf_counter() - began)
        say(json.dumps({"step": step, "loss": total.item() / world, "lr": lr, "grad_norm": norm,
                        "tokens_per_second" if text else "examples_per_second": round(rate)}))
        if step % args.checkpoint_every == 0 or step == steps:
            trainer.update(step=step, data=data.state())
            save_checkpoint(checkpoints, step, model, opt, trainer, args.keep)
    save_final(model, config, processors, Path(args.output))


def main() -> int:
    try:
        args = options()
        device = start()
        try:
            train(args, device)
        finally:
            dist.destroy_process_group()
    except Refused as err:
        if os.environ.get("RANK", "0") == "0":
            print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
