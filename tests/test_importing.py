"""`python -m composer import PATH`: a real config.json (a checkpoint's, or one transformers saved) becomes
the Spec of its design, with random initial weights, whose model is the one transformers builds from the
same file; a file the composer cannot trust is one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import transformers
from transformers import (AutoConfig, AutoModel, DistilBertConfig, LlamaConfig, MaskFormerConfig, ResNetConfig,
                          T5Config)

from composer import ComposerWarning, Spec, spec_from_config
from composer.fields import fields_by_name


def transformers_count(path: Path, architecture: str | None) -> int:
    """Parameters of transformers' own build from the same config.json, on the meta device."""
    config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    with torch.device("meta"):
        model = getattr(transformers, architecture)(config) if architecture else \
            AutoModel.from_config(config, trust_remote_code=False)
    return sum(p.numel() for p in model.parameters())


def saved(folder: Path, config, **edits) -> Path:
    """A folder holding only the config.json transformers writes for ``config``, then edited by hand."""
    config.save_pretrained(folder)
    path = folder / "config.json"
    data = json.loads(path.read_text())
    for key, value in edits.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))
    return folder


@pytest.fixture
def configs(tmp_path, minilm_dir) -> dict[str, Path]:
    return {
        "minilm": minilm_dir,
        "distilbert with a head": saved(tmp_path / "db", DistilBertConfig(
            dim=64, n_heads=2, hidden_dim=128, n_layers=2, num_labels=3,
            architectures=["DistilBertForSequenceClassification"])),
        "t5": saved(tmp_path / "t5", T5Config(d_model=64, d_ff=128, num_layers=2, num_heads=2, d_kv=32,
                                             vocab_size=500, architectures=["T5ForConditionalGeneration"])),
        # As real Llama config.json files have it: rope_theta at the top, no rope_parameters.
        "llama with rope_theta": saved(tmp_path / "llama", LlamaConfig(
            hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
            num_key_value_heads=2, vocab_size=1000, architectures=["LlamaForCausalLM"]),
            rope_parameters=None, rope_theta=500000.0),
        "maskformer with a resnet backbone": saved(tmp_path / "mf", MaskFormerConfig(
            backbone_config=ResNetConfig(depths=[1, 1, 1, 1], hidden_sizes=[16, 32, 64, 128], embedding_size=16,
                                         out_features=["stage1", "stage2", "stage3", "stage4"]),
            architectures=["MaskFormerForInstanceSegmentation"])),
    }


NAMES = ["minilm", "distilbert with a head", "t5", "llama with rope_theta", "maskformer with a resnet backbone"]


def assert_no_defaults(model_type: str, config: dict) -> None:
    fields = fields_by_name(model_type)
    defaults = {name: value for name, value in config.items() if value == fields[name].default}
    assert not defaults, defaults


@pytest.mark.parametrize("name", NAMES)
def test_the_cli_prints_the_spec_transformers_would_build(name, configs, cli_here, tmp_path):
    cli = cli_here
    folder = configs[name]
    out = cli("import", folder)
    assert out.returncode == 0, out.stderr
    spec = Spec.from_json(out.stdout)
    assert spec.pretrained is None and spec.format == "composer.spec/1"  # random initial weights
    assert_no_defaults(spec.model_type, spec.config)
    (tmp_path / "spec.json").write_text(out.stdout)
    summary = cli("summary", tmp_path / "spec.json", "--json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["total"] == transformers_count(folder, spec.architecture)


def test_what_each_design_holds(configs):
    with pytest.warns(ComposerWarning, match="left out gradient_checkpointing, position_embedding_type"):
        minilm = spec_from_config(configs["minilm"])
    assert (minilm.model_type, minilm.architecture) == ("bert", None)  # architectures: ["BertModel"], the base
    assert minilm.config == {"hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6}
    distilbert = spec_from_config(configs["distilbert with a head"] / "config.json")  # the file itself
    assert distilbert.architecture == "DistilBertForSequenceClassification"
    assert distilbert.config == {"dim": 64, "hidden_dim": 128, "n_heads": 2, "n_layers": 2, "num_labels": 3}
    llama = spec_from_config(configs["llama with rope_theta"])
    # rope_theta is kept as the file writes it (transformers 5 folds it into rope_parameters when it
    # builds); head_dim, which the saved file writes out, is derived by the class and left out.
    assert llama.config["rope_theta"] == 500000.0
    assert "head_dim" not in llama.config and "rope_parameters" not in llama.config
    maskformer = spec_from_config(configs["maskformer with a resnet backbone"])
    assert maskformer.config == {}
    assert maskformer.backbone == {"model_type": "resnet", "out_features": ["stage1", "stage2", "stage3", "stage4"],
                                   "config": {"depths": [1, 1, 1, 1], "embedding_size": 16,
                                              "hidden_sizes": [16, 32, 64, 128]}}


def test_output_writes_the_spec_file(configs, cli, tmp_path):
    target = tmp_path / "design.json"
    out = cli("import", configs["t5"], "--output", target)
    assert out.returncode == 0 and out.stdout == f"{target}\n"
    assert Spec.load(target) == spec_from_config(configs["t5"])


def test_a_key_the_class_consumes_is_kept_and_one_it_lacks_is_named_in_a_warning(tmp_path, cli_here):
    folder = saved(tmp_path / "t5", T5Config(d_model=64, d_ff=128, num_layers=1, num_heads=2, d_kv=32),
                   decoder_start_token_id=0, made_up_key=3)
    out = cli_here("import", folder)
    assert out.returncode == 0
    assert Spec.from_json(out.stdout).config["decoder_start_token_id"] == 0  # T5's generation needs it
    assert out.stderr == ("warning: config.json: left out made_up_key: not an attribute of T5Config "
                          "(transformers keeps such keys only as plain attributes)\n")


BAD = {
    "not JSON": ('{"model_type": ', "error: config.json: not valid JSON"),
    "an auto_map": ({"model_type": "bert", "auto_map": {"AutoModel": "evil.Model"}}, "error: config.json: has an auto_map"),
    "unknown model_type": ({"model_type": "nonexistent"}, "error: config.json: model_type 'nonexistent' is not"),
    "unknown class": ({"model_type": "bert", "architectures": ["BertForNothing"]},
                      "error: config.json: architectures: 'BertForNothing' is not a bert class"),
    "a value of the wrong type": ({"model_type": "bert", "hidden_size": "big"},
                                  "error: config.json: hidden_size: expected int"),
}


@pytest.mark.parametrize("name", BAD)
def test_a_bad_config_is_one_line_exit_2(name, tmp_path, cli_here):
    cli = cli_here
    content, says = BAD[name]
    path = tmp_path / "config.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    out = cli("import", path)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and out.stderr.startswith(says), out.stderr


@pytest.mark.parametrize("target, says", [
    ("empty", "error: PATH: 'empty' is a folder without a config.json\n"),
    ("missing.json", "error: PATH: 'missing.json' does not exist\n"),
    ("someone/not-cached-anywhere", "error: PATH: 'someone/not-cached-anywhere' is not a local folder and the hub "
     "cannot be reached (offline); give a local save_pretrained folder, or load it once while online\n"),
])
def test_a_path_without_a_config_is_one_line_exit_2(target, says, tmp_path, cli_here):
    cli = cli_here
    (tmp_path / "empty").mkdir()
    out = cli("import", target, cwd=tmp_path)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", says)
