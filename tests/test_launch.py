"""The launch (issue 11, item 2): the exported folder trains a tiny decoder for real under torchrun on
two CPU processes (gloo, FSDP2), its loss falls on the text the project ships, a run killed after the
checkpoint of step 10 and started again resumes there and gives the same losses as the run that went
on, the result passes `composer check`, accelerate's own loader reads its config, and what train.py
cannot run is refused at export, one line naming the field."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import wave
from pathlib import Path

import pytest
import torch
from accelerate.commands.config.config_args import load_config_from_file

from composer.build import build_model
from composer.checkpoint import check
from composer.training.launch import TEMPLATES, write_launch
from composer.training.plan import format_plan, plan
from composer.validation import ready

from test_cli import EXAMPLES

SAMPLE = TEMPLATES / "sample.txt"
TINY = {"model_type": "llama", "architecture": "LlamaForCausalLM",
        "config": {"hidden_size": 64, "intermediate_size": 128, "vocab_size": 512, "num_attention_heads": 4,
                   "num_key_value_heads": 2, "num_hidden_layers": 2},
        "tokenizer": {"train": {"text": [line for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line],
                                "vocab_size": 512}}}
VIT = {"model_type": "vit", "architecture": "ViTForImageClassification",
       "config": {"hidden_size": 32, "num_hidden_layers": 2, "intermediate_size": 64, "num_attention_heads": 2,
                  "image_size": 32, "patch_size": 8, "num_labels": 3},
       "image_processor": {"class": "ViTImageProcessor", "options": {"size": {"height": 32, "width": 32}}}}
WHISPER = {"model_type": "whisper", "architecture": "WhisperForAudioClassification",
           "config": {"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 2,
                      "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "num_labels": 2},
           "feature_extractor": {"class": "WhisperFeatureExtractor", "options": {}}}
SETTINGS = {"micro_batch": 2, "sequence_length": 64, "precision": "fp32", "layout": "fsdp"}
STEPS = ("--steps", "20", "--checkpoint-every", "10", "--lr", "1e-2")


def _port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return str(s.getsockname()[1])


def _trained(command: list[str], cwd: Path) -> list[dict]:
    """Run a training command; the JSON lines it printed (one per step, and what it resumed or saved)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHON": sys.executable, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]


def _losses(lines: list[dict]) -> dict[int, float]:
    return {line["step"]: line["loss"] for line in lines if "loss" in line}


def _exported(folder: Path):
    """The folder's train.py as a module (it reads its launch.json), to call its data readers."""
    where = importlib.util.spec_from_file_location(f"train_{folder.name}", folder / "train.py")
    module = importlib.util.module_from_spec(where)
    where.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return write_launch(TINY, SETTINGS, tmp_path_factory.mktemp("launch") / "tiny")


@pytest.fixture(scope="module")
def uninterrupted(folder) -> dict[int, float]:
    """20 steps through launch.sh on two processes, checkpoints after steps 10 and 20."""
    return _losses(_trained([str(folder / "launch.sh"), "--nproc-per-node", "2", "--rdzv", f"127.0.0.1:{_port()}",
                             *STEPS], folder))


@pytest.mark.slow
@pytest.mark.xdist_group("launch")  # one worker runs the training the next tests read
def test_two_processes_train_and_the_result_loads_with_transformers(folder, uninterrupted):
    losses = list(uninterrupted.values())
    assert list(uninterrupted) == list(range(1, 21))
    assert sum(losses[-5:]) / 5 < losses[0] - 0.25, losses  # from ln(512) = 6.24 to below 6
    report = check(folder / "trained")
    assert (report["architecture"], report["tokenizer"], report["weights"]["new"]) == \
        ("LlamaForCausalLM", "LlamaTokenizer", [])


