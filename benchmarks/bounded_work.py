"""Inputs far over a limit cost about what an input at the limit costs: the timings the unit tests no
longer assert (a shared machine makes a wall-clock bound flaky), each as a ratio against its baseline
measured in the same run, alternating. A ratio near 1 means the work is cut at the limit.

* a 1,000,000-character paste in the token preview   vs  the 100,000 characters it shows;
* a PNG claiming 50,000 x 50,000 pixels (refused)      vs  loading a 64 x 64 PNG;
* a two-hour WAV (the first minute is read)            vs  a one-minute WAV;
* a hub id while offline (refused at once)             vs  a missing local folder.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/bounded_work.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import struct
import sys
import tempfile
import time
import wave
import zlib
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from composer.errors import SpecError  # noqa: E402
from composer.preview import PreviewError  # noqa: E402
from composer.preview.audio import load_wav  # noqa: E402
from composer.preview.image import load_image  # noqa: E402
from composer.preview.text import MAX_TEXT_CHARS, token_preview  # noqa: E402
from composer.validation import validate  # noqa: E402


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def small_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 60)).save(out, format="PNG")
    return out.getvalue()


def wav_file(path: Path, seconds: float, rate: int = 16000, sparse: bool = False) -> Path:
    frames = int(seconds * rate)
    if sparse:  # silence that takes no disk space: only the header and the last byte are written
        with open(path, "wb") as f:
            fmt = struct.pack("<HHIIHH", 1, 1, rate, 2 * rate, 2, 16)
            f.write(b"RIFF" + struct.pack("<I", 36 + 2 * frames) + b"WAVEfmt " + struct.pack("<I", 16) + fmt)
            f.write(b"data" + struct.pack("<I", 2 * frames))
            f.seek(44 + 2 * frames - 1)
            f.write(b"\0")
        return path
    with wave.open(str(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(bytes(2 * frames))
    return path


def refused(fn, error_type) -> None:
    try:
        fn()
    except error_type:
        return
    raise AssertionError("expected a refusal")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    from transformers import BertTokenizer

    tmp = Path(tempfile.mkdtemp(prefix="bounded-"))
    vocab = tmp / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "word"]))
    bert = BertTokenizer(vocab=str(vocab))
    header, png = png_header(50_000, 50_000), small_png()
    long_wav, minute_wav = wav_file(tmp / "long.wav", 2 * 3600, sparse=True), wav_file(tmp / "minute.wav", 60)
    cases = [
        ("1,000,000-char paste", lambda: token_preview(bert, "word " * 200_000),
         f"{MAX_TEXT_CHARS:,} chars", lambda: token_preview(bert, ("word " * 200_000)[:MAX_TEXT_CHARS])),
        ("50,000^2 PNG header", lambda: refused(lambda: load_image(header), PreviewError),
         "64x64 PNG", lambda: load_image(png)),
        ("two-hour WAV", lambda: load_wav(long_wav), "one-minute WAV", lambda: load_wav(minute_wav)),
        ("hub id offline", lambda: refused(lambda: validate({"model_type": "bert", "pretrained": "google-bert/bert-base-uncased"}), SpecError),
         "missing folder", lambda: refused(lambda: validate({"model_type": "bert", "pretrained": str(tmp / "none")}), SpecError)),
    ]
    print(f"{'case':<22} {'ms':>8}   {'baseline':<16} {'ms':>8}   ratio (median of {args.repeat}, alternating)")
    for name, fn, base_name, base in cases:
        fn(), base()  # warm: imports and caches
        ours, theirs = [], []
        for _ in range(args.repeat):
            ours.append(timed(fn))
            theirs.append(timed(base))
        a, b = statistics.median(ours), statistics.median(theirs)
        print(f"{name:<22} {a:>8.1f}   {base_name:<16} {b:>8.1f}   {a / b:5.2f}x")


if __name__ == "__main__":
    main()
