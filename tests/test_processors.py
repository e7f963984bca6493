"""Processors end to end: every tokenizer source, the 5.x silent traps, image and audio parts and the
processors that combine them — built, saved, reloaded with transformers' Auto classes, same outputs."""

from __future__ import annotations

import json
import os
import re
import warnings

import numpy as np
import pytest
import torch
import transformers
from PIL import Image

from composer import ComposerWarning, Spec, SpecError, build_processors, check, save, to_code
from composer.sections import tokenizer as tokenizer_section
from composer.validation import ready, validate

SENTENCE = "the cats sat on a mat."
IMAGE = np.random.default_rng(0).integers(0, 256, (29, 37, 3), dtype=np.uint8)
WAVE = (0.5 * np.sin(np.arange(8000) / 16000 * 2 * np.pi * 440)).astype(np.float32)

# Tiny models: a checkpoint needs one, but these tests are about what comes with it.
TINY = {
    "distilbert": {"n_layers": 1, "dim": 16, "n_heads": 2, "hidden_dim": 32, "vocab_size": 14},
    "bert": {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32,
             "vocab_size": 64},
    "llama": {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "num_key_value_heads": 1,
              "intermediate_size": 32, "vocab_size": 64},
    "gpt2": {"n_layer": 1, "n_embd": 16, "n_head": 2, "vocab_size": 40, "n_positions": 32},
    "vit": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
            "image_size": 32, "patch_size": 8},
    "wav2vec2": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
                 "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8], "num_conv_pos_embeddings": 8,
                 "num_conv_pos_embedding_groups": 2},
    "whisper": {"d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
                "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "num_mel_bins": 16,
                "max_source_positions": 50, "max_target_positions": 16, "vocab_size": 64, "pad_token_id": 0,
                "bos_token_id": 1, "eos_token_id": 2, "decoder_start_token_id": 1},
    "vilt": {"hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32,
             "vocab_size": 14, "image_size": 32, "patch_size": 8, "max_image_length": 16},
}


def built(spec: dict) -> dict:
    return build_processors(ready(spec))


def field_error(spec: dict, build: bool = False) -> SpecError:
    with pytest.raises(SpecError) as info:
        built(spec) if build else ready(spec)
    return info.value


# ----- tokenizers from each source --------------------------------------------------------------


def test_wordpiece_vocab_file_loads_the_way_5x_reads_it(vocab_files):
    spec = {"model_type": "distilbert", "tokenizer": {"vocab_file": str(vocab_files["wordpiece"])}}
    tok = built(spec)["tokenizer"]
    assert type(tok).__name__ == "BertTokenizer" and len(tok) == 14
    assert tok.tokenize(SENTENCE) == ["the", "cat", "##s", "sat", "on", "a", "mat", "."]
    code = to_code(spec, output_dir=None)
    one_line = re.sub(r"\(\s+|,?\s+\)", lambda m: m.group(0).strip(" \n,"), code)  # a long path wraps the call
    assert f'BertTokenizer(vocab="{vocab_files["wordpiece"]}")' in one_line and "vocab_file=" not in code


def test_relative_files_are_exported_as_absolute_paths(vocab_files, monkeypatch):
    """The exported code runs from any folder."""
    monkeypatch.chdir(vocab_files["wordpiece"].parent)
    code = to_code({"model_type": "bert", "tokenizer": {"vocab_file": "vocab.txt"}}, output_dir=None)
    assert f'vocab="{vocab_files["wordpiece"]}"' in code
    monkeypatch.chdir(vocab_files["train_text"].parent)
    code = to_code({"model_type": "gpt2", "tokenizer": {"train": {"files": ["train.txt"]}}}, output_dir=None)
    assert f"open({str(vocab_files['train_text'])!r}" in code


def test_the_guides_vocab_file_argument_is_detected(vocab_files):
    """`BertTokenizer(vocab_file=...)` silently loads 5 tokens in 5.x; the check refuses it by name."""
    trap = transformers.BertTokenizer(vocab_file=str(vocab_files["wordpiece"]))
    assert trap.tokenize("the cat") == ["[UNK]", "[UNK]"]
    spec = ready({"model_type": "bert", "tokenizer": {"vocab_file": str(vocab_files["wordpiece"])}})
    with pytest.raises(SpecError, match="vocabulary did not load") as info:
        tokenizer_section.check_tokenizer(spec, trap)
    assert info.value.field == "tokenizer.vocab_file"


