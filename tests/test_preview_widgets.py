"""The preview widgets on the Python side, as a notebook user and the front end drive them: each one's
state on construction, the design restored and returned, edits landing in the Spec and redrawing the
preview as transformers computes it by hand, a burst of edits recomputed once, files uploaded as
message buffers, and bad input met with a message that names it. No browser here
(tests/browser/test_preview_browser.py drives the views in JupyterLab); tests/test_preview.py tests
the computations these widgets render."""

from __future__ import annotations

import io
import json
import re
import struct
import wave
import zlib

import numpy as np
import pytest
from PIL import Image

from composer import Spec, save, to_code
from composer.validation import ready
from composer.preview.audio import sample_speech
from composer.preview.image import sample_image
from composer.preview.text import MAX_DRAWN_CHARS, MAX_TEXT_CHARS
from widgets import AudioPreview, Composer, ImagePreview, ProcessorBuilder, TokenizerPreview
from widgets._design import Design
from widgets.audio_preview import SAMPLES
from widgets.image_preview import SAMPLE
from composer.limits import MAX_COMPARED_CHARS as COMPARE_CHARS
from widgets.tokenizer_preview import INLINE_TRAIN_CHARS

from manual_clock import ManualClock

pytestmark = pytest.mark.filterwarnings("ignore::composer.ComposerWarning")

CORPUS = ["the cat sat on the mat", "a dog sat on a log", "the dogs and the cats", "cats sat, dogs ran"] * 5
VIT = {"model_type": "vit", "config": {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
                                       "intermediate_size": 32, "image_size": 32, "patch_size": 8}}
MEAN = [0.1, 0.2, 0.3]


def front_end(widget, message: dict, *buffers: bytes) -> None:
    """What the JS view sends: the comm message handler a click, a keystroke or a file upload reaches
    (buffers arrive as memoryviews)."""
    widget.comm.handle_msg({"content": {"data": {"method": "custom", "content": message}},
                            "buffers": [memoryview(b) for b in buffers]})


def wordpiece(vocab_files) -> dict:
    return {"model_type": "bert", "tokenizer": {"vocab_file": str(vocab_files["wordpiece"])}}


def wav2vec2(vocab_files=None, **options) -> dict:
    spec = {"model_type": "wav2vec2", "feature_extractor": {"class": "Wav2Vec2FeatureExtractor", "options": options}}
    if vocab_files is not None:
        spec["tokenizer"] = {"vocab_file": str(vocab_files["ctc_vocab"])}
    return spec


def image_edit(**options) -> dict:
    """The message the part form sends when an option changes: the class goes with it."""
    return {"edit": {"image_processor.class": "ViTImageProcessor",
                     **{f"image_processor.options.{k}": v for k, v in options.items()}}}


def wav_file(seconds: float, rate: int, frames: int | None = None) -> bytes:
    """A 16-bit mono tone; ``frames`` overrides the length its header claims."""
    n = int(seconds * rate)
    samples = (8000 * np.sin(2 * np.pi * 440 * np.arange(n) / rate)).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(rate)
        f.writeframes(samples.tobytes())
    data = bytearray(out.getvalue())
    if frames is not None:
        data[4:8] = struct.pack("<I", 36 + frames * 2)
        data[40:44] = struct.pack("<I", frames * 2)
    return bytes(data)


