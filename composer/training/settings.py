"""Training settings of a plan: one typed value, every field checked at ``plan.<field>`` against
composer.limits before anything is built or measured."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from composer import limits
from composer.errors import SpecError, shown
from composer.sizes import over
from composer.training.devices import KINDS

PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")
OPTIMIZERS = ("adamw", "sgd-momentum", "adafactor", "adamw-8bit")
RECOMPUTATIONS = ("none", "per-block")
ATTENTIONS = ("sdpa", "eager")
LAYOUTS = ("single", "ddp", "zero-1", "zero-2", "fsdp")
DEVICE_KINDS = ("24", "40", "80", "141", "192", "custom")
CHOICES = {"precision": PRECISIONS, "optimizer": OPTIMIZERS, "recomputation": RECOMPUTATIONS,
           "attention": ATTENTIONS, "layout": LAYOUTS, "device": DEVICE_KINDS}

# Each number: (int or float, lowest, whether the lowest itself is allowed, highest, its composer.limits name).
BOUNDS = {
    "micro_batch": (int, 1, True, limits.MAX_MICRO_BATCH, "MAX_MICRO_BATCH"),
    "sequence_length": (int, 1, True, limits.MAX_SEQUENCE_LENGTH, "MAX_SEQUENCE_LENGTH"),
    "image_size": (int, 1, True, limits.MAX_IMAGE_SIZE, "MAX_IMAGE_SIZE"),
    "audio_seconds": (float, 0, False, limits.MAX_AUDIO_SECONDS, "MAX_AUDIO_SECONDS"),
    "tensor_parallel": (int, 1, True, limits.MAX_TENSOR_PARALLEL, "MAX_TENSOR_PARALLEL"),
    "devices": (int, 1, True, limits.MAX_DEVICES, "MAX_DEVICES"),
    "device_memory_gb": (float, 0, False, limits.MAX_DEVICE_MEMORY_GB, "MAX_DEVICE_MEMORY_GB"),
    "peak_tflops": (float, 0, False, limits.MAX_PEAK_TFLOPS, "MAX_PEAK_TFLOPS"),
    "headroom": (float, 0, True, limits.MAX_HEADROOM, "MAX_HEADROOM"),
    "mfu": (float, 0, False, 1, ""),
    "tokens": (int, 1, True, limits.MAX_TOKEN_BUDGET, "MAX_TOKEN_BUDGET"),
    "tokens_per_param": (float, 0, False, limits.MAX_TOKENS_PER_PARAM, "MAX_TOKENS_PER_PARAM"),
    "context_length": (int, 1, True, limits.MAX_SEQUENCE_LENGTH, "MAX_SEQUENCE_LENGTH"),
}

# Each setting in words, by group in the panel's order; for a setting whose default is None, what that
# means (the form shows it in the empty field).
HELP = {
    "devices": {
        "device": ("The device kind: its memory, read as GiB, and its dense peak throughput.", None),
        "device_memory_gb": ("A custom device's memory, in GiB.", None),
        "peak_tflops": ("Dense bf16 / fp16 peak in TFLOP/s (fp32 runs at the TF32 peak); required for a "
                        "custom device, else it overrides the kind's.", "the kind's"),
        "devices": ("Devices of the run, a multiple of the tensor-parallel degree.", "the fewest that fit"),
        "layout": ("single device; DDP (everything on every device); ZeRO-1 / ZeRO-2 (optimizer states / "
                   "and gradients sharded); FSDP full shard (weights too).", None),
        "tensor_parallel": ("Devices each block's weights and activations are split over.", None),
        "headroom": ("Share of each device's memory kept free: the driver, the CUDA context, fragmentation.", None),
    },
    "step": {
        "micro_batch": ("Sequences, images or clips per device per step (gradient accumulation keeps a "
                        "larger batch).", None),
        "sequence_length": ("Tokens of one training sequence (the decoder's, for an encoder-decoder).",
                            "the design's, at most 2048"),
        "image_size": ("Pixels on a side of a training image.", "the image processor's, else the config's"),
        "audio_seconds": ("Seconds of one training clip.", "the feature extractor's chunk, else 10"),
        "precision": ("fp32, or bf16 / fp16 compute with fp32 master weights.", None),
        "optimizer": ("AdamW, SGD with momentum, Adafactor (factored states) or 8-bit AdamW.", None),
        "recomputation": ("Activation checkpointing: none, or per block (each block's input kept, the rest "
                          "recomputed in backward).", None),
        "attention": ("The attention implementation.", "what transformers picks"),
    },
    "compute time": {
        "mfu": ("Model FLOPs utilisation: the share of the devices' peak the run achieves.", None),
        "tokens": ("Tokens of the training run.", "tokens_per_param x parameters"),
        "tokens_per_param": ("The token budget per parameter when no budget is given (Chinchilla: about 20).", None),
    },
    "inference": {
        "context_length": ("Tokens of one inference sequence, for the KV cache's largest batch.",
                           "the sequence length"),
    },
}
# The settings that size the micro-batch or the inference context: a design reads some of them
# (composer.training.inputs.reads).
SIZE_SETTINGS = ("sequence_length", "image_size", "audio_seconds", "context_length")


@dataclass(frozen=True)
class Settings:
    """What a plan is made for. ``None`` sizes come from the design (its processor, its config);
    ``devices=None`` asks for the fewest devices that hold the peak. What each setting means, and its
    bounds, are in HELP and BOUNDS: the checks here and the panel's form (settings_fields) read them."""

    micro_batch: int = 1
    sequence_length: int | None = None
    image_size: int | None = None
    audio_seconds: float | None = None
    precision: str = "bf16-mixed"
    optimizer: str = "adamw"
    recomputation: str = "none"
    attention: str | None = None
    layout: str = "single"
    tensor_parallel: int = 1
    devices: int | None = None
    device: str = "80"
    device_memory_gb: float | None = None
    peak_tflops: float | None = None
    headroom: float = 0.1
    mfu: float = 0.4
    tokens: int | None = None
    tokens_per_param: float = 20.0
    context_length: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in CHOICES:
                if value not in CHOICES[f.name] and not (value is None and f.default is None):
                    raise SpecError(f"plan.{f.name}", f"{shown(value)} is not one of {', '.join(CHOICES[f.name])}")
            elif value is not None or f.default is not None:
                _bounded(f.name, value, *BOUNDS[f.name])
        if self.device == "custom":
            for name in ("device_memory_gb", "peak_tflops"):
                if getattr(self, name) is None:
                    raise SpecError(f"plan.{name}", "required for a custom device")
        elif self.device_memory_gb is not None:
            raise SpecError("plan.device_memory_gb", f"only for a custom device; a {self.device} GB device has its own")
        if self.layout == "single" and self.devices not in (None, self.tensor_parallel):
            raise SpecError("plan.devices", f"a single-device layout runs on {self.tensor_parallel} device(s) "
                            f"(the tensor-parallel degree), not {self.devices}; choose ddp, zero-1, zero-2 or fsdp")
        if self.devices is not None and self.devices % self.tensor_parallel:
            raise SpecError("plan.devices", f"{self.devices} is not a multiple of the tensor-parallel degree "
                            f"{self.tensor_parallel}")

    @classmethod
    def from_dict(cls, data: Any) -> Settings:
        """Settings from plain data (the CLI's options, the panel's fields), unknown keys refused by name."""
        if not isinstance(data, dict):
            raise SpecError("plan", f"expected an object of settings, got {shown(data)}")
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                raise SpecError(f"plan.{key}", f"unknown setting; allowed: {', '.join(sorted(known))}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def replace(self, **changes: Any) -> Settings:
        return Settings(**{**self.to_dict(), **changes})


def _bounded(name: str, value: Any, kind: type, low: float, low_ok: bool, high: float, limit_name: str) -> None:
    """An integer (``kind`` int) or a finite number in [low, high] (or (low, high] without ``low_ok``)."""
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise SpecError(f"plan.{name}", f"expected an integer, got {shown(value)}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"plan.{name}", f"expected a finite number, got {shown(value)}")
    if kind is int and value < low:
        raise SpecError(f"plan.{name}", f"{value:,} is below {low:,}")
    if value < low or (value == low and not low_ok):
        raise SpecError(f"plan.{name}", f"{value:g} must be {'at least' if low_ok else 'above'} {low:g}")
    if value > high:
        raise SpecError(f"plan.{name}", over(value, "", high, limit_name) if limit_name else f"{value:g} is above {high:g}")


def settings_fields(reads: tuple[str, ...] = SIZE_SETTINGS, given: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """The settings as form fields (name, type, default, nullable, choices, minimum, maximum, help, group,
    and ``blank``: what an empty field means), in the panel's order: of the size settings those in
    ``reads``; a custom device's memory while the device is custom (or the memory is set, so that its
    error shows at a field)."""
    given = given or {}
    defaults = {f.name: f.default for f in fields(Settings)}
    out = []
    for group, settings in HELP.items():
        for name, (help, blank) in settings.items():
            if name in SIZE_SETTINGS and name not in reads:
                continue
            if name == "device_memory_gb" and given.get("device") != "custom" and name not in given:
                continue
            field = {"name": name, "default": defaults[name], "nullable": defaults[name] is None, "help": help,
                     "group": group, "blank": blank, "choices": None, "minimum": None, "maximum": None}
            if name in CHOICES:
                names = {kind: device.name for kind, device in KINDS.items()} if name == "device" else {}
                field.update(type="choice", choices=[{"name": names.get(c, c), "value": c} for c in CHOICES[name]])
            else:
                kind, low, _, high, _ = BOUNDS[name]
                field.update(type=kind.__name__, minimum=low, maximum=high)
            out.append(field)
    return out