@pytest.mark.slow
@pytest.mark.xdist_group("launch")
def test_the_first_step_trains_the_exported_designs_weights(folder, uninterrupted):
    """Step 1's loss is the design's own (the engine's build, the exported code's seed) on the first
    four blocks of the text, two per process: the shards hold the same weights."""
    train = _exported(folder)
    model = build_model(ready(json.loads((folder / "composer.spec.json").read_text())))
    tokenizer = train.runpy.run_path(str(folder / "design.py"))["tokenizer"]
    stream = train.Stream(SAMPLE, tokenizer, SETTINGS["sequence_length"], TINY["config"]["vocab_size"])
    blocks = torch.tensor([stream.block() for _ in range(4)])
    with torch.no_grad():
        losses = [model(input_ids=ids, labels=ids).loss.item() for ids in (blocks[:2], blocks[2:])]
    assert uninterrupted[1] == pytest.approx(sum(losses) / 2, rel=1e-6)


@pytest.mark.slow
@pytest.mark.xdist_group("launch")
def test_a_run_killed_after_step_10_resumes_there_with_the_same_losses(folder, uninterrupted):
    """What a run killed during step 15's checkpoint leaves: step 10's checkpoint and a half-written
    step-15.partial (torch.distributed.checkpoint's shard files of one rank only, no metadata). The
    losses are compared exactly: the same fp32 weights and optimizer states come back bit for bit, the
    batches and seeds are functions of the step, and CPU kernels on one thread are deterministic."""
    checkpoints = folder / "checkpoints"
    shutil.rmtree(checkpoints / "step-00000020")
    shutil.rmtree(folder / "trained")
    shutil.copytree(checkpoints / "step-00000010", checkpoints / "step-00000015.partial",
                    ignore=shutil.ignore_patterns(".metadata", "trainer_state.json", "__1_*"))
    lines = _trained([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2",
                      "--master-port", _port(), str(folder / "train.py"), *STEPS], folder)
    assert lines[0] == {"resumed": str(checkpoints / "step-00000010"), "step": 10}
    assert _losses(lines) == {step: loss for step, loss in uninterrupted.items() if step > 10}
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-00000010", "step-00000020"]
    assert check(folder / "trained")["weights"]["new"] == []


@pytest.mark.xdist_group("launch")
def test_the_readme_gives_the_plan_and_accelerate_reads_the_config(folder):
    readme = (folder / "README.md").read_text(encoding="utf-8").splitlines()
    made_for = [line for line in format_plan(plan(TINY, SETTINGS)).splitlines() if "measured" not in line]
    assert set(made_for) <= set(readme)  # all but how long the plan took
    config = load_config_from_file(str(folder / "accelerate.yaml"))
    assert (config.distributed_type.value, config.mixed_precision, config.num_processes, config.num_machines) == \
        ("FSDP", "no", 1, 1)
    assert {k: config.fsdp_config[k] for k in ("fsdp_version", "fsdp_transformer_layer_cls_to_wrap",
                                               "fsdp_reshard_after_forward")} == \
        {"fsdp_version": 2, "fsdp_transformer_layer_cls_to_wrap": "LlamaDecoderLayer", "fsdp_reshard_after_forward": True}


@pytest.mark.parametrize("spec, options, line", [
    (TINY, ("--tensor-parallel", "2"), "error: plan.tensor_parallel: 2: train.py shards with FSDP2 only "
     "(data-parallel); a tensor-parallel launch is not written, choose 1"),
    (TINY, ("--optimizer", "adamw-8bit"), "error: plan.optimizer: adamw-8bit needs bitsandbytes, and train.py "
     "imports only torch and transformers; choose adamw, sgd-momentum or adafactor"),
    (EXAMPLES / "distilbert.json", (), "error: architecture: DistilBertForSequenceClassification is a "
     "sequence-classification head; train.py has data and labels for causal-lm and masked-lm heads on text, and "
     "image- and audio-classification heads on class folders (e.g. the ...ForCausalLM or "
     "...ForImageClassification of a model type)"),
    ({k: v for k, v in VIT.items() if k != "image_processor"}, (), "error: image_processor: train.py reads the "
     "image-classification data through the design's image processor; the design has none: add one"),
    (VIT, ("--image-size", "64"), "error: plan.image_size: 64: train.py feeds images at the size of the design's "
     "image processor; leave it unset or set the processor's size"),
    (TINY, ("--micro-batch", "two"), "error: plan.micro_batch: expected an integer, got 'two'"),
])
def test_what_train_py_cannot_run_is_refused_at_export(cli_here, tmp_path, spec, options, line):
    if isinstance(spec, dict):
        (tmp_path / "spec.json").write_text(json.dumps(spec))
        spec = tmp_path / "spec.json"
    out = cli_here("launch", spec, tmp_path / "run", *options)
    assert (out.returncode, out.stderr, out.stdout) == (2, line + "\n", "")
    assert not (tmp_path / "run").exists()


