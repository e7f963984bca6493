"""A safetensors file written chunk by chunk, byte for byte the file ``safetensors.torch.save_file``
writes, so that a save can say how many bytes are on disk and stop between two chunks.

transformers' ``save_pretrained`` prepares the tensors (ties removed, conversions reverted, shards)
and then hands each shard to safetensors in one call that holds the GIL to the end: no progress, no
cancel. ``streaming(meter)`` routes this thread's calls to ``write`` instead (other threads, and any
save outside the block, still go to safetensors), so the folder is exactly what save_pretrained makes.
"""

from __future__ import annotations

import json
import os
import struct
import threading
from contextlib import contextmanager
from typing import Iterator

from composer import limits
from composer.progress import Meter

_ALIGN = 8  # safetensors pads its header with spaces to a multiple of 8 bytes


def header(tensors: dict, metadata: dict[str, str] | None) -> tuple[bytes, list[str]]:
    """The file's header (length prefix included) and the order the data follows. The order is
    safetensors' own (by dtype, then name), read from the header it writes for empty stand-ins."""
    import torch
    from safetensors.torch import save as safetensors_bytes

    stand_ins = safetensors_bytes({name: torch.empty(0, dtype=t.dtype) for name, t in tensors.items()})
    given = json.loads(stand_ins[8:8 + struct.unpack("<Q", stand_ins[:8])[0]])
    given.pop("__metadata__", None)
    entries: dict = {"__metadata__": metadata} if metadata else {}
    offset = 0
    for name, entry in given.items():  # safetensors' order, and its names of the dtypes
        t = tensors[name]
        size = t.numel() * t.element_size()
        entries[name] = {"dtype": entry["dtype"], "shape": list(t.shape), "data_offsets": [offset, offset + size]}
        offset += size
    text = json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % _ALIGN)
    return struct.pack("<Q", len(text)) + text, list(given)


def write(tensors: dict, filename: str | os.PathLike, metadata: dict[str, str] | None, meter: Meter) -> None:
    """Write ``tensors`` (contiguous CPU tensors, no two sharing memory: what save_pretrained passes)
    as one safetensors file, SAVE_CHUNK_BYTES at a time, each chunk on disk before it is counted."""
    import torch

    head, order = header(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(head)
        for name in order:
            data = memoryview(tensors[name].reshape(-1).view(torch.uint8).numpy())
            for start in range(0, len(data), limits.SAVE_CHUNK_BYTES):
                meter.check()
                chunk = data[start:start + limits.SAVE_CHUNK_BYTES]
                f.write(chunk)
                f.flush()
                os.fdatasync(f.fileno())
                meter.add(len(chunk))


# ----- routing save_pretrained's writes ----------------------------------------------------------

_STREAM = threading.local()  # this thread's Meter inside streaming(); None outside
_LOCK = threading.Lock()
_ORIGINAL: list = []  # transformers' own safe_save_file, once routed


def _save_file(tensors, filename, metadata=None):
    meter = getattr(_STREAM, "meter", None)
    if meter is None:
        return _ORIGINAL[0](tensors, filename, metadata=metadata)
    return write(tensors, filename, metadata, meter)


@contextmanager
def streaming(meter: Meter) -> Iterator[None]:
    """This thread's ``save_pretrained`` writes its safetensors files through ``write`` into ``meter``."""
    from transformers import modeling_utils

    with _LOCK:
        if not _ORIGINAL:
            _ORIGINAL.append(modeling_utils.safe_save_file)
            modeling_utils.safe_save_file = _save_file
    _STREAM.meter = meter
    try:
        yield
    finally:
        _STREAM.meter = None

