"""Helpers shared by the previews: the error a person sees, PNG bytes, drawable envelopes."""

from __future__ import annotations

import functools
import struct
import sys
import zlib
from contextlib import contextmanager

import numpy as np


class PreviewError(ValueError):
    """An input the preview cannot show (unreadable file, too large, wrong sampling rate).

    ``str(err)`` is one line that says what is wrong and how to fix it.
    """


def failed(part, what: str, err: Exception) -> PreviewError:
    """The error of a transformers part that raised on the input: its class, the input, the reason."""
    return PreviewError(f"{type(part).__name__} failed on this {what}: {' '.join(str(err).split())}")


@contextmanager
def one_torch_thread():
    """Run torch on one intra-op thread for the duration, then restore the setting.

    A preview is a few milliseconds of work per operation: too little to gain from splitting, and on
    a machine busier than its cores (a shared laptop, CI) each split operation waits for every thread
    at OpenMP barriers, which made a Whisper log-mel 30x slower (benchmarks/preview_latency.py)."""
    torch = sys.modules.get("torch")  # never imported just for this
    saved = torch.get_num_threads() if torch is not None else 1
    if saved == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(saved)


def on_one_torch_thread(fn):
    """Decorator: ``fn`` runs inside ``one_torch_thread()``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with one_torch_thread():
            return fn(*args, **kwargs)

    return wrapper


def png_bytes(pixels, max_side: int | None = None) -> bytes:
    """PNG of a PIL image or a uint8 HxW / HxWx3 array, shrunk to ``max_side``: images travel to
    the browser as small PNGs, never as lists of floats."""
    from PIL import Image

    if isinstance(pixels, np.ndarray) and (not max_side or max(pixels.shape[:2]) <= max_side):
        return _encode_png(np.ascontiguousarray(pixels))
    image = pixels if isinstance(pixels, Image.Image) else Image.fromarray(np.ascontiguousarray(pixels))
    if max_side and max(image.size) > max_side:
        scale = max_side / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BILINEAR, reducing_gap=1.0)  # box-reduce first: fast
    return _encode_png(np.asarray(image.convert("RGB") if image.mode not in ("L", "RGB") else image))


def _encode_png(pixels: np.ndarray) -> bytes:
    """An 8-bit greyscale or RGB PNG with the "Up" filter and fast zlib: several times faster than
    PIL's encoder (which tries every filter on every row) at the same size, for previews redrawn on
    every edit."""
    height, width = pixels.shape[:2]
    rows = pixels.reshape(height, -1)
    data = np.empty((height, rows.shape[1] + 1), np.uint8)
    data[:, 0] = 2  # filter "Up": each byte minus the one above it
    data[0, 1:] = rows[0]
    data[1:, 1:] = rows[1:] - rows[:-1]  # uint8 arithmetic wraps modulo 256, as PNG expects

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0 if pixels.ndim == 2 else 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(data.tobytes(), 1))
            + chunk(b"IEND", b""))


def to_uint8(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map [low, high] linearly onto 0..255 (clipped)."""
    span = high - low if high > low else 1.0
    return np.clip((values - low) * (255.0 / span), 0, 255).astype(np.uint8)


def envelope(samples: np.ndarray, bins: int) -> bytes:
    """Min and max of each of ``bins`` equal slices, as float32 bytes [min0, max0, min1, max1, …]:
    enough to draw a waveform of any length in a few kilobytes."""
    samples = np.asarray(samples, dtype=np.float32).ravel()
    if samples.size == 0:
        return b""
    bins = min(bins, samples.size)
    edges = np.linspace(0, samples.size, bins + 1).astype(np.int64)
    lows = np.minimum.reduceat(samples, edges[:-1])
    highs = np.maximum.reduceat(samples, edges[:-1])
    return np.stack([lows, highs], axis=1).astype(np.float32).tobytes()


def stats(values: np.ndarray) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return {"min": 0.0, "max": 0.0, "mean": 0.0, "std": 0.0}
    return {"min": float(values.min()), "max": float(values.max()), "mean": float(values.mean()),
            "std": float(values.std())}