def test_a_folder_the_class_cannot_read_is_refused_not_all_unk(vocab_files):
    """BertTokenizer.from_pretrained on a BPE folder silently gives 5 tokens; the composer says so."""
    spec = {"model_type": "bert", "tokenizer": {"class": "BertTokenizer",
                                                "pretrained": str(vocab_files["bpe_vocab"].parent)}}
    err = field_error(spec, build=True)
    assert err.field == "tokenizer.pretrained"
    assert "did not load" in err.message and "every word would become [UNK]" in err.message


def test_fast_false_gives_the_pure_python_class_with_the_same_tokens(vocab_files):
    tok_spec = {"vocab_file": str(vocab_files["wordpiece"])}
    fast = built({"model_type": "bert", "tokenizer": tok_spec})["tokenizer"]
    slow = built({"model_type": "bert", "tokenizer": {**tok_spec, "fast": False}})["tokenizer"]
    assert type(slow).__name__ == "BertTokenizerLegacy"
    assert slow(SENTENCE)["input_ids"] == fast(SENTENCE)["input_ids"]


def test_fast_false_without_a_pure_python_class_is_a_clear_error(vocab_files):
    spec = {"model_type": "gpt2", "tokenizer": {"vocab_file": str(vocab_files["bpe_vocab"]),
                                                "merges_file": str(vocab_files["bpe_merges"]), "fast": False}}
    err = field_error(spec)
    assert err.field == "tokenizer.fast" and "GPT2Tokenizer has no pure-Python class" in err.message


def test_bpe_vocab_and_merges(vocab_files):
    spec = {"model_type": "gpt2", "tokenizer": {"vocab_file": str(vocab_files["bpe_vocab"]),
                                                "merges_file": str(vocab_files["bpe_merges"])}}
    tok = built(spec)["tokenizer"]
    assert tok.tokenize("the cat") == ["the", "Ġcat"]
    assert len(tok) == len(json.loads(vocab_files["bpe_vocab"].read_text()))


def test_ctc_vocab_json(vocab_files):
    tok = built({"model_type": "wav2vec2", "tokenizer": {"vocab_file": str(vocab_files["ctc_vocab"])}})["tokenizer"]
    assert type(tok).__name__ == "Wav2Vec2CTCTokenizer"
    ids = tok("THE CAT")["input_ids"]
    assert ids == [24, 12, 9, 4, 7, 5, 24]  # T H E | C A T in the CTC vocabulary
    assert tok.decode(ids) == "THE CAT"


def test_a_ctc_vocabulary_that_is_not_json_is_refused_at_its_field(vocab_files):
    # The guide writes a vocab.txt; Wav2Vec2CTCTokenizer reads JSON and would fail only when built.
    err = field_error({"model_type": "wav2vec2", "tokenizer": {"vocab_file": str(vocab_files["wordpiece"])}})
    assert err.field == "tokenizer.vocab_file"
    assert "Wav2Vec2CTCTokenizer reads a JSON vocabulary" in err.message and "vocab.txt is not one: not valid JSON: Expecting value" in err.message


@pytest.mark.parametrize("make, says", [
    (lambda p: p.write_text("[" * 100_000), "nested too deeply"),  # was a RecursionError traceback
    (lambda p: p.write_text('{"a": ' + "9" * 5000 + "}"), "not valid JSON"),  # was a ValueError traceback
    (lambda p: os.mkfifo(p), "vocab.json"),  # refused before any read (is_file): no read that never returns
])
def test_a_ctc_vocabulary_that_cannot_be_read_is_one_line_at_its_field(tmp_path, make, says):
    path = tmp_path / "vocab.json"
    make(path)
    err = field_error({"model_type": "wav2vec2", "tokenizer": {"vocab_file": str(path)}})
    assert err.field == "tokenizer.vocab_file" and says in err.message and "\n" not in str(err)


