"""The exported code and the engine cannot drift: for diverse designs, the source `python -m composer
code SPEC` prints, run in a fresh interpreter that never imports composer, writes exactly the checkpoint
`composer.checkpoint.save` writes — same tensors, bit for bit — and processors that give the same outputs.

Start-up dominates (importing torch and transformers takes seconds), so one fresh interpreter runs every
generated script, each with its own globals and working directory, while this process saves the same
designs with the engine.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import subprocess
import sys
import warnings
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import torch
import transformers
from safetensors import safe_open

from composer import ComposerWarning, Spec, save
from composer.validation import ready
from composer.safe_folder import MANIFEST
from composer.cli import main as cli_main

pytestmark = pytest.mark.slow

SENTENCE = "the cats sat on a mat."
IMAGE = np.random.default_rng(1).integers(0, 256, (29, 37, 3), dtype=np.uint8)
WAVE = (0.5 * np.sin(np.arange(8000) / 16000 * 2 * np.pi * 440)).astype(np.float32)

TEXT = {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}
SEQ2SEQ = {"d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
           "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32}
# GroupNorm in MaskFormer's pixel decoder uses 32 groups: its feature sizes must be multiples of 32.
TINY_MASKFORMER = {"fpn_feature_size": 32, "mask_feature_size": 32, "decoder_config": {
    "model_type": "detr", "d_model": 16, "encoder_layers": 1, "decoder_layers": 1, "encoder_attention_heads": 2,
    "decoder_attention_heads": 2, "encoder_ffn_dim": 16, "decoder_ffn_dim": 16, "num_queries": 4}}


def designs(vocab: dict[str, Path], minilm: Path) -> dict[str, tuple[dict, str | None, object]]:
    """name → (spec, Auto class that reloads the processors, what to feed them)."""
    wordpiece = {"vocab_file": str(vocab["wordpiece"])}
    bpe = {"vocab_file": str(vocab["bpe_vocab"]), "merges_file": str(vocab["bpe_merges"])}
    text = lambda p: p([SENTENCE, "the cat"], padding=True)  # noqa: E731
    image = lambda p: p(IMAGE, return_tensors="pt")  # noqa: E731
    return {
        "distilbert_head": ({
            "model_type": "distilbert", "architecture": "DistilBertForSequenceClassification", "seed": 3,
            "config": {"n_layers": 1, "dim": 16, "n_heads": 2, "hidden_dim": 32, "vocab_size": 14, "num_labels": 3},
            "tokenizer": {**wordpiece, "options": {"model_max_length": 16, "padding_side": "left"}}},
            "AutoTokenizer", text),
        "bert_python_tokenizer": ({
            "model_type": "bert", "architecture": "BertForMaskedLM", "config": {**TEXT, "vocab_size": 14},
            "tokenizer": {**wordpiece, "fast": False}}, "AutoTokenizer", text),
        "gpt2_bpe": ({
            "model_type": "gpt2", "architecture": "GPT2LMHeadModel",
            "config": {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 32, "vocab_size": 40,
                       "bos_token_id": 0, "eos_token_id": 0},
            "tokenizer": bpe}, "AutoTokenizer", lambda p: p("the cat")),
        "gpt2_double_heads": ({  # a head no Auto class maps (catalog.Head.mapped is False)
            "model_type": "gpt2", "architecture": "GPT2DoubleHeadsModel", "seed": 5,
            "config": {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 32, "vocab_size": 40}}, None, None),
        "llama_trained_tokenizer": ({
            "model_type": "llama", "architecture": "LlamaForCausalLM",
            "config": {**TEXT, "num_key_value_heads": 1, "vocab_size": 64},
            "tokenizer": {"train": {"text": ["a mat for the cat"], "files": [str(vocab["train_text"])],
                                    "vocab_size": 64}}}, "AutoTokenizer", lambda p: p(SENTENCE)),
        "bart_seq2seq": ({
            "model_type": "bart", "architecture": "BartForConditionalGeneration",
            "config": {**SEQ2SEQ, "vocab_size": 48, "max_position_embeddings": 32},
            "tokenizer": bpe}, "AutoTokenizer", lambda p: p("the cat")),
        "t5_base": ({
            "model_type": "t5", "config": {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 1, "num_heads": 2,
                                           "vocab_size": 64}}, None, None),
        "vit_image_classification": ({
            "model_type": "vit", "architecture": "ViTForImageClassification",
            "config": {**TEXT, "image_size": 32, "patch_size": 8, "num_labels": 4},
            "image_processor": {"class": "ViTImageProcessor", "options": {  # as ImagePreview's form edits them
                "size": {"height": 32, "width": 32}, "resample": "PIL.Image.BICUBIC", "image_mean": [0.1, 0.2, 0.3],
                "image_std": [0.3, 0.3, 0.3]}}}, "AutoImageProcessor", image),
        "wav2vec2_ctc_processor": ({
            "model_type": "wav2vec2", "architecture": "Wav2Vec2ForCTC",
            "config": {**TEXT, "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8],
                       "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2},
            "tokenizer": {"vocab_file": str(vocab["ctc_vocab"])},
            "feature_extractor": {"class": "Wav2Vec2FeatureExtractor", "options": {"return_attention_mask": True,
                                                                                   "do_normalize": False}},
            "processor": "Wav2Vec2Processor"}, "AutoProcessor",
            lambda p: p(audio=WAVE, sampling_rate=16000, text="THE CAT", return_tensors="pt")),
        "whisper_encoder_decoder": ({
            "model_type": "whisper", "architecture": "WhisperForConditionalGeneration",
            "config": {**SEQ2SEQ, "num_mel_bins": 16, "max_source_positions": 50, "max_target_positions": 16,
                       "vocab_size": 64, "pad_token_id": 0, "bos_token_id": 1, "eos_token_id": 2,
                       "decoder_start_token_id": 1},
            "feature_extractor": {"class": "WhisperFeatureExtractor", "options": {"feature_size": 16,
                                                                                 "chunk_length": 1}}},
            "AutoFeatureExtractor", lambda p: p(WAVE, sampling_rate=16000, return_tensors="pt")),
        "vilt_image_text_processor": ({
            "model_type": "vilt", "config": {**TEXT, "vocab_size": 14, "image_size": 32, "patch_size": 8,
                                             "max_image_length": 16},
            "tokenizer": wordpiece, "processor": "ViltProcessor",
            "image_processor": {"class": "ViltImageProcessor", "options": {"size": {"shortest_edge": 32}}}},
            "AutoProcessor", lambda p: p(images=IMAGE, text="the cat", return_tensors="pt")),
        "maskformer_resnet": ({
            "model_type": "maskformer", "architecture": "MaskFormerForInstanceSegmentation", "seed": 1,
            "backbone": {"model_type": "resnet", "config": {"depths": [1, 1, 1, 1], "hidden_sizes": [8, 16, 24, 32],
                                                            "embedding_size": 8}},
            "config": TINY_MASKFORMER}, None, None),
        "maskformer_timm": ({
            "model_type": "maskformer", "architecture": "MaskFormerForInstanceSegmentation",
            "backbone": {"timm": "resnet18"}, "config": TINY_MASKFORMER}, None, None),
        "minilm_new_head": ({
            "model_type": "bert", "architecture": "BertForSequenceClassification", "pretrained": str(minilm),
            "config": {"num_labels": 2}, "seed": 7, "tokenizer": {"pretrained": str(minilm)}}, "AutoTokenizer", text),
        "minilm_resized_reinitialised": ({  # issue 12: resized tensors started afresh (ignore_mismatched_sizes)
            "model_type": "bert", "architecture": "BertForTokenClassification", "pretrained": str(minilm),
            "config": {"num_hidden_layers": 2, "intermediate_size": 512, "num_labels": 3}, "resized": "reinitialise",
            "seed": 11}, None, None),
    }


NAMES = sorted(designs(defaultdict(Path), Path()))

# Runs each generated script as its own __main__ in a fresh interpreter; records failures per script.
RUNNER = """
import json, os, runpy, sys, traceback
for script in sys.argv[1:]:
    os.chdir(os.path.dirname(script))
    try:
        runpy.run_path(script, run_name="__main__")
        error = None
    except BaseException:
        error = traceback.format_exc()
    with open(script + ".json", "w") as f:
        json.dump({"error": error, "composer_imported": "composer" in sys.modules}, f)
