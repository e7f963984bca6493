"""Device kinds a plan is made for: memory and dense peak throughput, and the fewest that hold a peak.

Memory is the card's nominal size read as GiB; the plan's headroom covers what the driver, the CUDA
context and fragmentation take. Peaks are NVIDIA's dense (non-sparse) tensor-core figures.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from composer import limits

GIB = 2**30


class Device(NamedTuple):
    name: str
    memory: int  # bytes
    bf16_tflops: float  # dense bf16 / fp16 peak, TFLOP/s
    tf32_tflops: float  # dense TF32 peak (what fp32 matmuls run at)


KINDS = {
    "24": Device("24 GB (L4)", 24 * GIB, 121, 60),
    "40": Device("40 GB (A100 40GB)", 40 * GIB, 312, 156),
    "80": Device("80 GB (H100 SXM)", 80 * GIB, 989, 495),
    "141": Device("141 GB (H200)", 141 * GIB, 989, 495),
    "192": Device("192 GB (B200)", 192 * GIB, 2250, 1100),
}


def device_of(settings) -> Device:
    """The settings' device kind, a custom one from its memory and peak, or a kind with its peak overridden."""
    if settings.device == "custom":
        return Device(f"custom {settings.device_memory_gb:g} GB", int(settings.device_memory_gb * GIB),
                      settings.peak_tflops, settings.peak_tflops)
    kind = KINDS[settings.device]
    if settings.peak_tflops is not None:
        return kind._replace(bf16_tflops=settings.peak_tflops, tf32_tflops=settings.peak_tflops)
    return kind


def usable(device: Device, headroom: float) -> int:
    """Bytes of a device a plan may fill."""
    return int(device.memory * (1 - headroom))


def fewest(fixed: int, shared: int, capacity: int, step: int, most: int = limits.MAX_DEVICES) -> int | None:
    """The fewest devices n (a multiple of ``step``, at most ``most``) with fixed + shared / (n / step)
    <= capacity: ``fixed`` bytes every device holds whatever the count, ``shared`` what the data-parallel
    group divides among itself. None when no count within the limit does."""
    if fixed > capacity:
        return None
    if shared == 0:
        return step
    if fixed == capacity:
        return None
    groups = max(1, math.ceil(shared / (capacity - fixed)))  # then ceil(shared / groups) fits exactly
    return groups * step if groups * step <= most else None