def test_pretrained_folder_matches_autotokenizer(minilm_dir):
    reference = transformers.AutoTokenizer.from_pretrained(minilm_dir)(SENTENCE)["input_ids"]
    fast = built({"model_type": "bert", "tokenizer": {"pretrained": str(minilm_dir)}})["tokenizer"]
    slow = built({"model_type": "bert", "tokenizer": {"pretrained": str(minilm_dir), "fast": False}})["tokenizer"]
    assert len(fast) == 30522
    assert type(slow).__name__ == "BertTokenizerLegacy"
    assert fast(SENTENCE)["input_ids"] == slow(SENTENCE)["input_ids"] == reference


def test_trained_from_text_and_from_files_agree(vocab_files):
    """A BPE tokenizer (llama's) trains reproducibly: same text, same ids."""
    text = vocab_files["train_text"].read_text(encoding="utf-8").splitlines()
    spec = {"model_type": "llama", "tokenizer": {"train": {"text": text, "vocab_size": 60}}}
    tok = built(spec)["tokenizer"]
    from_files = built({**spec, "tokenizer": {"train": {"files": [str(vocab_files["train_text"])], "vocab_size": 60}}})
    assert type(tok).__name__ == "LlamaTokenizer"  # 5.x maps no tokenizer for llama; found by its config's name
    assert 20 < len(tok) <= 60
    assert tok.unk_token not in tok.tokenize(" ".join(text))
    assert tok.get_vocab() == from_files["tokenizer"].get_vocab()


# ----- bad input names its field -----------------------------------------------------------------

BAD_TOKENIZERS = [
    ({"vocab_file": "/no/such/vocab.txt"}, "tokenizer.vocab_file", "does not exist"),
    ({"vocab_file": "@wordpiece", "options": {"do_lower_cas": True}}, "tokenizer.options.do_lower_cas",
     "BertTokenizer has no option 'do_lower_cas'"),
    ({"vocab_file": "@wordpiece", "options": {"do_lower_case": "yes"}}, "tokenizer.options.do_lower_case",
     "expected bool"),
    ({"vocab_file": "@wordpiece", "options": {"vocab": "x.txt"}}, "tokenizer.options.vocab",
     "give the vocabulary as tokenizer.vocab_file"),
    ({"vocab_file": "@wordpiece", "merges_file": "@bpe_merges"}, "tokenizer.merges_file", "takes no merges file"),
    ({"class": "NoSuchTokenizer", "vocab_file": "@wordpiece"}, "tokenizer.class", "not a transformers class"),
    ({"class": "ViTImageProcessor", "vocab_file": "@wordpiece"}, "tokenizer.class", "not a PreTrainedTokenizerBase"),
    ({"train": {"text": ["a b"]}, "fast": False}, "tokenizer.train", "training needs a tokenizers-backed class"),
    ({"train": {"files": ["/no/such.txt"]}}, "tokenizer.train.files[0]", "does not exist"),
    ({"pretrained": "/no/such/folder"}, "tokenizer.pretrained", "does not exist"),
]


@pytest.mark.parametrize("tokenizer,field,message", BAD_TOKENIZERS, ids=[c[1] for c in BAD_TOKENIZERS])
def test_bad_tokenizer_names_the_field(vocab_files, tokenizer, field, message):
    tokenizer = {k: str(vocab_files[v[1:]]) if isinstance(v, str) and v.startswith("@") else v
                 for k, v in tokenizer.items()}
    err = field_error({"model_type": "bert", "tokenizer": tokenizer})
    assert err.field == field and message in err.message


def test_a_model_type_without_tokenizer_asks_for_a_class(vocab_files):
    err = field_error({"model_type": "vit", "tokenizer": {"vocab_file": str(vocab_files["wordpiece"])}})
    assert err.field == "tokenizer.class" and "vit has no default tokenizer class" in err.message


def test_merges_that_do_not_fit_the_vocabulary_fail_at_build_naming_the_file(vocab_files, tmp_path):
    merges = tmp_path / "merges.txt"
    merges.write_text("#version: 0.2\nq z\n", encoding="utf-8")
    spec = {"model_type": "gpt2", "tokenizer": {"vocab_file": str(vocab_files["bpe_vocab"]),
                                                "merges_file": str(merges)}}
    err = field_error(spec, build=True)
    assert err.field == "tokenizer.vocab_file" and "out of vocabulary" in err.message


