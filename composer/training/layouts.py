"""What each device holds under a layout, from the design's states and its measured step.

Data-parallel degree d = devices / t (t the tensor-parallel degree). Tensor parallelism divides the
blocks' weights, their states and (with sequence parallelism, Korthikanti et al. 2022) their
activations by t; the plan divides everything by t (Megatron also splits the vocabulary; the
replicated norms are left out). Over d:

* single / DDP: everything on every device; DDP adds its gradient buckets, one gradient-sized copy
  (torch's default ``gradient_as_bucket_view=False``);
* ZeRO-1: optimizer states / d; ZeRO-2: gradients and optimizer states / d (DeepSpeed's stages);
* FSDP full shard: weights, gradients and optimizer states / d, plus the gathered weights: the
  parameters outside every block (the root unit, kept gathered through the step) and the largest block
  twice (the one computing and the one prefetched) in the compute dtype, and that block's unsharded
  gradient in fp32 before its reduce-scatter. Its activations are measured with the weights in the
  compute dtype (FSDP2's ``MixedPrecisionPolicy``), not under autocast.

The optimizer's step runs on what each device holds of the states: its scratch shards with them.
"""

from __future__ import annotations

from typing import NamedTuple

from composer.training.states import FP32, States

SEGMENTS = ("weights", "gradients", "optimizer", "gathered", "activations")


class Demand(NamedTuple):
    """Per-device bytes as ``(fixed, shared)``: fixed whatever the device count, shared divided by the
    data-parallel degree. ``activations`` is forward + backward's peak, ``step`` the optimizer step's
    scratch: the activations segment is the larger of the two."""

    weights: tuple[int, int]
    gradients: tuple[int, int]
    optimizer: tuple[int, int]
    gathered: tuple[int, int]
    activations: tuple[int, int]
    step: tuple[int, int]

    def on(self, groups: int) -> dict[str, int]:
        """Bytes of each segment on one device of a data-parallel group of ``groups``."""
        out = {name: fixed + -(-shared // groups) for name, (fixed, shared) in zip(SEGMENTS, self)}
        out["activations"] = max(out["activations"], self.step[0] + -(-self.step[1] // groups))
        return out

    def fixed_and_shared(self) -> tuple[int, int]:
        """The count-independent and the divided bytes, forward + backward's activations counted."""
        return sum(f for f, _ in self[:5]), sum(s for _, s in self[:5])


def demand(layout: str, states: States, fb: int, step: int, block: int, outside: int,
           compute_bytes: int, t: int) -> Demand:
    w, g, o = states.weights // t, states.gradients // t, states.optimizer // t
    fb, step = fb // t, step // t
    if layout in ("single", "ddp"):
        return Demand((w, 0), (g * (2 if layout == "ddp" else 1), 0), (o, 0), (0, 0), (fb, 0), (step, 0))
    if layout == "zero-1":
        return Demand((w, 0), (g, 0), (0, o), (0, 0), (fb, 0), (0, step))
    if layout == "zero-2":
        return Demand((w, 0), (0, g), (0, o), (0, 0), (fb, 0), (0, step))
    gathered = (compute_bytes * (outside + 2 * block) + FP32 * block) // t
    return Demand((0, w), (0, g), (0, o), (gathered, 0), (fb, 0), (0, step))
