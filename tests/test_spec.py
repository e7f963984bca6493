"""The Spec's JSON shape: what loads, and the one-line message for what does not."""

import json

import pytest

from composer import Spec, SpecError


def test_round_trips_through_json(tmp_path):
    spec = Spec(model_type="distilbert", architecture="DistilBertForMaskedLM", config={"n_layers": 2}, seed=7)
    path = tmp_path / "design.json"
    spec.save(path)
    again = Spec.load(path)
    assert again == spec
    assert json.loads(path.read_text())["format"] == "composer.spec/1"


@pytest.mark.parametrize(
    "data, message",
    [
        ({"model_type": "distilbert", "colour": "red"}, "colour: unknown key; allowed: architecture"),
        ({"config": {}}, "model_type: missing"),
        ({"model_type": 3}, "model_type: expected a string, got 3"),
        ({"model_type": "bert", "seed": "1"}, "seed: expected an integer, got '1'"),
        ({"model_type": "bert", "seed": True}, "seed: expected an integer, got True"),
        ({"model_type": "bert", "config": []}, "config: expected an object of config attributes"),
        ({"model_type": "bert", "format": "composer.spec/9"}, "format: expected 'composer.spec/1'"),
        ({"model_type": "bert", "backbone": {"timm": "resnet50", "model_type": "resnet"}}, "backbone: give exactly one"),
        ({"model_type": "bert", "backbone": {"model_type": "resnet", "depth": 3}}, "backbone.depth: unknown key"),
        ({"model_type": "bert", "tokenizer": {"vocab_file": "v.txt", "pretrained": "x"}}, "tokenizer: give one source"),
        ({"model_type": "bert", "tokenizer": {"train": {"vocab_size": 10}}}, "tokenizer.train: give \"text\""),
        ({"model_type": "bert", "tokenizer": {"train": {"text": ["a", 1]}}}, "tokenizer.train.text[1]: expected a string"),
        ({"model_type": "vit", "image_processor": {"options": {}}}, "image_processor.class: expected a class name"),
    ],
)
def test_shape_errors_name_the_key(data, message):
    with pytest.raises(SpecError) as err:
        Spec.from_dict(data)
    assert str(err.value).startswith(message)


def test_bad_json_is_one_clear_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{"model_type": "bert",,}')
    with pytest.raises(SpecError, match=r"^spec: not valid JSON \(.* at line 1\)$"):
        Spec.load(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(SpecError, match="cannot read .*nope.json"):
        Spec.load(tmp_path / "nope.json")


def test_save_is_atomic_and_leaves_no_temp_file(tmp_path):
    Spec(model_type="bert").save(tmp_path / "d.json")
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]