"""


def generated_code(spec_path: Path, output_dir: str) -> str:
    """What `python -m composer code SPEC --output-dir DIR` prints (its main(), run here)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert cli_main(["code", str(spec_path), "--output-dir", output_dir]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def roundtrip(tmp_path_factory, vocab_files, minilm_dir):
    """Every design exported and run in one fresh interpreter, and saved by the engine meanwhile."""
    root = tmp_path_factory.mktemp("roundtrip")
    table = designs(vocab_files, minilm_dir)
    scripts, codes = [], {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComposerWarning)
        for name, (spec, _, _) in table.items():
            (root / name).mkdir()
            Spec.from_dict(spec).save(root / name / "spec.json")
            codes[name] = generated_code(root / name / "spec.json", "exported")
            (root / name / "design.py").write_text(codes[name], encoding="utf-8")
            scripts.append(str(root / name / "design.py"))
        # The real command line once, in its own interpreter, must print the same source.
        cli = subprocess.Popen([sys.executable, "-m", "composer", "code", str(root / "gpt2_bpe" / "spec.json"),
                                "--output-dir", "exported"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        runner = subprocess.Popen([sys.executable, "-c", RUNNER, *scripts], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
        for name, (spec, _, _) in table.items():
            save(spec, root / name / "saved")
    cli_out, cli_err = cli.communicate(timeout=300)
    runner_log, _ = runner.communicate(timeout=600)
    assert cli.returncode == 0, cli_err
    assert cli_out == codes["gpt2_bpe"]
    return {"root": root, "table": table, "codes": codes, "runner_log": runner_log}


def ran(roundtrip, name: str) -> Path:
    """The folder the generated script wrote; fails with its traceback if it did not run."""
    folder = roundtrip["root"] / name
    result_file = folder / "design.py.json"
    assert result_file.is_file(), f"the runner did not reach {name}:\n{roundtrip['runner_log'][-3000:]}"
    result = json.loads(result_file.read_text())
    assert result["error"] is None, result["error"]
    assert not result["composer_imported"]
    return folder


def tensors(path: Path) -> dict[str, torch.Tensor]:
    with safe_open(str(path), framework="pt") as f:
        return {key: f.get_tensor(key) for key in f.keys()}


@pytest.mark.parametrize("name", NAMES)
def test_exported_code_writes_the_same_weights(roundtrip, name):
    folder = ran(roundtrip, name)
    exported = tensors(folder / "exported" / "model.safetensors")
    saved = tensors(folder / "saved" / "model.safetensors")
    assert sorted(exported) == sorted(saved)
    for key, tensor in saved.items():
        other = exported[key]
        assert (other.shape, other.dtype) == (tensor.shape, tensor.dtype), key
        assert torch.equal(other.reshape(-1).view(torch.uint8), tensor.reshape(-1).view(torch.uint8)), key
    config = json.loads((folder / "saved" / "config.json").read_text())
    assert json.loads((folder / "exported" / "config.json").read_text()) == config


@pytest.mark.parametrize("name", NAMES)
def test_exported_processors_reload_to_the_same_outputs(roundtrip, name):
    folder = ran(roundtrip, name)
    # The composer's own two files: the Spec, and the list of what the save wrote (safe_folder.MANIFEST).
    saved_files = {p.name for p in (folder / "saved").iterdir()} - {"composer.spec.json", MANIFEST}
    assert {p.name for p in (folder / "exported").iterdir()} == saved_files
    for file in saved_files - {"model.safetensors"}:
        assert (folder / "exported" / file).read_bytes() == (folder / "saved" / file).read_bytes(), file
    _, auto, use = roundtrip["table"][name]
    if auto is None:
        return
    loader = getattr(transformers, auto)
    exported = loader.from_pretrained(folder / "exported", local_files_only=True)
    saved = loader.from_pretrained(folder / "saved", local_files_only=True)
    assert type(exported) is type(saved)
    a, b = use(exported), use(saved)
    assert set(a) == set(b)
    for key in a:
        same = torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor) else a[key] == b[key]
        assert same, key


@pytest.mark.parametrize("name", NAMES)
def test_every_processor_option_is_read_back_from_both_folders(roundtrip, name):
    """Identical outputs could hide an option both sides dropped: each option of the design (as the
    preview forms set them: image_mean, do_normalize, padding_side, …) comes back from the folder."""
    folder = ran(roundtrip, name)
    spec = ready(roundtrip["table"][name][0])  # as the engine writes it (resample names become numbers)
    for where in ("exported", "saved"):
        for key, auto in (("image_processor", "AutoImageProcessor"), ("feature_extractor", "AutoFeatureExtractor")):
            options = (getattr(spec, key) or {}).get("options", {})
            if options:
                settings = getattr(transformers, auto).from_pretrained(folder / where, local_files_only=True).to_dict()
                for option, value in options.items():
                    assert json.loads(json.dumps(settings[option])) == value, (where, key, option)
        options = (spec.tokenizer or {}).get("options", {})
        if options:
            tokenizer = transformers.AutoTokenizer.from_pretrained(folder / where, local_files_only=True)
            for option, value in options.items():
                assert getattr(tokenizer, option) == value, (where, option)


@pytest.mark.parametrize("name", NAMES)
def test_exported_code_imports_only_torch_and_transformers(roundtrip, name):
    modules = set()
    for node in ast.walk(ast.parse(roundtrip["codes"][name])):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    assert modules == {"torch", "transformers"}


def test_pretrained_weights_are_kept_and_the_new_head_is_reproducible(roundtrip, minilm_dir):
    folder = ran(roundtrip, "minilm_new_head")
    original = tensors(minilm_dir / "model.safetensors")
    exported = tensors(folder / "exported" / "model.safetensors")
    # The folder holds a bare BertModel; under the head its weights live below "bert.".
    assert torch.equal(exported["bert.embeddings.word_embeddings.weight"],
                       original["embeddings.word_embeddings.weight"])
    assert exported["classifier.weight"].shape == (2, 384)  # the new head, equal to save's (test above)


def test_resized_tensors_start_afresh_and_the_rest_is_loaded(roundtrip, minilm_dir):
    folder = ran(roundtrip, "minilm_resized_reinitialised")
    original = tensors(minilm_dir / "model.safetensors")
    exported = tensors(folder / "exported" / "model.safetensors")
    assert exported["bert.encoder.layer.1.intermediate.dense.weight"].shape == (512, 384)
    assert torch.equal(exported["bert.encoder.layer.1.attention.self.query.weight"],
                       original["encoder.layer.1.attention.self.query.weight"])
    assert "ignore_mismatched_sizes=True" in roundtrip["codes"]["minilm_resized_reinitialised"]


def test_timm_backbone_config_gets_keywords_only(roundtrip):
    """5.x's TimmBackboneConfig refuses positional arguments; the exported call must not use any."""
    calls = [node for node in ast.walk(ast.parse(roundtrip["codes"]["maskformer_timm"]))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "TimmBackboneConfig"]
    assert len(calls) == 1 and not calls[0].args
    assert {"backbone", "use_pretrained_backbone"} <= {k.arg for k in calls[0].keywords}
