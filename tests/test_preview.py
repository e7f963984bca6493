"""Previews as a person sees them: tokens over their text, images at each stage, audio before and
after, processors that come back from disk unchanged; and bad input met with a clear message."""

from __future__ import annotations

import io
import json
import struct
import unicodedata
import zlib

import numpy as np
import pytest
from PIL import Image

from composer.preview import PreviewError
from composer.preview.audio import audio_preview, load_wav, sample_speech, sample_tone, wav_bytes
from composer.preview.forms import part_form
from composer.preview.image import image_preview, load_image, sample_image_path
from composer.preview.processor import processor_preview
from composer.preview.text import MAX_DRAWN_CHARS, MAX_TEXT_CHARS, compare_backends, token_preview, visible

TEXT = "Héllo   World! Tokenizers split\tcafé\nnewlines [MASK] and 日本語."


@pytest.fixture(scope="module")
def bert(minilm_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(minilm_dir)


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c))


def _png(data: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(data)))


# ----- text ------------------------------------------------------------------------------------


def test_each_token_sits_over_its_own_characters(bert):
    preview = token_preview(bert, TEXT)
    words = [t for t in preview["tokens"] if not t["special"]]
    assert words and all(t["start"] is not None for t in words)
    for tok in words:
        assert _fold(TEXT[tok["start"]:tok["end"]]) == tok["token"].removeprefix("##")
    assert preview["count"] == len(preview["tokens"]) == len(bert(TEXT)["input_ids"])
    # the segments cover the whole text, whitespace made visible
    assert "".join(s["text"] for s in preview["segments"] if not s["special"]) == \
        TEXT.replace(" ", "·").replace("\t", "→").replace("\n", "↵\n").replace("[MASK]", "")


def test_special_tokens_are_flagged_even_when_typed(bert):
    tokens = token_preview(bert, TEXT)["tokens"]
    assert [t["token"] for t in tokens if t["special"]] == ["[CLS]", "[MASK]", "[SEP]"]
    mask = next(t for t in tokens if t["token"] == "[MASK]")
    assert TEXT[mask["start"]:mask["end"]] == "[MASK]"


def test_batch_pads_on_the_side_asked_for(bert):
    texts = ["a much longer sentence than the other", "short"]
    right = token_preview(bert, TEXT, batch=texts)["batch"]
    left = token_preview(bert, TEXT, batch=texts, padding_side="left")["batch"]
    assert right["rows"][1]["attention_mask"][-1] == 0 and right["rows"][1]["attention_mask"][0] == 1
    assert left["rows"][1]["attention_mask"][0] == 0 and left["rows"][1]["attention_mask"][-1] == 1
    assert left["rows"][1]["input_ids"][0] == bert.pad_token_id == 0
    assert [r["length"] for r in left["rows"]] == [len(bert(t)["input_ids"]) for t in texts]


def test_truncation_at_max_length_shows_what_is_dropped(bert):
    preview = token_preview(bert, TEXT, max_length=6)
    assert preview["count"] == 6 and preview["count_untruncated"] > 6
    assert preview["kept_chars"] < len(TEXT)
    assert all(r["truncated"] and len(r["input_ids"]) == 6 for r in preview["batch"]["rows"])


def test_max_length_beyond_max_position_embeddings_warns(bert):
    from transformers import BertConfig

    config = BertConfig(max_position_embeddings=128)
    warnings = token_preview(bert, TEXT, max_length=256, config=config)["warnings"]
    assert any("max_length 256 exceeds the model's max_position_embeddings (128)" in w for w in warnings)
    assert not any("max_length" in w for w in token_preview(bert, TEXT, max_length=64, config=config)["warnings"])


def test_vocab_file_trap_is_reported_not_silent(minilm_dir):
    from transformers import BertTokenizer

    broken = BertTokenizer(vocab_file=str(minilm_dir / "vocab.txt"))  # ignored by transformers 5.x
    preview = token_preview(broken, "hello world")
    assert all(t["unknown"] for t in preview["tokens"] if not t["special"])
    assert "the vocabulary did not load" in preview["warnings"][0]
    assert "BertTokenizer(vocab=...)" in preview["warnings"][0]


