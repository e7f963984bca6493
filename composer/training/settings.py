"""Training settings of a plan: one typed value, every field checked at ``plan.<field>`` against
composer.limits before anything is built or measured."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

from composer import limits
from composer.errors import SpecError, shown
from composer.sizes import over

PRECISIONS = ("fp32", "bf16-mixed", "fp16-mixed")
OPTIMIZERS = ("adamw", "sgd-momentum", "adafactor", "adamw-8bit")
RECOMPUTATIONS = ("none", "per-block")
ATTENTIONS = ("sdpa", "eager")
LAYOUTS = ("single", "ddp", "zero-1", "zero-2", "fsdp")
DEVICE_KINDS = ("24", "40", "80", "141", "192", "custom")


@dataclass(frozen=True)
class Settings:
    """What a plan is made for. ``None`` sizes come from the design (its processor, its config);
    ``devices=None`` asks for the fewest devices that hold the peak."""

    micro_batch: int = 1
    sequence_length: int | None = None  # tokens; default min(2048, the config's max positions)
    image_size: int | None = None  # pixels on a side; default the image processor's, else the config's
    audio_seconds: float | None = None  # default the feature extractor's chunk, else 10 s
    precision: str = "bf16-mixed"
    optimizer: str = "adamw"
    recomputation: str = "none"
    attention: str | None = None  # sdpa or eager; default what transformers picks for the design
    layout: str = "single"
    tensor_parallel: int = 1
    devices: int | None = None
    device: str = "80"
    device_memory_gb: float | None = None  # custom device only
    peak_tflops: float | None = None  # dense bf16 peak; required for a custom device
    headroom: float = 0.1
    mfu: float = 0.4
    tokens: int | None = None  # token budget; default tokens_per_param x parameters
    tokens_per_param: float = 20.0
    context_length: int | None = None  # inference context for the KV cache; default sequence_length

    def __post_init__(self) -> None:
        _count(self, "micro_batch", 1, limits.MAX_MICRO_BATCH, "MAX_MICRO_BATCH")
        _count(self, "sequence_length", 1, limits.MAX_SEQUENCE_LENGTH, "MAX_SEQUENCE_LENGTH", optional=True)
        _count(self, "context_length", 1, limits.MAX_SEQUENCE_LENGTH, "MAX_SEQUENCE_LENGTH", optional=True)
        _count(self, "image_size", 1, limits.MAX_IMAGE_SIZE, "MAX_IMAGE_SIZE", optional=True)
        _number(self, "audio_seconds", 0, limits.MAX_AUDIO_SECONDS, "MAX_AUDIO_SECONDS", optional=True)
        for name, allowed in (("precision", PRECISIONS), ("optimizer", OPTIMIZERS),
                              ("recomputation", RECOMPUTATIONS), ("attention", ATTENTIONS),
                              ("layout", LAYOUTS), ("device", DEVICE_KINDS)):
            if getattr(self, name) not in allowed and not (name == "attention" and self.attention is None):
                raise SpecError(f"plan.{name}", f"{shown(getattr(self, name))} is not one of {', '.join(allowed)}")
        _count(self, "tensor_parallel", 1, limits.MAX_TENSOR_PARALLEL, "MAX_TENSOR_PARALLEL")
        _count(self, "devices", 1, limits.MAX_DEVICES, "MAX_DEVICES", optional=True)
        _number(self, "device_memory_gb", 0, limits.MAX_DEVICE_MEMORY_GB, "MAX_DEVICE_MEMORY_GB", optional=True)
        _number(self, "peak_tflops", 0, limits.MAX_PEAK_TFLOPS, "MAX_PEAK_TFLOPS", optional=True)
        if self.device == "custom":
            for name in ("device_memory_gb", "peak_tflops"):
                if getattr(self, name) is None:
                    raise SpecError(f"plan.{name}", "required for a custom device")
        elif self.device_memory_gb is not None:
            raise SpecError("plan.device_memory_gb", f"only for a custom device; a {self.device} GB device has its own")
        _number(self, "headroom", 0, limits.MAX_HEADROOM, "MAX_HEADROOM", inclusive=True)
        _number(self, "mfu", 0, 1, "", inclusive=False)
        _count(self, "tokens", 1, limits.MAX_TOKEN_BUDGET, "MAX_TOKEN_BUDGET", optional=True)
        _number(self, "tokens_per_param", 0, limits.MAX_TOKENS_PER_PARAM, "MAX_TOKENS_PER_PARAM")
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


def _count(s: Settings, name: str, low: int, high: int, limit_name: str, optional: bool = False) -> None:
    value = getattr(s, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise SpecError(f"plan.{name}", f"expected an integer, got {shown(value)}")
    if value < low:
        raise SpecError(f"plan.{name}", f"{value:,} is below {low:,}")
    if value > high:
        raise SpecError(f"plan.{name}", over(value, "", high, limit_name))


def _number(s: Settings, name: str, low: float, high: float, limit_name: str, optional: bool = False,
            inclusive: bool = False) -> None:
    """A finite number in (low, high] (or [low, high] when ``inclusive``)."""
    value = getattr(s, name)
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise SpecError(f"plan.{name}", f"expected a finite number, got {shown(value)}")
    if value < low or (value == low and not inclusive):
        raise SpecError(f"plan.{name}", f"{value:g} must be {'at least' if inclusive else 'above'} {low:g}")
    if value > high:
        raise SpecError(f"plan.{name}", over(value, "", high, limit_name) if limit_name else f"{value:g} is above {high:g}")