BAD_PARTS = [
    ("image_processor", "ViTImageProcessor", {"foo": 1}, "image_processor.options.foo",
     "ViTImageProcessor has no option 'foo'"),
    ("image_processor", "ViTImageProcessor", {"size": "big"}, "image_processor.options.size", "dict[str, int]"),
    ("image_processor", "ViTImageProcessor", {"image_mean": "grey"}, "image_processor.options.image_mean", ""),
    ("image_processor", "ViTImageProcessor", {"resample": "PIL.Image.FOO"}, "image_processor.options.resample",
     "unknown resampling filter 'PIL.Image.FOO'; allowed: NEAREST (0)"),
    ("image_processor", "ViTImageProcessor", {"resample": 99}, "image_processor.options.resample",
     "unknown resampling filter 99"),
    ("image_processor", "BertTokenizer", {}, "image_processor.class", "not a ImageProcessingMixin"),
    ("feature_extractor", "Wav2Vec2FeatureExtractor", {"sampling_rate": "16k"},
     "feature_extractor.options.sampling_rate", "expected int like the default 16000"),
    ("feature_extractor", "WhisperFeatureExtractor", {"n_ftt": 400}, "feature_extractor.options.n_ftt",
     "WhisperFeatureExtractor has no option 'n_ftt'"),
]


@pytest.mark.parametrize("key,cls,options,field,message", BAD_PARTS, ids=[c[3] for c in BAD_PARTS])
def test_bad_part_names_the_field(key, cls, options, field, message):
    err = field_error({"model_type": "vit", key: {"class": cls, "options": options}})
    assert err.field == field and message in err.message


def test_processor_needs_its_parts_and_keeps_every_part(vocab_files):
    err = field_error({"model_type": "wav2vec2", "processor": "Wav2Vec2Processor",
                       "feature_extractor": {"class": "Wav2Vec2FeatureExtractor"}})
    assert err.field == "processor" and "the spec has no tokenizer" in err.message
    err = field_error({"model_type": "wav2vec2", "processor": "Wav2Vec2Processor",
                       "tokenizer": {"vocab_file": str(vocab_files["ctc_vocab"])},
                       "feature_extractor": {"class": "Wav2Vec2FeatureExtractor"},
                       "image_processor": {"class": "ViTImageProcessor"}})
    assert err.field == "image_processor" and "combines only feature_extractor, tokenizer" in err.message


# ----- the resample traps --------------------------------------------------------------------------


def test_resample_string_is_corrected_with_a_warning():
    options = {"size": {"height": 16, "width": 16}, "resample": "PIL.Image.BICUBIC"}
    spec = Spec.from_dict({"model_type": "vit", "image_processor": {"class": "ViTImageProcessorPil", "options": options}})
    with pytest.warns(ComposerWarning) as caught:
        normal = validate(spec)
    assert any("silently uses BILINEAR" in str(w.message) and "using PIL.Image.Resampling.BICUBIC (3)" in str(w.message)
               for w in caught)
    assert normal.image_processor["options"]["resample"] == 3
    ours = build_processors(normal)["image_processor"](IMAGE, return_tensors="pt")["pixel_values"]

    def pixels(cls, resample):
        processor = getattr(transformers, cls)(size={"height": 16, "width": 16}, resample=resample)
        return processor(IMAGE, return_tensors="pt")["pixel_values"]

    assert torch.equal(ours, pixels("ViTImageProcessorPil", Image.Resampling.BICUBIC))
    # What transformers does with the string itself: bilinear without a word, or an error on use.
    assert torch.equal(pixels("ViTImageProcessorPil", "PIL.Image.BICUBIC"),
                       pixels("ViTImageProcessorPil", Image.Resampling.BILINEAR))
    assert not torch.equal(ours, pixels("ViTImageProcessorPil", Image.Resampling.BILINEAR))
    with pytest.raises(ValueError, match="Invalid interpolation mode"):
        pixels("ViTImageProcessor", "PIL.Image.BICUBIC")


def test_box_under_torchvision_is_refused_and_the_pil_class_warns_about_reloading():
    """The guide's resample=BOX fails on the first image with the torchvision backend; its PIL class
    works but saves under the torchvision class's name."""
    err = field_error({"model_type": "vit", "image_processor": {
        "class": "ViTImageProcessor", "options": {"resample": 4}}})
    assert err.field == "image_processor.options.resample"
    assert "resizes with torchvision, which cannot use this filter" in err.message
    pil = Spec.from_dict({"model_type": "vit", "image_processor": {"class": "ViTImageProcessorPil",
                                                                   "options": {"resample": 4}}})
    with pytest.warns(ComposerWarning, match='reloads with the torchvision backend .* unless given backend="pil"'):
        validate(pil)