def test_a_tokenizer_that_fails_on_the_text_says_so(tmp_path):
    from transformers import BertTokenizer

    no_unk = BertTokenizer(vocab={"[CLS]": 0, "[SEP]": 1, "hello": 2})  # a vocabulary without [UNK]
    with pytest.raises(PreviewError, match=r"BertTokenizer failed on this text: .*\[UNK\]"):
        token_preview(no_unk, "hello stranger")


def test_a_megabyte_paste_is_cut_at_the_documented_limit(bert):
    preview = token_preview(bert, "word " * 200_000)  # timed in benchmarks/bounded_work.py
    assert len(preview["text"]) == MAX_TEXT_CHARS
    assert "1,000,000 characters" in preview["warnings"][0] and "100,000" in preview["warnings"][0]
    # the count covers the text; the spans the page draws, its first MAX_DRAWN_CHARS
    assert preview["count"] == len(bert("word " * 20_000, verbose=False)["input_ids"]) == 20_002
    assert preview["drawn_chars"] == MAX_DRAWN_CHARS - 1 and len(preview["tokens"]) == 1 + MAX_DRAWN_CHARS // 5
    assert "".join(s["text"] for s in preview["segments"] if not s["special"]) == visible("word " * 2_000)[:-1]
    assert preview["warnings"][-1] == ("tokens are drawn over the first 9,999 characters (2,001 of 20,002); "
                                       "the count covers all 100,000")


def test_pure_python_twin_compared_token_by_token(bert):
    from transformers import BertTokenizerLegacy

    result = compare_backends(bert, TEXT)
    assert result["available"] and result["same_ids"] and result["python"]["class"] == "BertTokenizerLegacy"
    assert any("token_type_ids" in line for line in result["explanation"])
    # the pure-Python one reports no offsets: its tokens are placed by searching the text
    slow = token_preview(BertTokenizerLegacy.from_pretrained(bert.name_or_path), TEXT)
    assert slow["offsets"] == "aligned"
    placed = [(t["start"], t["end"]) for t in slow["tokens"] if not t["special"]]
    assert placed == [(t["start"], t["end"]) for t in token_preview(bert, TEXT)["tokens"] if not t["special"]]


def test_backends_that_disagree_explain_where(bert):
    result = compare_backends(bert, "plain words, then a\u0378b and more")  # U+0378: unassigned
    assert not result["same_ids"]
    assert result["differences"][0]["fast_tokens"] == ["[UNK]"]
    assert result["differences"][0]["python_tokens"] == ["ab"]
    assert any("U+0378 (Cn)" in line and "Unicode" in line for line in result["explanation"])


def test_a_tokenizer_without_twin_says_so():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    word_level = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"[UNK]": 0, "text": 1},
                                                                                     unk_token="[UNK]")))
    assert compare_backends(word_level, "text")["available"] is False


# ----- image -----------------------------------------------------------------------------------


def test_constant_image_normalized_by_vit():
    from transformers import ViTImageProcessor

    preview = image_preview(ViTImageProcessor(), Image.new("RGB", (320, 200), (255, 0, 51)))
    assert preview["shape"] == [1, 3, 224, 224]
    means = [c["mean"] for c in preview["channels"]]
    assert means == pytest.approx([1.0, -1.0, 51 / 255 / 0.5 - 1], abs=1e-5)  # (x/255 - 0.5) / 0.5
    assert all(c["std"] == pytest.approx(0, abs=1e-6) for c in preview["channels"])
    assert preview["range"]["min"] == pytest.approx(-1) and preview["range"]["max"] == pytest.approx(1)
    shown = _png(preview["processed"])  # de-normalised: the colour comes back
    assert shown.shape == (224, 224, 3) and np.abs(shown.astype(int) - [255, 0, 51]).max() <= 1


