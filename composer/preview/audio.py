"""What a feature extractor does to a clip: the waveform before, the features after (a normalised
waveform, or a log-mel spectrogram as an image), a padded batch of two clips with its attention
mask, and the clip as WAV bytes for an audio player.

Waveforms travel as small float32 envelopes, spectrograms as PNGs. Files are cut at
``MAX_SECONDS`` (the first minute of a two-hour recording) and only that part is read.
"""

from __future__ import annotations

import functools
import inspect
import io
import wave
from pathlib import Path
from typing import Any

import numpy as np

from composer.preview._common import (PreviewError, envelope, failed, on_one_torch_thread, png_bytes, stats,
                                      to_uint8)
from composer.limits import MAX_RESAMPLE_FACTOR, MAX_SAMPLING_RATE
from composer.sizes import FEATURE_COUNTS, over

MAX_SECONDS = 60.0  # longer files and arrays are cut here, with a warning
ENVELOPE_BINS = 800  # points per drawn waveform
SPECTROGRAM_WIDTH = 1024  # a spectrogram PNG is at most this many frames wide
DATA = Path(__file__).parent / "data"


# ----- samples and files -----------------------------------------------------------------------


def sample_speech() -> tuple[np.ndarray, int]:
    """Three seconds of speech at 16 kHz, recorded once with Debian's espeak-ng:
    ``espeak-ng -v en-us -s 150 -w s.wav "The quick brown fox jumps over the lazy dog."``, then
    resampled from 22,050 Hz with ``scipy.signal.resample_poly(x, 320, 441)`` and trimmed."""
    waveform, rate, _ = load_wav(DATA / "speech.wav")
    return waveform, rate


def sample_tone(seconds: float = 2.0, sampling_rate: int = 16000) -> tuple[np.ndarray, int]:
    """A synthesised clip: a rising tone with a pause, so padding and the spectrogram are easy to read."""
    t = np.arange(int(seconds * sampling_rate)) / sampling_rate
    wave_ = 0.5 * np.sin(2 * np.pi * (220 + 440 * t / seconds) * t)
    wave_[(t > seconds * 0.45) & (t < seconds * 0.55)] = 0.0
    return wave_.astype(np.float32), sampling_rate


def _to_float(samples: np.ndarray) -> np.ndarray:
    """Integer PCM (uint8, int16, int32, …) → float32 in [-1, 1); floats pass through."""
    if samples.dtype.kind not in "iu":
        return samples.astype(np.float32, copy=False)
    info = np.iinfo(samples.dtype)
    middle, half = (int(info.max) + int(info.min) + 1) / 2, (int(info.max) - int(info.min) + 1) / 2
    return ((samples.astype(np.float64) - middle) / half).astype(np.float32)


def _pcm(frames: bytes, width: int) -> np.ndarray:
    """WAV frames of 1–4 bytes a sample (8-bit is unsigned, 24-bit is widened to 32) → float32."""
    if width == 3:
        raw = np.frombuffer(frames, np.uint8).reshape(-1, 3)
        wide = np.zeros((raw.shape[0], 4), np.uint8)
        wide[:, 1:] = raw  # little-endian: the 3 bytes become the top of an int32
        return _to_float(wide.view("<i4").ravel())
    return _to_float(np.frombuffer(frames, {1: np.uint8, 2: "<i2", 4: "<i4"}[width]))