def png_file(width: int, height: int, colour=(200, 30, 60)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims a size in its header; its pixels never follow."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


def count_changes(widget, name: str) -> list:
    seen: list = []
    widget.observe(lambda change: seen.append(change.new), name)
    return seen


# ----- on construction ---------------------------------------------------------------------------


def test_tokenizer_preview_starts_with_the_designs_tokenizer(vocab_files):
    from transformers import BertTokenizer

    view = TokenizerPreview(spec=wordpiece(vocab_files))
    by_hand = BertTokenizer(vocab=str(vocab_files["wordpiece"]))
    p = view.preview
    assert view.preview_error == ""
    assert (p["class"], p["backend"], p["offsets"]) == ("BertTokenizer", "tokenizers", "tokenizer")
    assert [t["id"] for t in p["tokens"]] == by_hand(view.text)["input_ids"]
    assert p["count"] == len(p["tokens"]) and p["text"] == view.text
    assert view.default_class == "BertTokenizer" and "RobertaTokenizer" in view.classes
    assert view.trainable == {"BertTokenizer": "WordPiece", "RobertaTokenizer": "byte-level BPE",
                              "AlbertTokenizer": "Unigram"}
    defaults = {f["name"]: f["default"] for f in view.class_options["BertTokenizer"]}
    assert defaults["do_lower_case"] is True and defaults["padding_side"] == "right"
    assert view.comparison["available"] and view.comparison["python"]["class"] == "BertTokenizerLegacy"

    empty = TokenizerPreview()
    assert (empty.preview, empty.preview_error, empty.comparison) == ({}, "", {})


def test_image_preview_starts_with_the_sample_photo_and_the_model_types_class():
    widget = ImagePreview(spec={"model_type": "vit"})
    assert widget.children == (widget.form, widget.view)
    assert widget.form.part_class == "ViTImageProcessor" and widget.form.key == "image_processor"
    assert {"size", "resample", "do_resize", "do_rescale", "do_normalize", "image_mean", "image_std"} <= \
        {f["name"] for f in widget.form.fields}
    p = widget.view.preview
    assert widget.view.source == SAMPLE and widget.preview_error == ""
    assert (p["class"], p["original_size"], p["shape"]) == ("ViTImageProcessor", [512, 600], [1, 3, 224, 224])
    for k in ("original", "processed", "normalized"):  # small PNGs, not lists of floats
        assert p[k][:4] == b"\x89PNG" and max(Image.open(io.BytesIO(p[k])).size) <= 256, k
    assert widget.spec.image_processor is None  # nothing chosen yet: the class's defaults are shown


def test_audio_preview_starts_with_the_speech_sample():
    widget = AudioPreview(spec={"model_type": "wav2vec2"})
    assert widget.form.part_class == "Wav2Vec2FeatureExtractor"
    assert {f["name"] for f in widget.form.fields} == {"feature_size", "sampling_rate", "padding_value",
                                                         "return_attention_mask", "do_normalize"}
    p = widget.view.preview
    speech, rate = sample_speech()
    assert widget.view.source == SAMPLES["speech"] and not widget.view.resample
    assert (p["sampling_rate"], p["input"]["samples"], p["features"]["kind"]) == (16000, speech.size, "waveform")
    assert p["input"]["wav"][:4] == b"RIFF" and len(p["batch"]["rows"]) == 2


def test_processor_builder_starts_with_what_the_design_has(vocab_files):
    builder = ProcessorBuilder(spec=wav2vec2(**{"return_attention_mask": True}))
    assert builder.preview == {} and builder.preview_error == ""  # no processor chosen yet
    assert builder.default_processor == "Wav2Vec2Processor" and "CLIPProcessor" in builder.processor_classes
    assert builder.parts == [
        {"attribute": "feature_extractor", "has": "Wav2Vec2FeatureExtractor", "default": "Wav2Vec2FeatureExtractor"},
        {"attribute": "tokenizer", "has": "", "default": "Wav2Vec2CTCTokenizer"}]
    builder.chosen = "CLIPProcessor"
    assert [p["attribute"] for p in builder.parts] == ["image_processor", "tokenizer"]


def test_every_preview_loads_its_module_and_both_stylesheets():
    for view in (TokenizerPreview(), ImagePreview().view, ImagePreview().form, AudioPreview().view,
                 ProcessorBuilder()):
        assert "export{" in view._esm, type(view).__name__  # a bundled module (its imports inlined)
        assert "--jp-ui-font-color1" in view._css and ".tc-token" in view._css, type(view).__name__


# ----- the design in and out -----------------------------------------------------------------------


@pytest.fixture
def designs(vocab_files, minilm_dir):
    """Each widget with a design that has its section, and a change to that design."""
    clip = {"model_type": "clip", "tokenizer": {"pretrained": str(minilm_dir)}, "processor": "CLIPProcessor",
            "image_processor": {"class": "CLIPImageProcessor", "options": {
                "size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}}}}
    return {
        TokenizerPreview: (wordpiece(vocab_files), {"tokenizer": {"pretrained": str(minilm_dir)}}),
        ImagePreview: ({"model_type": "vit", "image_processor": {"class": "ViTImageProcessor",
                                                                  "options": {"image_mean": MEAN}}},
                       {"image_processor": {"class": "ViTImageProcessorPil"}}),
        AudioPreview: (wav2vec2(do_normalize=False), {"feature_extractor": {"class": "Wav2Vec2FeatureExtractor"}}),
        ProcessorBuilder: (clip, {"processor": None}),
    }


@pytest.mark.parametrize("cls", [TokenizerPreview, ImagePreview, AudioPreview, ProcessorBuilder],
                         ids=lambda c: c.__name__)
def test_the_design_given_is_the_design_returned(cls, designs, tmp_path):
    spec, change = designs[cls]
    widget = cls(spec=spec)
    assert widget.spec == ready(spec)
    assert cls(spec=widget.spec).spec == widget.spec
    assert cls.from_file(widget.save_spec(tmp_path / "design.json")).spec == widget.spec
    before = widget.preview
    widget.spec = {**spec, **change}
    assert widget.spec == ready({**spec, **change})
    assert widget.preview != before  # the preview follows a design assigned from Python


def test_image_mean_lands_in_the_spec_the_code_and_the_preview():
    from transformers import ViTImageProcessor

    widget = ImagePreview(spec=VIT)
    before = widget.preview
    front_end(widget.form, image_edit(image_mean=MEAN))
    assert widget.spec.image_processor == {"class": "ViTImageProcessor", "options": {"image_mean": MEAN}}
    assert "image_mean=[0.1, 0.2, 0.3]" in to_code(widget.spec)
    after = widget.preview
    by_hand = ViTImageProcessor(image_mean=MEAN)(sample_image(), return_tensors="pt")["pixel_values"][0]
    assert [c["mean"] for c in after["channels"]] == pytest.approx(by_hand.mean(dim=(1, 2)).tolist(), abs=1e-5)
    assert [c["std"] for c in after["channels"]] == pytest.approx(by_hand.std(dim=(1, 2), correction=0).tolist(),
                                                                  abs=1e-5)
    assert after["normalized"] != before["normalized"]  # the picture the person sees changed
    assert after["processed"] == before["processed"]  # de-normalised, the pixels are the same

    front_end(widget.form, {"reset": ["image_processor.options.image_mean"]})
    assert widget.spec == ready({**VIT, "image_processor": {"class": "ViTImageProcessor"}})
    assert widget.preview["normalized"] == before["normalized"]


def test_a_bad_option_is_flagged_at_its_field_and_the_last_preview_stays():
    widget = ImagePreview(spec=VIT)
    front_end(widget.form, image_edit(image_mean=MEAN))
    shown = widget.preview
    front_end(widget.form, image_edit(image_mean="grey"))
    assert "image_processor.options.image_mean" in widget.errors
    assert widget.form.errors == widget.errors
    assert widget.form.draft["image_processor"]["options"]["image_mean"] == "grey"  # what was typed stays
    assert widget.preview == shown and widget.preview_error == ""


def test_do_normalize_lands_in_the_spec_and_changes_the_waveform():
    from transformers import Wav2Vec2FeatureExtractor

    widget = AudioPreview(spec={"model_type": "wav2vec2"})
    normalized = widget.preview["features"]
    assert normalized["std"] == pytest.approx(1, abs=1e-3)
    front_end(widget.form, {"edit": {"feature_extractor.class": "Wav2Vec2FeatureExtractor",
                                     "feature_extractor.options.do_normalize": False}})
    assert widget.spec.feature_extractor == {"class": "Wav2Vec2FeatureExtractor", "options": {"do_normalize": False}}
    raw = widget.preview["features"]
    speech, rate = sample_speech()
    by_hand = Wav2Vec2FeatureExtractor(do_normalize=False)(speech, sampling_rate=rate)["input_values"][0]
    assert (raw["min"], raw["max"]) == pytest.approx((float(by_hand.min()), float(by_hand.max())))
    assert raw["std"] == pytest.approx(widget.preview["input"]["std"], rel=1e-5)
    assert raw["envelope"] != normalized["envelope"]
    assert "do_normalize=False" in to_code(widget.spec)


def test_whisper_log_mel_is_a_picture_that_follows_its_options():
    from transformers import WhisperFeatureExtractor

    widget = AudioPreview(spec={"model_type": "whisper"})
    assert {"n_fft", "hop_length", "chunk_length", "feature_size"} <= {f["name"] for f in widget.form.fields}
    f = widget.preview["features"]
    assert (f["kind"], f["bins"], f["frames"]) == ("spectrogram", 80, 3000)
    assert np.asarray(Image.open(io.BytesIO(f["png"]))).shape == (80, 1000, 3)  # 3,000 frames averaged to 1,000
    front_end(widget.form, {"edit": {"feature_extractor.class": "WhisperFeatureExtractor",
                                     "feature_extractor.options.chunk_length": 10}})
    f = widget.preview["features"]
    speech, rate = sample_speech()
    by_hand = WhisperFeatureExtractor(chunk_length=10)(speech, sampling_rate=rate, return_tensors="np")
    assert f["frames"] == 1000 and f["mean"] == pytest.approx(float(by_hand["input_features"].mean()), abs=1e-5)
    assert np.asarray(Image.open(io.BytesIO(f["png"]))).shape == (80, 1000, 3)
    rows = widget.preview["batch"]["rows"]  # the second clip is half as long: its mask, half as many ones
    assert rows[0]["mask_ones"] == pytest.approx(2 * rows[1]["mask_ones"], abs=1)


def test_tokenizer_options_land_in_the_spec_and_the_batch(minilm_dir):
    widget = TokenizerPreview(spec={"model_type": "bert"})
    front_end(widget, {"action": "load", "source": "pretrained", "path": str(minilm_dir), "tokenizer_class": None,
                       "merges_file": None, "options": {}})
    assert widget.spec.tokenizer == {"pretrained": str(minilm_dir)}
    assert widget.preview["batch"]["padding_side"] == "right"
    front_end(widget, {"edit": {"tokenizer.options.padding_side": "left"}})
    assert widget.spec.tokenizer["options"] == {"padding_side": "left"}
    rows = widget.refresh()["batch"]["rows"]
    assert widget.preview["batch"]["padding_side"] == "left"
    assert rows[1]["attention_mask"][0] == 0 and rows[1]["attention_mask"][-1] == 1
    front_end(widget, {"reset": ["tokenizer.options.padding_side"]})
    assert "options" not in widget.spec.tokenizer


# ----- making a tokenizer ------------------------------------------------------------------------


def test_load_a_vocab_file_then_a_pretrained_folder(vocab_files, minilm_dir):
    from transformers import AutoTokenizer, BertTokenizer

    widget = TokenizerPreview(spec={"model_type": "bert"})
    assert widget.preview == {}
    widget.text = "the cats sat on a mat."
    widget.load("vocab_file", str(vocab_files["wordpiece"]))
    assert widget.spec.tokenizer == {"vocab_file": str(vocab_files["wordpiece"])}
    by_hand = BertTokenizer(vocab=str(vocab_files["wordpiece"]))(widget.text)["input_ids"]
    assert [t["id"] for t in widget.refresh()["tokens"]] == by_hand
    assert widget.preview["vocab_size"] == 14

    widget.load("pretrained", str(minilm_dir))
    by_hand = AutoTokenizer.from_pretrained(minilm_dir)(widget.text)["input_ids"]
    assert [t["id"] for t in widget.refresh()["tokens"]] == by_hand
    assert widget.preview["vocab_size"] == 30522


@pytest.mark.parametrize("cls,model,vocab_size", [("BertTokenizer", "WordPiece", 80),
                                                  ("RobertaTokenizer", "BPE", 300),
                                                  ("AlbertTokenizer", "Unigram", 80)])
def test_train_each_algorithm_from_the_front_end(cls, model, vocab_size):
    widget = TokenizerPreview(spec={"model_type": "bert"})
    front_end(widget, {"action": "train", "text": "\n".join(CORPUS), "tokenizer_class": cls,
                       "vocab_size": vocab_size, "min_frequency": 0, "files": [], "options": {}})
    assert widget.spec.tokenizer == {"class": cls, "train": {"vocab_size": vocab_size, "text": CORPUS}}
    widget.text = "the cat sat on the mat"
    p = widget.refresh()
    assert widget.preview_error == "" and p["class"] == cls
    assert type(widget.tokenizer.backend_tokenizer.model).__name__ == model
    assert len(widget.tokenizer) <= vocab_size
    assert [t["special"] for t in p["tokens"]][0] and p["tokens"][-1]["special"]  # e.g. [CLS] … [SEP]
    assert not any(t["unknown"] for t in p["tokens"])  # every word of the corpus is covered


def test_lowercasing_and_special_tokens_of_a_trained_tokenizer():
    widget = TokenizerPreview(spec={"model_type": "bert"})
    widget.text = "The Cat"
    widget.train(CORPUS, tokenizer_class="BertTokenizer", vocab_size=80)
    assert [t["token"] for t in widget.refresh()["tokens"]] == ["[CLS]", "the", "cat", "[SEP]"]
    widget.train(CORPUS, tokenizer_class="BertTokenizer", vocab_size=80, options={"do_lower_case": False, "unk_token": "[UNK]", "cls_token": "[CLS]"})
    assert widget.spec.tokenizer["options"] == {"do_lower_case": False, "unk_token": "[UNK]", "cls_token": "[CLS]"}
    tokens = widget.refresh()["tokens"]
    assert [t["token"] for t in tokens] == ["[CLS]", "[UNK]", "[UNK]", "[SEP]"]  # the corpus has no capitals
    assert [t["unknown"] for t in tokens] == [False, True, True, False]


def test_long_training_text_is_kept_in_a_file_the_spec_reads(tmp_path):
    widget = TokenizerPreview(spec={"model_type": "roberta"}, upload_dir=str(tmp_path))
    text = "\n".join(CORPUS) * (INLINE_TRAIN_CHARS // len("\n".join(CORPUS)) + 1)
    widget.train(text, tokenizer_class="RobertaTokenizer", vocab_size=300)
    (path,) = widget.spec.tokenizer["train"]["files"]
    assert path.startswith(str(tmp_path)) and "text" not in widget.spec.tokenizer["train"]
    assert open(path, encoding="utf-8").read() == text
    assert f"({len(text):,} characters) is kept in {path}" in widget.status
    assert widget.refresh()["class"] == "RobertaTokenizer"


def test_uploaded_training_text_and_vocabulary(tmp_path, vocab_files):
    widget = TokenizerPreview(spec={"model_type": "bert"}, upload_dir=str(tmp_path))
    front_end(widget, {"upload": "train", "name": "corpus.txt"}, "\n".join(CORPUS).encode())
    kept = widget.uploaded["train"]
    assert kept.startswith(str(tmp_path / "corpus-")) and "press Train" in widget.status
    front_end(widget, {"action": "train", "text": "", "tokenizer_class": "BertTokenizer", "vocab_size": 80,
                       "min_frequency": 0, "files": [kept], "options": {}})
    assert widget.spec.tokenizer == {"class": "BertTokenizer", "train": {"vocab_size": 80, "files": [kept]}}
    assert widget.refresh()["class"] == "BertTokenizer"

    front_end(widget, {"upload": "vocab_file", "name": "vocab.txt"}, vocab_files["wordpiece"].read_bytes())
    kept = widget.uploaded["vocab_file"]
    front_end(widget, {"action": "load", "source": "vocab_file", "path": kept, "tokenizer_class": None,
                       "merges_file": None, "options": {}})
    assert widget.spec.tokenizer == {"vocab_file": kept} and widget.refresh()["vocab_size"] == 14


def test_a_vocabulary_that_loads_nothing_is_reported_never_all_unknown(tmp_path):
    specials = tmp_path / "vocab.txt"
    specials.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n")
    widget = TokenizerPreview(spec={"model_type": "bert"})
    widget.load("vocab_file", str(specials))
    assert widget.refresh() == {}  # no tokens at all, rather than a row of [UNK]
    assert widget.preview_error == ("tokenizer.vocab_file: the vocabulary did not load: BertTokenizer holds only "
                                    "its 5 special tokens, so every word would become [UNK]")

    # the guide's BertTokenizer(vocab_file=...) is refused at its field: 5.x ignores it
    widget.load("vocab_file", str(specials), options={"vocab_file": str(specials)})
    assert "give the vocabulary as tokenizer.vocab_file" in widget.errors["tokenizer.options.vocab_file"]

    bpe = tmp_path / "vocab.json"  # a BPE vocabulary read as WordPiece: no [UNK] to fall back on
    bpe.write_text(json.dumps({"<|endoftext|>": 0, "a": 1, "b": 2}))
    widget.load("vocab_file", str(bpe))
    widget.refresh()
    assert widget.preview_error.startswith("BertTokenizer failed on this text: ")
    assert "Missing [UNK] token" in widget.preview_error


# ----- text, truncation and the model's limit --------------------------------------------------------


def test_text_max_length_and_truncation_drive_the_preview(vocab_files):
    widget = TokenizerPreview(spec=wordpiece(vocab_files))
    widget.text = "the cat sat on the mat . the dogs sat on a mat ."
    full = widget.refresh()["count"]
    widget.max_length = 6
    p = widget.refresh()
    assert (p["count"], p["count_untruncated"]) == (6, full)
    assert all(len(r["input_ids"]) == 6 for r in p["batch"]["rows"])
    widget.truncation = False
    assert widget.refresh()["count"] == full
    widget.max_length = None
    assert widget.refresh()["count"] == full and widget.preview["batch"]["max_length"] is None


def test_max_length_beyond_the_designs_position_table_warns(vocab_files):
    widget = TokenizerPreview(spec={**wordpiece(vocab_files), "config": {"max_position_embeddings": 64}})
    widget.max_length = 128
    assert any("max_length 128 exceeds the model's max_position_embeddings (64)" in w
               for w in widget.refresh()["warnings"])
    widget.edit("config.max_position_embeddings", 256)  # the model's config is part of what the preview reads
    assert not any("max_position_embeddings" in w for w in widget.refresh()["warnings"])


def test_the_two_backends_side_by_side(vocab_files):
    widget = TokenizerPreview(spec=wordpiece(vocab_files))
    widget.text = "the cats sat"
    widget.refresh()
    widget.compare_now()
    c = widget.comparison
    assert (c["fast"]["class"], c["python"]["class"]) == ("BertTokenizer", "BertTokenizerLegacy")
    assert c["same_ids"] and c["fast"]["shown"] == len(c["fast"]["tokens"]) == 6
    assert any("token_type_ids" in line for line in c["explanation"])

    widget.train(CORPUS, tokenizer_class="RobertaTokenizer", vocab_size=300)
    widget.refresh()
    widget.compare_now()
    assert widget.comparison["available"] is False and "no pure-Python twin" in widget.comparison["reason"]


def test_a_text_the_tokenizer_fails_on_leaves_no_comparison_of_the_last_text(tmp_path):
    vocab = tmp_path / "vocab.txt"  # no [UNK]: a word outside it fails in the tokenizer
    vocab.write_text("\n".join(["[PAD]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]), encoding="utf-8")
    widget = TokenizerPreview(spec={"model_type": "bert", "tokenizer": {"vocab_file": str(vocab)}}, text="hello world")
    widget.compare_now()
    assert [t["token"] for t in widget.comparison["fast"]["tokens"]] == ["[CLS]", "hello", "world", "[SEP]"]

    widget.text = "zebra"
    widget.refresh()
    widget.compare_now()
    assert "failed on this text" in widget.preview_error
    assert widget.comparison["available"] is False and "[UNK]" in widget.comparison["reason"]


def test_a_megabyte_paste_is_cut_at_the_documented_limit_quickly(vocab_files):
    widget = TokenizerPreview(spec=wordpiece(vocab_files))
    widget.text = "the cat sat on the mat. " * 43_000  # 1,032,000 characters (timed in benchmarks/bounded_work.py)
    p = widget.refresh()
    widget.compare_now()
    assert len(p["text"]) == MAX_TEXT_CHARS
    assert p["warnings"][0] == f"the text is 1,032,000 characters; the preview shows its first {MAX_TEXT_CHARS:,}"
    assert widget.comparison["note"] == f"compared on the first {COMPARE_CHARS:,} characters"
    # what goes to the page: every token counted, spans for the first MAX_DRAWN_CHARS only
    assert p["count"] == len(widget.tokenizer(p["text"])["input_ids"]) > 29_000
    assert all(t["start"] is None or t["start"] < MAX_DRAWN_CHARS for t in p["tokens"]) and len(p["tokens"]) < 3_000
    assert p["warnings"][-1].startswith(f"tokens are drawn over the first {p['drawn_chars']:,} characters")
    assert len(json.dumps(p)) < 1_000_000  # it was 4.5 MB with every token drawn


# ----- a burst of changes, one recompute -------------------------------------------------------------


def settle(clock: ManualClock, seconds: float = 2.0, step: float = 0.005) -> None:
    """Let ``seconds`` pass in steps: timers fire, and each rebuild they start finishes within its step."""
    for _ in range(round(seconds / step)):
        clock.advance(step)
        clock.finish_all()


def test_a_burst_of_typing_recomputes_once_and_compares_once(vocab_files):
    clock = ManualClock()
    widget = TokenizerPreview(design=Design(wordpiece(vocab_files), clock=clock))
    previews, comparisons = count_changes(widget, "preview"), count_changes(widget, "comparison")
    for n in range(1, 21):
        widget.text = "the cat sat " * n
    assert previews == []  # typing never waited for a preview
    settle(clock, 1.5)
    assert [p["count"] for p in previews] == [2 + 3 * 20]
    assert len(comparisons) == 1 and len(comparisons[0]["fast"]["ids"]) == 2 + 3 * 20


def test_each_committed_text_redraws_as_soon_as_the_kernel_is_free(vocab_files):
    clock = ManualClock()
    widget = TokenizerPreview(design=Design(wordpiece(vocab_files), clock=clock))
    previews = count_changes(widget, "preview")
    for n in range(1, 4):  # what the page's debounce commits while a person types (js/lib/commit.js)
        widget.text = "cat " * n
        clock.advance(0)  # no delay of the kernel's own in series with it
        assert [p["count"] for p in previews] == [2 + k for k in range(1, n + 1)]


def test_a_burst_of_form_edits_redraws_the_image_once():
    clock = ManualClock()
    widget = ImagePreview(design=Design(VIT, clock=clock))
    previews = count_changes(widget.view, "preview")
    for m in (0.5, 0.4, 0.3, 0.2, 0.1):  # the last differs from the default: the preview must change
        front_end(widget.form, image_edit(image_mean=[m, m, m]))
    assert previews == [] and widget.view.pending
    settle(clock, 0.6)
    assert len(previews) == 1
    assert widget.spec.image_processor["options"]["image_mean"] == [0.1, 0.1, 0.1]
    assert previews[0]["channels"][0]["mean"] == pytest.approx(widget.preview["channels"][0]["mean"])


def test_refresh_gives_the_new_preview_at_once_and_nothing_runs_twice():
    clock = ManualClock()
    widget = ImagePreview(design=Design(VIT, clock=clock))
    previews = count_changes(widget.view, "preview")
    front_end(widget.form, image_edit(image_mean=MEAN))
    now = widget.preview  # refresh(): the pending rebuild and preview run now
    settle(clock, 0.4)
    assert len(previews) == 1 and now is previews[0]
    assert widget.spec.image_processor["options"]["image_mean"] == MEAN


def test_inputs_loaded_while_a_redraw_is_pending_are_each_shown():
    """Two loads between redraws: the second input may take the address the shown one freed, so the
    view counts loads instead of comparing id()s (which showed the first clip under the third's name)."""
    clock = ManualClock()
    audio = AudioPreview(design=Design({"model_type": "wav2vec2"}, clock=clock)).view
    image = ImagePreview(design=Design(VIT, clock=clock)).view
    audio.load_audio(np.zeros(16000, np.float32), sampling_rate=16000, name="a")
    image.load_image(Image.new("RGB", (20, 30)), name="a")
    settle(clock, 0.4)
    for n in (8000, 4000):
        audio.load_audio(np.zeros(n, np.float32), sampling_rate=16000, name=f"{n}")
        image.load_image(Image.new("RGB", (n // 100, 30)), name=f"{n}")
    settle(clock, 0.4)
    assert audio.preview["input"]["samples"] == 4000 and image.preview["original_size"] == [40, 30]
    assert audio.source == image.source == "4000"


# ----- uploads and bad input: a message that names the file, the last preview stays -------------------------


def test_image_uploads_good_unreadable_huge_and_oversize():
    widget = ImagePreview(spec=VIT)
    view = widget.view
    front_end(view, {"upload": "image", "name": "red.png"}, png_file(64, 48))
    p = view.refresh()
    assert (view.source, p["original_size"], view.preview_error) == ("red.png", [64, 48], "")

    front_end(view, {"upload": "image", "name": "notes.txt"}, b"plain text, not a picture")
    assert view.preview_error.startswith("notes.txt is not an image this preview can read")
    assert view.preview is p and view.source == "red.png"

    # The header is read; 7.5 GB of pixels are never decoded (the file holds none to decode).
    front_end(view, {"upload": "image", "name": "huge.png"}, png_header(50_000, 50_000))
    assert view.preview_error.startswith("huge.png is 50,000x50,000 pixels (2,500 MP), over the 25 MP limit")
    assert view.preview is p

    front_end(view, {"upload": "image", "name": "cut.png"}, png_file(64, 64)[:-40])
    assert view.preview_error.startswith("cut.png is damaged and cannot be decoded")

    view.max_upload = 2**20
    front_end(view, {"upload": "image", "name": "scan.png"}, bytes(3 * 2**20))
    assert view.preview_error == ("scan.png is 3.0 MB, over the upload limit of 1.0 MB; load it by path from "
                                  "Python: preview.load_image(path)")

    front_end(view, {"action": "sample"})
    assert view.source == SAMPLE and view.preview_error == "" and view.preview["original_size"] == [512, 600]


def test_audio_uploads_good_corrupt_and_at_the_wrong_rate():
    widget = AudioPreview(spec={"model_type": "wav2vec2"})
    view = widget.view
    front_end(view, {"upload": "audio", "name": "tone.wav"}, wav_file(1.5, 16000))
    p = view.refresh()
    assert (view.source, view.sample, p["input"]["samples"], view.preview_error) == ("tone.wav", "", 24000, "")

    front_end(view, {"upload": "audio", "name": "broken.wav"}, b"RIFF\x10\x00\x00\x00WAVEfmt \x99\x99")
    assert view.preview_error.startswith("broken.wav is a damaged or unsupported WAV file")
    assert view.preview is p and view.source == "tone.wav"
    front_end(view, {"upload": "audio", "name": "song.mp3"}, b"ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00")
    assert view.preview_error.startswith("song.mp3 is an MP3; the preview reads WAV only")

    front_end(view, {"upload": "audio", "name": "phone.wav"}, wav_file(1.0, 8000))
    assert view.refresh() == {}
    assert view.preview_error.startswith("the clip is sampled at 8000 Hz but Wav2Vec2FeatureExtractor expects "
                                         "16000 Hz (its sampling_rate). Resample the clip to 16000 Hz")
    assert view.preview_error.endswith("Here: tick “resample”.")
    view.resample = True
    p = view.refresh()
    assert view.preview_error == "" and p["input"]["samples"] == 16000
    assert "resampled from 8000 Hz to 16000 Hz" in " ".join(p["warnings"])

    front_end(view, {"action": "sample", "sample": "tone"})
    assert view.source == SAMPLES["tone"] and view.sample == "tone" and view.refresh()["input"]["seconds"] == 2.0


def test_two_hour_wavs_are_cut_to_a_minute_or_refused_quickly(tmp_path):
    widget = AudioPreview(spec={"model_type": "wav2vec2"})
    view = widget.view
    path = tmp_path / "lecture.wav"  # two hours of 16 kHz 16-bit silence: a sparse file, 230 MB on paper
    size = 2 * 3600 * 16000 * 2
    with open(path, "wb") as f:
        f.write(wav_file(0, 16000, frames=2 * 3600 * 16000)[:44])
        f.seek(44 + size - 1)
        f.write(b"\0")
    widget.load_audio(path)  # one minute is read, not 230 MB (timed in benchmarks/bounded_work.py)
    p = widget.preview
    assert view.source == "lecture.wav" and p["input"]["seconds"] == 60.0
    assert "the file is 2:00:00 long; the preview uses its first 60 s" in p["warnings"]

    view.max_upload = 2**20  # the browser refuses large files before sending; Python checks again
    with open(path, "rb") as f:
        front_end(view, {"upload": "audio", "name": "lecture.wav"}, f.read(3 * 2**20))
    assert view.preview_error.startswith("lecture.wav is 3.0 MB, over the upload limit of 1.0 MB")

    # a header that promises two hours over one second of samples: the file was cut short
    front_end(view, {"upload": "audio", "name": "cut.wav"}, wav_file(1.0, 16000, frames=2 * 3600 * 16000))
    p = view.refresh()
    assert view.preview_error == "" and p["input"]["samples"] == 16000
    assert "cut.wav is cut short: its header promises 2:00:00 but it holds 1.00 s of samples" in p["warnings"][0]


def test_an_upload_to_a_view_without_files_and_a_malformed_message_are_said(vocab_files):
    builder = ProcessorBuilder(spec=wav2vec2(vocab_files))
    front_end(builder, {"upload": "image", "name": "x.png"}, png_file(4, 4))
    assert builder.preview_error == "this view takes no image upload"
    widget = ImagePreview(spec=VIT)
    front_end(widget.view, {"edit": 5})
    assert widget.view.preview_error.startswith("TypeError: ")


# ----- processor: build, preview both halves, save, reload ------------------------------------------------


def test_build_a_wav2vec2_processor_save_it_and_reload_it_unchanged(vocab_files, tmp_path):
    from transformers import AutoProcessor

    from composer.build import build_processors

    builder = ProcessorBuilder(spec=wav2vec2(return_attention_mask=True))
    front_end(builder, {"action": "build", "processor": "Wav2Vec2Processor",
                        "parts": {"tokenizer": {"vocab_file": str(vocab_files["ctc_vocab"])}}})
    assert builder.status == ""
    spec = builder.spec
    assert (spec.processor, spec.tokenizer) == ("Wav2Vec2Processor", {"vocab_file": str(vocab_files["ctc_vocab"])})
    p = builder.preview
    assert p["parts"] == {"feature_extractor": "Wav2Vec2FeatureExtractor", "tokenizer": "Wav2Vec2CTCTokenizer"}
    assert set(p["halves"]) == {"tokenizer", "feature_extractor"}
    assert p["halves"]["feature_extractor"]["features"]["std"] == pytest.approx(1, abs=1e-3)
    assert p["round_trip"]["identical"] and set(p["outputs"]) == {"input_values", "attention_mask", "labels"}
    assert "has" in builder.parts[1] and builder.parts[1]["has"].startswith("vocab_file ")

    front_end(builder, {"action": "save", "folder": str(tmp_path / "processor")})
    assert builder.status.startswith(f"Saved Wav2Vec2Processor to {tmp_path / 'processor'} (")
    assert builder.status.endswith("AutoProcessor reloaded it as Wav2Vec2Processor (feature_extractor: "
                                   "Wav2Vec2FeatureExtractor, tokenizer: Wav2Vec2CTCTokenizer) with identical outputs.")
    saved = builder.status
    statuses = count_changes(builder, "status")  # the page shows "Saving…" until the next status arrives
    front_end(builder, {"action": "save", "folder": str(tmp_path / "processor")})
    assert statuses == ["Saving…", saved]
    reloaded = AutoProcessor.from_pretrained(tmp_path / "processor")
    built = build_processors(spec)["processor"]
    speech, rate = sample_speech()
    a = built(audio=speech, sampling_rate=rate, text="THE CAT", return_tensors="np")
    b = reloaded(audio=speech, sampling_rate=rate, text="THE CAT", return_tensors="np")
    assert set(a) == set(b) and all(np.array_equal(a[k], b[k]) for k in a)


def test_build_an_image_text_processor_from_python(minilm_dir, tmp_path):
    from transformers import AutoProcessor

    options = {"size": {"shortest_edge": 32}, "crop_size": {"height": 32, "width": 32}, "image_mean": MEAN}
    builder = ProcessorBuilder(spec={"model_type": "clip",
                                     "image_processor": {"class": "CLIPImageProcessor", "options": options}})
    p = builder.build(tokenizer={"pretrained": str(minilm_dir)})
    assert builder.spec.processor == "CLIPProcessor"
    assert p["halves"]["image_processor"]["shape"] == [1, 3, 32, 32]
    assert p["halves"]["tokenizer"]["class"] == "BertTokenizer"
    assert p["round_trip"]["parts"] == {"image_processor": "CLIPImageProcessor", "tokenizer": "BertTokenizer"}
    report = builder.save(tmp_path / "clip")
    assert report["identical"] and report["class"] == "CLIPProcessor"
    reloaded = AutoProcessor.from_pretrained(tmp_path / "clip")
    assert list(reloaded.image_processor.image_mean) == MEAN


def test_build_failures_are_said_in_the_status(vocab_files):
    builder = ProcessorBuilder(spec={"model_type": "distilbert"})
    front_end(builder, {"action": "build"})
    assert builder.status == ("Failed: processor: transformers pairs no processor with distilbert; name one, e.g. "
                              "Wav2Vec2Processor")
    builder = ProcessorBuilder(spec=wav2vec2(vocab_files))
    front_end(builder, {"action": "build", "parts": {"vocoder": {"class": "X"}}})
    assert builder.status.startswith("Failed: processor: unknown part 'vocoder'")
    front_end(builder, {"action": "build", "parts": {"tokenizer": {"vocab_file": "/no/such/vocab.json"}}})
    assert builder.errors == {"tokenizer.vocab_file": "file '/no/such/vocab.json' does not exist"}
    assert builder.spec.tokenizer == {"vocab_file": str(vocab_files["ctc_vocab"])}  # the last valid design stays


# ----- in a Composer: one design, into the code and the checkpoint ------------------------------------------


def test_a_preview_in_a_composer_edits_its_design_code_and_checkpoint(tmp_path):
    from transformers import AutoImageProcessor

    composer = Composer(spec={**VIT, "architecture": "ViTModel"})
    widget = composer.preview("image_processor")
    assert isinstance(widget, ImagePreview) and widget.form.design is composer.config_form.design  # one design
    front_end(widget.form, image_edit(image_mean=MEAN, size={"height": 32, "width": 32}))
    composer.flush()
    assert composer.spec.image_processor["options"] == {"image_mean": MEAN, "size": {"height": 32, "width": 32}}
    assert "image_mean=[0.1, 0.2, 0.3]" in composer.code_view.code
    composer.save_panel.folder = str(tmp_path / "ckpt")
    folder = composer.save_panel.save()
    reloaded = AutoImageProcessor.from_pretrained(folder)
    by_hand = reloaded(sample_image(), return_tensors="pt")["pixel_values"]
    assert [c["mean"] for c in widget.preview["channels"]] == pytest.approx(by_hand[0].mean(dim=(1, 2)).tolist(),
                                                                           abs=1e-6)


def test_a_trained_tokenizer_reaches_the_checkpoint_as_previewed(tmp_path):
    from transformers import AutoTokenizer

    widget = TokenizerPreview(spec={"model_type": "roberta", "config": {
        "num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32,
        "vocab_size": 300}})
    widget.train(CORPUS, tokenizer_class="RobertaTokenizer", vocab_size=300)
    widget.text = "the cats sat on a log"
    ids = [t["id"] for t in widget.refresh()["tokens"]]
    folder = save(widget.spec, tmp_path / "ckpt")
    assert AutoTokenizer.from_pretrained(folder)(widget.text)["input_ids"] == ids
    assert Spec.load(folder / "composer.spec.json").tokenizer == widget.spec.tokenizer


def test_the_tokenizer_panel_trains_the_engines_reproducible_default():
    # main trained BertTokenizer (WordPiece: other ids on every run) when the person named no class
    widget = TokenizerPreview(spec={"model_type": "bert"})
    assert widget.trainable == {"BertTokenizer": "WordPiece", "RobertaTokenizer": "byte-level BPE",
                                "AlbertTokenizer": "Unigram"}  # what each trains, as the engine reads it
    assert widget.train_class == "RobertaTokenizer"  # BERT's own trains WordPiece: byte-level BPE instead
    widget.train(CORPUS, vocab_size=300)
    assert "class" not in widget.spec.tokenizer  # the Spec leaves it open, as the person did
    assert type(widget.tokenizer).__name__ == "RobertaTokenizer"
    assert TokenizerPreview(spec={"model_type": "gpt2"}).train_class == "GPT2Tokenizer"  # its own is BPE