# ----- built, saved, reloaded: same outputs -------------------------------------------------------


def _spec(model_type: str, **parts) -> dict:
    return {"model_type": model_type, "config": TINY[model_type], **parts}


def _roundtrip_cases(vocab_files):
    ctc = {"vocab_file": str(vocab_files["ctc_vocab"])}
    return {
        "wordpiece": (_spec("distilbert", tokenizer={"vocab_file": str(vocab_files["wordpiece"])}),
                      "AutoTokenizer", lambda p: p(SENTENCE)),
        "bpe": (_spec("gpt2", tokenizer={"vocab_file": str(vocab_files["bpe_vocab"]),
                                         "merges_file": str(vocab_files["bpe_merges"])}),
                "AutoTokenizer", lambda p: p("the cat")),
        "trained": (_spec("llama", tokenizer={"train": {"files": [str(vocab_files["train_text"])], "vocab_size": 60},
                                              "options": {"model_max_length": 32, "pad_token": "<unk>"}}),
                    "AutoTokenizer", lambda p: p(SENTENCE, padding="max_length")),
        "vit": (_spec("vit", image_processor={"class": "ViTImageProcessor", "options": {
                    "size": {"height": 32, "width": 32}, "resample": "PIL.Image.BICUBIC", "image_mean": [0.4, 0.5, 0.6]}}),
                "AutoImageProcessor", lambda p: p(IMAGE, return_tensors="pt")),
        "wav2vec2": (_spec("wav2vec2", tokenizer=ctc, processor="Wav2Vec2Processor",
                           feature_extractor={"class": "Wav2Vec2FeatureExtractor",
                                              "options": {"return_attention_mask": True}}),
                     "AutoProcessor", lambda p: p(audio=WAVE, sampling_rate=16000, text="THE CAT", return_tensors="pt")),
        "whisper": (_spec("whisper", feature_extractor={"class": "WhisperFeatureExtractor",
                                                        "options": {"feature_size": 16, "chunk_length": 1}}),
                    "AutoFeatureExtractor", lambda p: p(WAVE, sampling_rate=16000, return_tensors="pt")),
        "vilt": (_spec("vilt", tokenizer={"vocab_file": str(vocab_files["wordpiece"])}, processor="ViltProcessor",
                       image_processor={"class": "ViltImageProcessor", "options": {"size": {"shortest_edge": 32}}}),
                 "AutoProcessor", lambda p: p(images=IMAGE, text="the cat", return_tensors="pt")),
    }


CASES = ["wordpiece", "bpe", "trained", "vit", "wav2vec2", "whisper", "vilt"]


def assert_same(a, b) -> None:
    assert set(a) == set(b)
    for key in a:
        if isinstance(a[key], torch.Tensor):
            assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key
        else:
            assert a[key] == b[key], key


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_saved_processors_reload_with_auto_classes_and_agree(vocab_files, tmp_path, case):
    spec, auto, use = _roundtrip_cases(vocab_files)[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComposerWarning)
        parts = built(spec)
        folder = save(spec, tmp_path / case)
    report = check(folder)
    for name, obj in parts.items():
        assert report[name] == type(obj).__name__, name
    main = parts.get("processor") or next(iter(parts.values()))
    reloaded = getattr(transformers, auto).from_pretrained(folder, local_files_only=True)
    assert type(reloaded) is type(main)
    assert_same(use(main), use(reloaded))


def test_empty_options_leave_the_spec(vocab_files):
    # A form whose last option was reset sends {}: every default, so nothing to say in the Spec or code.
    spec = ready({"model_type": "vit", "image_processor": {"class": "ViTImageProcessor", "options": {}},
                  "tokenizer": {"class": "BertTokenizer", "vocab_file": str(vocab_files["wordpiece"]), "options": {}}})
    assert spec.image_processor == {"class": "ViTImageProcessor"}
    assert "options" not in spec.tokenizer
