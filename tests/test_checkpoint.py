"""Checkpoint folders: written whole or not at all, and loadable with transformers alone."""

import json

import pytest
from safetensors.torch import load_file

from composer import Spec, SpecError, check, save

TINY = {"model_type": "distilbert", "architecture": "DistilBertForSequenceClassification",
        "config": {"n_layers": 1, "dim": 32, "n_heads": 2, "hidden_dim": 64, "vocab_size": 100,
                   "max_position_embeddings": 64, "num_labels": 3}, "seed": 3}


def test_save_writes_a_transformers_folder_and_the_spec(tmp_path):
    target = save(TINY, tmp_path / "ck")
    names = {p.name for p in target.iterdir()}
    assert {"config.json", "model.safetensors", "composer.spec.json"} <= names
    config = json.loads((target / "config.json").read_text())
    assert config["architectures"] == ["DistilBertForSequenceClassification"]
    assert config["dim"] == 32 and len(config["id2label"]) == 3
    assert Spec.load(target / "composer.spec.json").config == TINY["config"]


def test_check_reloads_with_transformers(tmp_path):
    report = check(save(TINY, tmp_path / "ck"))
    assert report["architecture"] == "DistilBertForSequenceClassification"
    assert report["model_type"] == "distilbert"
    assert report["parameters"] > 0 and report["dtype"] == "float32"


def test_same_spec_same_bytes_other_seed_other_bytes(tmp_path):
    a = load_file(save(TINY, tmp_path / "a") / "model.safetensors")
    b = load_file(save(TINY, tmp_path / "b") / "model.safetensors")
    c = load_file(save({**TINY, "seed": 4}, tmp_path / "c") / "model.safetensors")
    key = "distilbert.transformer.layer.0.attention.q_lin.weight"
    assert all(a[k].numpy().tobytes() == b[k].numpy().tobytes() for k in a)
    assert a[key].numpy().tobytes() != c[key].numpy().tobytes()


def test_existing_folder_is_refused_unless_overwrite(tmp_path):
    target = save(TINY, tmp_path / "ck")
    with pytest.raises(SpecError, match="exists; pass overwrite=True"):
        save(TINY, target)
    save({**TINY, "seed": 4}, target, overwrite=True)
    assert Spec.load(target / "composer.spec.json").seed == 4
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_a_file_the_person_added_is_never_deleted(tmp_path):
    target = save(TINY, tmp_path / "ck")
    (target / "mine.txt").write_text("keep")
    with pytest.raises(SpecError, match=r"^DIR: .*ck holds files the composer did not write \(mine.txt\); a save "
                                        r"never replaces it, even with overwrite"):
        save(TINY, target, overwrite=True)
    assert (target / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_interrupted_save_leaves_nothing(tmp_path):
    def interrupt(report):
        if report.stage == "writing the processors":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save(TINY, tmp_path / "ck", progress=interrupt)
    assert list(tmp_path.iterdir()) == []


def test_interrupted_overwrite_keeps_the_old_folder(tmp_path):
    target = save(TINY, tmp_path / "ck")
    before = (target / "model.safetensors").read_bytes()

    def interrupt(report):
        if report.stage == "writing the weights":
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save({**TINY, "seed": 9}, target, overwrite=True, progress=interrupt)
    assert (target / "model.safetensors").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ck"]


def test_invalid_spec_writes_nothing(tmp_path):
    with pytest.raises(SpecError, match="config.dim"):
        save({**TINY, "config": {"dim": 30, "n_heads": 4}}, tmp_path / "ck")
    assert list(tmp_path.iterdir()) == []


def test_pretrained_folder_with_a_new_head(tmp_path, minilm_dir):
    spec = {"model_type": "bert", "architecture": "BertForSequenceClassification", "pretrained": str(minilm_dir),
            "config": {"num_labels": 4}}
    target = save(spec, tmp_path / "ck")
    saved = load_file(target / "model.safetensors")
    original = load_file(minilm_dir / "model.safetensors")
    word = "embeddings.word_embeddings.weight"
    assert saved[f"bert.{word}"].equal(original[word])  # the pretrained body is kept
    assert saved["classifier.weight"].shape == (4, 384)
    assert check(target)["architecture"] == "BertForSequenceClassification"


def test_check_refuses_a_folder_without_config(tmp_path):
    with pytest.raises(SpecError, match="no config.json"):
        check(tmp_path)