def test_a_plan_that_does_not_fit_and_an_existing_folder_are_refused(cli_here, tmp_path):
    out = cli_here("launch", EXAMPLES / "llama70b.json", tmp_path / "run", "--device", "24")
    assert out.returncode == 2 and out.stderr.startswith("error: plan.layout: the plan does not fit (") and \
        out.stderr.count("\n") == 1 and not (tmp_path / "run").exists()
    (tmp_path / "run").mkdir()
    out = cli_here("launch", EXAMPLES / "distilbert.json", tmp_path / "run")
    assert (out.returncode, out.stderr) == (2, f"error: DIR: {tmp_path / 'run'} exists; pass --overwrite to replace it\n")



def _images(root: Path) -> Path:
    from PIL import Image

    for i, name in enumerate(("cat", "dog", "owl")):
        (root / name).mkdir(parents=True)
        for j in range(3):
            Image.new("RGB", (40, 36), (80 * i, 20 * j, 100)).save(root / name / f"{j}.png")
    (root / "owl" / "notes.txt").write_text("not an image")
    return root


def _clips(root: Path) -> Path:
    for name, step in (("high", 9000), ("low", 700)):
        (root / name).mkdir(parents=True)
        for j in range(2):
            with wave.open(str(root / name / f"{j}.wav"), "wb") as clip:
                clip.setnchannels(1)
                clip.setsampwidth(2)
                clip.setframerate(16_000)
                clip.writeframes(b"".join(((k * step) % 30000 - 15000).to_bytes(2, "little", signed=True)
                                          for k in range(4000 + 1000 * j)))
    return root


@pytest.mark.parametrize("spec, data, main, shape", [
    (VIT, _images, "pixel_values", (2, 3, 32, 32)),
    (WHISPER, _clips, "input_features", (2, 80, 3000)),
])
def test_classifiers_read_class_folders_in_a_seeded_order(tmp_path, spec, data, main, shape):
    """An image or audio classifier trains on a folder of class folders through the design's own
    processor; the sorted folder names become its labels, and a resumed reader goes on in the same order."""
    folder = write_launch(spec, {"precision": "fp32"}, tmp_path / "launch")
    assert json.loads((folder / "launch.json").read_text())["data"] is None and not (folder / "sample.txt").exists()
    train = _exported(folder)
    names = train.runpy.run_path(str(folder / "design.py"))
    model, processors = names["model"], {name: names[name] for name in train.SETTINGS["processors"]}
    reader = train.dataset(data(tmp_path / "data"), processors, model.config, None)
    first = reader.batch(2, 1, 2, None)  # process 1 of 2: examples 3 and 4 of the epoch
    assert first[main].shape == shape and model.config.id2label == dict(enumerate(sorted(model.config.label2id)))
    state = reader.state()
    again = train.dataset(tmp_path / "data", processors, model.config, state)
    for _ in range(3):  # round the end of the epoch, into the next one's order
        assert torch.equal(reader.batch(2, 0, 2, None)["labels"], again.batch(2, 0, 2, None)["labels"])
    assert reader.state() == again.state() and reader.state()["epoch"] >= 1
    assert model(**first).loss.item() > 0
