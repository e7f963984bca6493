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
from pathlib import Path

import pytest
import torch

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
    assert (report["architecture"], report["tokenizer"], report["weights"]["missing"]) == \
        ("LlamaForCausalLM", "LlamaTokenizer", [])


@pytest.mark.slow
@pytest.mark.xdist_group("launch")
def test_the_first_step_trains_the_exported_designs_weights(folder, uninterrupted):
    """Step 1's loss is the design's own (the engine's build, the exported code's seed) on the first
    four blocks of the text, two per process: the shards hold the same weights."""
    where = importlib.util.spec_from_file_location("exported_train", folder / "train.py")
    train = importlib.util.module_from_spec(where)
    where.loader.exec_module(train)
    model = build_model(ready(json.loads((folder / "composer.spec.json").read_text())))
    tokenizer = train.runpy.run_path(str(folder / "design.py"))["tokenizer"]
    stream = train.Stream(SAMPLE, tokenizer, SETTINGS["sequence_length"])
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
    assert check(folder / "trained")["weights"]["missing"] == []


@pytest.mark.xdist_group("launch")
def test_the_readme_gives_the_plan_and_accelerate_reads_the_config(folder):
    readme = (folder / "README.md").read_text(encoding="utf-8").splitlines()
    made_for = [line for line in format_plan(plan(TINY, SETTINGS)).splitlines() if "measured" not in line]
    assert set(made_for) <= set(readme)  # all but how long the plan took
    config_args = pytest.importorskip("accelerate.commands.config.config_args")
    config = config_args.load_config_from_file(str(folder / "accelerate.yaml"))
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
     "sequence-classification head; train.py has data and labels for text with a causal-lm or masked-lm head "
     "only (e.g. the ...ForCausalLM or ...ForMaskedLM of this model type)"),
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