def test_sample_photo_previewed_at_every_stage():
    from transformers import ViTImageProcessor

    preview = image_preview(ViTImageProcessor(size={"height": 64, "width": 96}), sample_image_path())
    assert preview["original_size"] == [512, 600]
    assert max(_png(preview["original"]).shape[:2]) == 256
    assert _png(preview["processed"]).shape == (64, 96, 3)
    assert [c["name"] for c in preview["channels"]] == ["R", "G", "B"]
    assert _png(preview["channels"][0]["png"]).shape == (64, 96)


def _png_header(width: int, height: int) -> bytes:
    """The start of a PNG that claims a size in its header; the pixel data is never reached."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def test_a_50000_pixel_square_image_is_refused_without_decoding():
    # The file holds a header and 64 bytes of pixels: a refusal proves nothing was decoded (decoding it
    # would fail on the missing pixels instead). Timed in benchmarks/bounded_work.py.
    with pytest.raises(PreviewError, match=r"50,000x50,000 pixels \(2,500 MP\), over the 25 MP limit"):
        load_image(_png_header(50_000, 50_000))


def test_a_large_jpeg_is_reduced_while_decoding():
    data = io.BytesIO()
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(data, format="JPEG")
    image, notes = load_image(data.getvalue(), max_pixels=400_000)  # 1/2 scale would still be 480,000
    assert image.size == (400, 300) and "1/4 scale" in notes[0]


def test_unreadable_and_damaged_images_get_a_message(tmp_path):
    with pytest.raises(PreviewError, match="not an image this preview can read"):
        load_image(b"this is plain text, not a picture")
    data = io.BytesIO()
    Image.new("RGB", (64, 64)).save(data, format="PNG")
    with pytest.raises(PreviewError, match="damaged"):
        load_image(data.getvalue()[:-40])
    with pytest.raises(PreviewError, match="cannot read"):
        load_image(tmp_path / "missing.jpg")


def test_previews_run_torch_on_one_thread_and_restore_it():
    import torch
    from transformers import ViTImageProcessor

    seen = []

    class Spy(ViTImageProcessor):
        def __call__(self, *args, **kwargs):
            seen.append(torch.get_num_threads())
            return super().__call__(*args, **kwargs)

    saved = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        image_preview(Spy(), Image.new("RGB", (8, 8)))
        assert seen == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(saved)


# ----- audio -----------------------------------------------------------------------------------


def test_wav2vec2_normalizes_to_zero_mean_unit_variance():
    from transformers import Wav2Vec2FeatureExtractor

    clip, rate = sample_speech()
    preview = audio_preview(Wav2Vec2FeatureExtractor(do_normalize=True), clip, rate)
    assert preview["features"]["kind"] == "waveform"
    assert preview["features"]["mean"] == pytest.approx(0, abs=1e-4)
    assert preview["features"]["std"] == pytest.approx(1, abs=1e-3)
    assert preview["input"]["std"] < 0.5  # the raw clip was not
    direct = Wav2Vec2FeatureExtractor(do_normalize=True)(clip, sampling_rate=rate)["input_values"][0]
    assert preview["features"]["max"] == pytest.approx(float(np.max(direct)))  # what the model gets
    raw = audio_preview(Wav2Vec2FeatureExtractor(do_normalize=False), clip, rate)
    assert raw["features"]["std"] == pytest.approx(raw["input"]["std"], rel=1e-4)
    assert len(preview["input"]["envelope"]) <= 800 * 2 * 4  # a small float32 buffer, not a list


def test_batch_of_two_clips_shows_padding_and_attention_mask():
    from transformers import Wav2Vec2FeatureExtractor

    clip, rate = sample_tone(1.0)
    batch = audio_preview(Wav2Vec2FeatureExtractor(return_attention_mask=True), clip, rate)["batch"]
    assert batch["attention_mask_sent"] and batch["padding_side"] == "right"
    assert [(r["mask_ones"], r["mask_length"]) for r in batch["rows"]] == [(16000, 16000), (8000, 16000)]
    padded = np.frombuffer(batch["rows"][1]["envelope"], np.float32).reshape(-1, 2)
    assert np.all(padded[-len(padded) // 3:] == 0)  # the padding is drawn as silence


def test_whisper_gives_a_log_mel_picture():
    from transformers import WhisperFeatureExtractor

    clip, rate = sample_speech()
    preview = audio_preview(WhisperFeatureExtractor(), clip, rate)
    features = preview["features"]
    assert (features["kind"], features["bins"], features["frames"]) == ("spectrogram", 80, 3000)
    assert _png(features["png"]).shape == (80, 1000, 3)
    # The axes' figures: 3,000 frames of 10 ms, the clip's 3.1 s in them, and what the colours stand for.
    assert features["seconds"] == 30.0 and features["audio_seconds"] == pytest.approx(clip.size / rate)
    assert features["colours"]["low"] < features["colours"]["high"] <= features["max"]
    assert _png(features["colours"]["bar"]).shape == (256, 1, 3)
    rows = preview["batch"]["rows"]
    assert [r["mask_length"] for r in rows] == [3000, 3000]
    assert rows[0]["mask_ones"] == pytest.approx(2 * rows[1]["mask_ones"], abs=1)


def test_wrong_sampling_rate_names_the_fix():
    from transformers import Wav2Vec2FeatureExtractor

    clip, _ = sample_tone(0.5, 8000)
    with pytest.raises(PreviewError, match=r"8000 Hz but Wav2Vec2FeatureExtractor expects 16000 Hz.*resample_poly"):
        audio_preview(Wav2Vec2FeatureExtractor(), clip, 8000)
    fixed = audio_preview(Wav2Vec2FeatureExtractor(), clip, 8000, resample=True)
    assert fixed["input"]["samples"] == 8000 and "resampled from 8000 Hz" in fixed["warnings"][0]


def test_player_wav_reads_back():
    clip, rate = sample_tone(0.25)
    again, again_rate, notes = load_wav(wav_bytes(clip, rate))
    assert again_rate == rate and not notes and np.abs(again - clip).max() < 1e-4


def test_float_and_stereo_wavs_are_read(tmp_path):
    from scipy.io import wavfile

    clip, rate = sample_tone(0.25)
    wavfile.write(tmp_path / "float.wav", rate, np.stack([clip, clip * 0], axis=1))
    mono, _, notes = load_wav(tmp_path / "float.wav")
    assert np.allclose(mono, clip / 2) and "2 channels averaged" in notes[0]


def test_a_two_hour_wav_reads_only_its_first_minute(tmp_path):
    path = tmp_path / "long.wav"
    size = 2 * 3600 * 16000 * 2  # two hours of 16-bit mono at 16 kHz
    fmt = struct.pack("<HHIIHH", 1, 1, 16000, 32000, 2, 16)
    with open(path, "wb") as f:  # a sparse file: two hours of silence that take no disk space
        f.write(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVEfmt " + struct.pack("<I", 16) + fmt)
        f.write(b"data" + struct.pack("<I", size))
        f.seek(44 + size - 1)
        f.write(b"\0")
    clip, rate, notes = load_wav(path)  # timed in benchmarks/bounded_work.py
    assert clip.size == 60 * rate and "2:00:00 long" in notes[0] and "first 60 s" in notes[0]


def test_a_wav_cut_short_says_how_much_it_holds():
    clip, rate = sample_tone(1.0)
    data = bytearray(wav_bytes(clip, rate))
    data[40:44] = struct.pack("<I", 2 * 3600 * rate * 2)  # the data chunk claims two hours
    again, _, notes = load_wav(bytes(data), name="phone.wav")
    assert again.size == rate
    assert notes == ["phone.wav is cut short: its header promises 2:00:00 but it holds 1.00 s of samples; "
                     "the preview uses those"]


def test_corrupt_and_non_wav_audio_get_a_message():
    with pytest.raises(PreviewError, match="damaged or unsupported WAV"):
        load_wav(b"RIFF\x10\x00\x00\x00WAVEfmt \x99\x99")
    with pytest.raises(PreviewError, match="is an MP3.*ffmpeg"):
        load_wav(b"ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00")
    with pytest.raises(PreviewError, match="not a WAV file"):
        load_wav(b"hello")
    with pytest.raises(PreviewError, match="^notes.wav is not a WAV file"):
        load_wav(b"hello", name="notes.wav")


def test_speech_sample_ships_with_the_package():
    clip, rate = sample_speech()
    assert rate == 16000 and 2 < clip.size / rate < 5 and np.abs(clip).max() > 0.3


# ----- forms -----------------------------------------------------------------------------------


def test_vit_form_lists_every_option_with_its_default():
    form = {f["name"]: f for f in part_form("image_processor", "ViTImageProcessor")}
    assert {"size", "resample", "do_resize", "do_rescale", "do_normalize", "image_mean", "image_std"} <= set(form)
    assert "return_tensors" not in form  # a per-call argument, not an option
    assert form["size"]["default"] == {"height": 224, "width": 224}
    assert form["image_mean"]["default"] == [0.5, 0.5, 0.5]
    assert form["do_resize"]["default"] is True and form["do_resize"]["kinds"] == ["bool"]
    assert {"name": "BILINEAR", "value": 2} in form["resample"]["choices"] and form["resample"]["default"] == 2
    assert form["do_normalize"]["help"] == "Whether to normalize the image."


def test_feature_extractor_form_reads_init_and_docstring():
    form = {f["name"]: f for f in part_form("feature_extractor", "Wav2Vec2FeatureExtractor")}
    assert set(form) == {"feature_size", "sampling_rate", "padding_value", "return_attention_mask", "do_normalize"}
    assert form["sampling_rate"]["default"] == 16000 and form["sampling_rate"]["kinds"] == ["int"]
    assert "zero-mean unit-variance" in form["do_normalize"]["help"]


# ----- processor -------------------------------------------------------------------------------


def test_wav2vec2_processor_previews_both_halves_and_round_trips(tmp_path):
    vocab = tmp_path / "vocab.json"
    letters = ["<pad>", "<s>", "</s>", "<unk>", "|", *"abcdefghijklmnopqrstuvwxyz'"]
    vocab.write_text(json.dumps({c: i for i, c in enumerate(letters)}))
    spec = {"model_type": "wav2vec2", "tokenizer": {"vocab_file": str(vocab)}, "processor": "Wav2Vec2Processor",
            "feature_extractor": {"class": "Wav2Vec2FeatureExtractor", "options": {"return_attention_mask": True}}}
    preview = processor_preview(spec, text="the quick brown fox")
    assert preview["parts"] == {"feature_extractor": "Wav2Vec2FeatureExtractor", "tokenizer": "Wav2Vec2CTCTokenizer"}
    assert preview["halves"]["tokenizer"]["count"] == len("the quick brown fox")
    assert preview["halves"]["feature_extractor"]["features"]["std"] == pytest.approx(1, abs=1e-3)
    assert set(preview["outputs"]) == {"input_values", "attention_mask", "labels"}
    trip = preview["round_trip"]
    assert trip["identical"] and trip["class"] == "Wav2Vec2Processor" and "vocab.json" in trip["files"]


def test_clip_processor_with_a_pretrained_tokenizer_round_trips(minilm_dir):
    spec = {"model_type": "clip", "tokenizer": {"pretrained": str(minilm_dir)},
            "image_processor": {"class": "CLIPImageProcessor", "options": {"size": {"shortest_edge": 32},
                                                                             "crop_size": {"height": 32, "width": 32}}},
            "processor": "CLIPProcessor"}
    preview = processor_preview(spec)
    assert preview["outputs"]["pixel_values"]["shape"] == [1, 3, 32, 32]
    assert preview["halves"]["image_processor"]["shape"] == [1, 3, 32, 32]
    assert preview["round_trip"]["identical"]
    assert preview["round_trip"]["parts"] == {"image_processor": "CLIPImageProcessor", "tokenizer": "BertTokenizer"}


def test_a_spec_without_processor_names_the_class_to_use():
    spec = {"model_type": "wav2vec2", "feature_extractor": {"class": "Wav2Vec2FeatureExtractor"}}
    with pytest.raises(PreviewError, match="wav2vec2 uses Wav2Vec2Processor"):
        processor_preview(spec)
