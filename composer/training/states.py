"""Weights, gradients and optimizer states of a design, from each of its real tensors (meta model).

Convention (the plan's, for every precision): the weights are kept in fp32 (4 B: with mixed precision
they are the master copy), gradients in fp32 (4 B) and the optimizer's states in fp32, so bf16-mixed
AdamW holds 16 B per parameter (4 + 4 + 8), as torch autocast and FSDP2's
``MixedPrecisionPolicy(param_dtype=bfloat16, reduce_dtype=float32)`` keep them. The 16-bit copies of
the weights the forward computes with are not a state: on one device they are autocast's casts,
measured among the activations (so one device holds what transformers' guide counts as 18 B per
parameter); under full sharding they are the gathered blocks (composer.training.layouts).
"""

from __future__ import annotations

import math
from typing import NamedTuple

FP32 = 4
STEP_BYTES = 4  # AdamW and Adafactor keep a scalar fp32 ``step`` tensor per parameter (SGD none)
BNB_MIN_8BIT_SIZE = 4096  # bitsandbytes keeps 32-bit moments for smaller tensors (min_8bit_size)
BNB_BLOCK = 256  # values per fp32 absmax scale of bitsandbytes' blockwise 8-bit states


class States(NamedTuple):
    """Bytes (and parameter counts) a design holds outside any step; sums and differences of these
    extrapolate a few-layer build to the full design, as composer.repeats does for parameters."""

    params: int
    trainable: int
    weights: int  # fp32 parameters + buffers
    gradients: int
    optimizer: int


def optimizer_bytes(optimizer: str, shape: tuple[int, ...]) -> int:
    """The state one trainable tensor of ``shape`` gets from ``optimizer``."""
    n = math.prod(shape)
    if optimizer == "adamw":  # exp_avg, exp_avg_sq
        return 2 * FP32 * n + STEP_BYTES
    if optimizer == "sgd-momentum":  # momentum_buffer
        return FP32 * n
    if optimizer == "adafactor":  # torch.optim.Adafactor: row and column second moments of the last two dims
        if len(shape) < 2:
            return FP32 * n + STEP_BYTES
        rows, cols = shape[-2], shape[-1]
        return FP32 * (n // cols + n // rows) + STEP_BYTES
    if optimizer == "adamw-8bit":  # bitsandbytes AdamW8bit, blockwise: 1 B per moment + fp32 scales
        if n < BNB_MIN_8BIT_SIZE:
            return 2 * FP32 * n + STEP_BYTES
        return 2 * (n + FP32 * math.ceil(n / BNB_BLOCK)) + STEP_BYTES
    raise ValueError(optimizer)


def states_of(model, optimizer: str) -> States:
    """States of a (meta) model: each parameter once (tied weights are one tensor), gradients and
    optimizer states for the trainable ones only."""
    params = {id(p): p for p in model.parameters()}.values()
    buffers = {id(b): b for b in model.buffers()}.values()
    trainable = [p for p in params if p.requires_grad]
    return States(
        params=sum(p.numel() for p in params),
        trainable=sum(p.numel() for p in trainable),
        weights=FP32 * sum(p.numel() for p in params) + sum(b.numel() * b.element_size() for b in buffers),
        gradients=FP32 * sum(p.numel() for p in trainable),
        optimizer=sum(optimizer_bytes(optimizer, tuple(p.shape)) for p in trainable),
    )


def block_params(model) -> tuple[int, int]:
    """(parameters of the largest block FSDP wraps, parameters outside every block): the blocks are
    the modules of the model's ``_no_split_modules`` classes (what the launch shards one by one)."""
    names = set(getattr(model, "_no_split_modules", None) or ())
    seen: set[int] = set()
    largest = 0
    for module in model.modules():
        if type(module).__name__ in names:
            own = {id(p): p.numel() for p in module.parameters() if id(p) not in seen}
            seen.update(own)
            largest = max(largest, sum(own.values()))
    outside = sum(p.numel() for p in {id(p): p for p in model.parameters()}.values() if id(p) not in seen)
    return largest, outside