def _read_with_wave(stream, max_seconds: float):
    with wave.open(stream, "rb") as f:
        rate, channels, width, total = f.getframerate(), f.getnchannels(), f.getsampwidth(), f.getnframes()
        if rate <= 0 or width not in (1, 2, 3, 4):
            raise wave.Error(f"unsupported: {rate} Hz, {width} bytes a sample")
        frames = f.readframes(min(total, int(max_seconds * rate)))
    data = _pcm(frames[: len(frames) // (width * channels) * width * channels], width)
    return data.reshape(-1, channels), rate, total


def _read_with_scipy(source, max_seconds: float):
    """Float and WAVE_FORMAT_EXTENSIBLE files, which the stdlib ``wave`` refuses; memory-mapped, so
    only the part we keep is read."""
    from scipy.io import wavfile

    rate, data = wavfile.read(source, mmap=not isinstance(source, io.BytesIO))
    total = data.shape[0]
    data = _to_float(np.asarray(data[: int(max_seconds * rate)]))
    return data.reshape(data.shape[0], -1), rate, total


def load_wav(source: Any, max_seconds: float = MAX_SECONDS, name: str | None = None
             ) -> tuple[np.ndarray, int, list[str]]:
    """A WAV path or bytes → (mono float32 waveform, sampling rate, notes). Only the first
    ``max_seconds`` are read (a two-hour file costs no more than a minute); stereo is averaged; a
    file cut short (its header promises more samples than it holds) is said. ``name``: what a
    message calls the file (default: its path, or "the upload" for bytes)."""
    is_bytes = isinstance(source, (bytes, bytearray, memoryview))
    name = name or ("the upload" if is_bytes else str(source))
    head = bytes(source[:12]) if is_bytes else _head(source, name)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        kind = "an MP3" if head[:3] == b"ID3" or head[:2] in (b"\xff\xfb", b"\xff\xf3") else \
            "FLAC" if head[:4] == b"fLaC" else "Ogg" if head[:4] == b"OggS" else "not a WAV file"
        raise PreviewError(f"{name} is {kind}; the preview reads WAV only. Convert it, e.g. "
                           "`ffmpeg -i input -ac 1 -ar 16000 output.wav`")
    def opened():
        return io.BytesIO(bytes(source)) if is_bytes else str(source)

    try:
        try:
            data, rate, total = _read_with_wave(opened(), max_seconds)
        except wave.Error:
            data, rate, total = _read_with_scipy(opened(), max_seconds)
    except Exception as err:  # a damaged header makes wave/scipy raise anything from struct.error to KeyError
        raise PreviewError(f"{name} is a damaged or unsupported WAV file ({' '.join(str(err).split())}); "
                           "re-export it as 16-bit PCM") from None
    if data.size == 0:
        raise PreviewError(f"{name} holds no audio samples")
    notes = []
    if data.shape[0] < min(total, int(max_seconds * rate)):
        notes.append(f"{name} is cut short: its header promises {_duration(total / rate)} but it holds "
                     f"{data.shape[0] / rate:.2f} s of samples; the preview uses those")
    elif total / rate > max_seconds:
        notes.append(f"the file is {_duration(total / rate)} long; the preview uses its first {max_seconds:g} s")
    if data.shape[1] > 1:
        notes.append(f"{data.shape[1]} channels averaged to mono (feature extractors take one channel)")
    return data.mean(axis=1, dtype=np.float32), rate, notes


def _head(path: Any, name: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read(12)
    except OSError as err:
        raise PreviewError(f"cannot read {name}: {err.strerror or err}") from None


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes // 60}:{minutes % 60:02d}:{secs:02d}" if minutes >= 60 else f"{minutes}:{secs:02d}"


def wav_bytes(waveform: np.ndarray, sampling_rate: int) -> bytes:
    """16-bit PCM WAV for the browser's audio player (peaks above 1 are clipped)."""
    pcm = np.clip(np.asarray(waveform, dtype=np.float32), -1.0, 1.0)
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(int(sampling_rate))
        f.writeframes((pcm * 32767).astype("<i2").tobytes())
    return out.getvalue()


def resample(waveform: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly), the fix for a sampling-rate mismatch; a
    PreviewError when its factors pass MAX_RESAMPLE_FACTOR (the filter would take seconds to design)."""
    from math import gcd

    from scipy.signal import resample_poly

    g = gcd(int(from_rate), int(to_rate))
    up, down = int(to_rate) // g, int(from_rate) // g
    if max(up, down) > MAX_RESAMPLE_FACTOR:  # its filter has 20 x max(up, down) taps
        raise PreviewError(f"resampling from {int(from_rate):,} Hz to {int(to_rate):,} Hz is a factor of {up:,}/{down:,}: "
                           f"{over(max(up, down), '', MAX_RESAMPLE_FACTOR, 'MAX_RESAMPLE_FACTOR')}; resample the "
                           f"clip first, e.g. `ffmpeg -i input -ar {int(to_rate)} output.wav`")
    return resample_poly(waveform, up, down).astype(np.float32)


# ----- the preview -----------------------------------------------------------------------------


def _check_rate(feature_extractor, waveform, rate: int, fix: bool, notes: list[str]) -> np.ndarray:
    expected = getattr(feature_extractor, "sampling_rate", None)
    if expected is None or rate == expected:
        return waveform
    name = type(feature_extractor).__name__
    if not fix:
        raise PreviewError(
            f"the clip is sampled at {rate} Hz but {name} expects {expected} Hz (its sampling_rate). Resample "
            f"the clip to {expected} Hz, e.g. audio_preview(..., resample=True), which uses "
            f"scipy.signal.resample_poly; or, if the model really takes {rate} Hz audio, set the feature "
            f"extractor's sampling_rate to {rate}")
    notes.append(f"resampled from {rate} Hz to {expected} Hz (the feature extractor's sampling_rate)")
    return resample(waveform, rate, expected)


def _feature_axis(feature_extractor, shape: tuple[int, ...]) -> int:
    """Which axis of one example's (2-D) features holds the mel bins: the one whose size the
    extractor names (feature_size, num_mel_bins, …); else the shorter one."""
    sizes = {getattr(feature_extractor, a, None) for a in FEATURE_COUNTS}
    stride = getattr(feature_extractor, "stride", None)
    if isinstance(stride, int) and isinstance(getattr(feature_extractor, "feature_size", None), int):
        sizes.add(feature_extractor.feature_size * stride)  # SeamlessM4T stacks frames
    if shape[1] in sizes:
        return 1
    if shape[0] in sizes:
        return 0
    return 0 if shape[0] < shape[1] else 1


def _spectrogram_png(features: np.ndarray, axis: int) -> tuple[bytes, float, float]:
    """Mel bins up (low frequencies at the bottom), time to the right, magma colours; with the values
    the darkest and the brightest colour stand for (the colour bar's ends)."""
    image = features.T if axis == 1 else features
    image = image[::-1]
    if image.shape[1] > SPECTROGRAM_WIDTH:  # average neighbouring frames down to the width
        step = -(-image.shape[1] // SPECTROGRAM_WIDTH)
        usable = image.shape[1] // step * step
        image = image[:, :usable].reshape(image.shape[0], -1, step).mean(axis=2)
    low, high = float(image.min()), float(image.max())
    return png_bytes(_magma()[to_uint8(image, low, high)]), low, high


@functools.cache
def colour_bar_png() -> bytes:
    """The spectrogram's colours as a 1-pixel-wide bar, brightest (the highest value) at the top."""
    return png_bytes(np.ascontiguousarray(_magma()[::-1, None, :]))


def _magma() -> np.ndarray:
    global _MAGMA
    if _MAGMA is None:
        from matplotlib import colormaps

        _MAGMA = (colormaps["magma"](np.linspace(0, 1, 256))[:, :3] * 255).astype(np.uint8)
    return _MAGMA


_MAGMA: np.ndarray | None = None


def _features(feature_extractor, key: str, values: np.ndarray, rate: int, clip_seconds: float) -> dict[str, Any]:
    """One example's features: a drawable envelope for a waveform, a PNG for a spectrogram. Both say
    the time they span (``seconds``) where it is known, a spectrogram also where the clip ends in it
    (``audio_seconds``: Whisper pads every clip to 30 s) and the value range of its colours."""
    out: dict[str, Any] = {"key": key, "shape": list(values.shape), **stats(values)}
    normalize = getattr(feature_extractor, "do_normalize", None)
    if isinstance(normalize, bool):
        out["normalized"] = normalize
    if values.ndim == 1:
        out.update(kind="waveform", envelope=envelope(values, ENVELOPE_BINS), seconds=values.size / rate)
    elif values.ndim == 2:
        axis = _feature_axis(feature_extractor, values.shape)
        frames = int(values.shape[1 - axis])
        png, low, high = _spectrogram_png(values, axis)
        out.update(kind="spectrogram", bins=int(values.shape[axis]), frames=frames, png=png,
                   colours={"low": low, "high": high, "bar": colour_bar_png()})
        hop = getattr(feature_extractor, "hop_length", None)
        if isinstance(hop, int) and hop > 0:
            out.update(seconds=frames * hop / rate, audio_seconds=min(clip_seconds, frames * hop / rate))
    else:
        out["kind"] = "other"
    return out


def _call(feature_extractor, clips, rate: int, **kwargs):
    try:
        return feature_extractor(clips, sampling_rate=rate, return_tensors="np", **kwargs)
    except Exception as err:
        raise failed(feature_extractor, "clip", err) from None


def _batch(feature_extractor, clip: np.ndarray, rate: int) -> tuple[Any, dict[str, Any]]:
    """The clip and its first half, padded together exactly as the extractor pads (to the longest
    clip, or to a fixed length, e.g. Whisper's 30 s). The first row is never padded, so it is also
    the clip's own features: one call serves both views. Where the extractor returns no attention
    mask, the mask is drawn from the clip lengths and marked as not sent to the model."""
    clips = [clip, clip[: max(1, clip.size // 2)]]
    default = inspect.signature(type(feature_extractor).__call__).parameters.get("padding")
    padding = "longest" if default is None or default.default in (False, "do_not_pad") else default.default
    output = _call(feature_extractor, clips, rate, padding=padding)
    key = (feature_extractor.model_input_names or ["input_values"])[0]
    key = key if key in output else next(iter(output))
    mask = output.get("attention_mask")
    hop = getattr(feature_extractor, "hop_length", None)
    rows = []
    for i, c in enumerate(clips):
        values = np.asarray(output[key][i])
        row: dict[str, Any] = {"seconds": c.size / rate, "samples": int(c.size), "shape": list(values.shape)}
        if mask is not None:
            row.update(mask_ones=int(np.asarray(mask[i]).sum()), mask_length=int(np.asarray(mask[i]).size))
        elif values.ndim == 1:
            row.update(mask_ones=min(int(c.size), values.size), mask_length=int(values.size))
        elif values.ndim == 2 and isinstance(hop, int) and hop > 0:
            frames = int(values.shape[1 - _feature_axis(feature_extractor, values.shape)])
            row.update(mask_ones=min(frames, -(-c.size // hop)), mask_length=frames)
        if values.ndim == 1:
            row["envelope"] = envelope(values, ENVELOPE_BINS)
        rows.append(row)
    batch = {"key": key, "padding": padding, "padding_side": getattr(feature_extractor, "padding_side", "right"),
             "padding_value": float(getattr(feature_extractor, "padding_value", 0.0)),
             "attention_mask_sent": mask is not None, "rows": rows,
             "outputs": {k: list(np.shape(v)) for k, v in output.items()}}
    return output, batch


@on_one_torch_thread
def audio_preview(feature_extractor, waveform: np.ndarray, sampling_rate: int, resample: bool = False) -> dict:
    """The clip before (envelope, statistics, WAV bytes) and after the feature extractor (normalised
    waveform envelope or log-mel PNG), and a padded batch of two clips with its attention mask.
    A clip at the wrong sampling rate is refused with the fix, or resampled if ``resample``."""
    notes: list[str] = []
    clip = np.asarray(waveform)
    if clip.dtype.kind in "iu":  # raw PCM samples: feature extractors expect floats in [-1, 1]
        notes.append(f"{clip.dtype} samples scaled to floats in [-1, 1]")
    clip = _to_float(clip)
    if clip.ndim == 2:  # (samples, channels) or (channels, samples)
        clip = clip.mean(axis=int(np.argmin(clip.shape)))
        notes.append("several channels averaged to mono (feature extractors take one channel)")
    if clip.ndim != 1 or clip.size == 0:
        raise PreviewError(f"expected a mono clip (one row of samples), got shape {list(np.shape(waveform))}")
    if not np.isfinite(clip).all():
        raise PreviewError("the clip contains NaN or infinite samples")
    if sampling_rate > MAX_SAMPLING_RATE:
        raise PreviewError(f"the clip's sampling rate of {over(sampling_rate, 'Hz', MAX_SAMPLING_RATE, 'MAX_SAMPLING_RATE')}")
    if clip.size > MAX_SECONDS * sampling_rate:
        notes.append(f"the clip is {_duration(clip.size / sampling_rate)} long; the preview uses its first "
                     f"{MAX_SECONDS:g} s")
        clip = clip[: int(MAX_SECONDS * sampling_rate)]
    clip = _check_rate(feature_extractor, clip, sampling_rate, resample, notes)
    rate = getattr(feature_extractor, "sampling_rate", None) or sampling_rate
    limit = getattr(feature_extractor, "n_samples", None)  # Whisper-style: a fixed window
    if isinstance(limit, int) and clip.size > limit:
        notes.append(f"{type(feature_extractor).__name__} keeps only the first {limit / rate:g} s "
                     "(chunk_length); the rest of the clip is dropped")
    output, batch = _batch(feature_extractor, clip, rate)
    return {
        "class": type(feature_extractor).__name__,
        "sampling_rate": rate,
        "input": {"seconds": clip.size / rate, "samples": int(clip.size), **stats(clip),
                  "envelope": envelope(clip, ENVELOPE_BINS), "wav": wav_bytes(clip, rate)},
        "features": _features(feature_extractor, batch["key"], np.asarray(output[batch["key"]][0]), rate,
                              clip.size / rate),
        "batch": batch,
        "warnings": notes,
    }
