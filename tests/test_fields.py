"""The config form of a model type: every type the installed transformers knows gets one, and what
it shows (types, defaults, choices, aliases, help, sub-configs) is what the config class says."""

from __future__ import annotations

import json

import pytest

from composer import SpecError
from composer.catalog import model_types
from composer.fields import check_value, config_fields, fields_by_name


def test_every_model_type_has_a_json_form_whose_defaults_pass_its_own_checks():
    """A form must open for any type the picker offers, and sending a default back must be accepted.
    Imports all 822 config modules once: about 12 s here."""
    problems = {}
    for model_type in model_types():
        try:
            fields = config_fields(model_type)
            json.dumps([f.to_dict() for f in fields], allow_nan=False)  # strict: what a browser parses
            for f in fields:
                check_value(f, f.default, f"config.{f.name}")
        except Exception as err:  # collected, so one run names every broken type
            problems[model_type] = f"{type(err).__name__}: {err}"
    assert problems == {}
    assert len(model_types()) > 800


def test_distilbert_form_shows_aliases_choices_and_help():
    fields = fields_by_name("distilbert")
    assert fields["dim"].type == "int" and fields["dim"].default == 768
    assert fields["dim"].aliases == ("hidden_size",)
    assert fields["n_layers"].aliases == ("num_hidden_layers",)
    assert "hidden_size" not in fields  # an alias is not a second field
    assert fields["n_layers"].help.startswith("Number of hidden layers")
    problem = fields["problem_type"]
    assert problem.type == "choice" and problem.nullable and problem.default is None
    assert set(problem.choices) == {"regression", "single_label_classification", "multi_label_classification"}
    assert problem.group == "head" and fields["num_labels"].group == "head"


def test_distilbert_form_lists_the_models_own_attributes_before_the_common_ones():
    names = [f.name for f in config_fields("distilbert")]
    assert names[:6] == ["vocab_size", "max_position_embeddings", "sinusoidal_pos_embds", "n_layers", "n_heads",
                         "dim"]
    assert names.index("output_hidden_states") > names.index("seq_classif_dropout")
    assert not {"transformers_version", "architectures", "dtype"} & set(names)


def test_llama_form():
    fields = fields_by_name("llama")
    assert (fields["hidden_size"].default, fields["num_hidden_layers"].default) == (4096, 32)
    assert fields["num_key_value_heads"].nullable  # None means "as many as the attention heads"
    assert fields["hidden_act"].help
    assert fields["rms_norm_eps"].type == "float"
    assert set(fields["eos_token_id"].kinds) == {"int", "list"}  # one id or several
    check_value(fields["eos_token_id"], [1, 2], "config.eos_token_id")


def test_maskformer_backbone_and_decoder_are_nested_configs():
    fields = fields_by_name("maskformer")
    for name in ("backbone_config", "decoder_config"):
        assert fields[name].type == "config" and fields[name].sub_config == "AutoConfig"
        assert fields[name].help
    with pytest.raises(SpecError, match="expected config"):
        check_value(fields["backbone_config"], "resnet", "config.backbone_config")


def test_an_infinite_default_is_sent_as_a_string_both_sides_read():
    field = fields_by_name("mamba2")["time_step_limit"]
    assert field.default == [0.0, float("inf")]  # what validation compares an edit against
    assert field.to_dict()["default"] == [0.0, "Infinity"]


def test_clip_towers_name_their_config_classes():
    fields = fields_by_name("clip")
    assert (fields["text_config"].sub_config, fields["vision_config"].sub_config) == ("CLIPTextConfig",
                                                                                      "CLIPVisionConfig")


def test_help_survives_the_docstring_quirks_of_real_configs():
    # defaults written with parentheses, a subclass that documents nothing itself, a missing colon
    assert fields_by_name("bit")["depths"].help == "Depth of each layer in the Transformer."
    assert fields_by_name("mimi_decoder")["upsampling_ratios"].help  # documented on MimiConfig
    assert fields_by_name("flaubert")["use_lang_emb"].help.startswith("Whether to use language embeddings")


def test_fields_on_the_command_line(cli):
    out = cli("fields", "maskformer", "--json")
    assert out.returncode == 0, out.stderr
    rows = {row["name"]: row for row in json.loads(out.stdout)}
    assert rows["backbone_config"]["type"] == "config"
    assert rows["backbone_config"]["sub_config"] == "AutoConfig"
    assert rows["num_labels"]["default"] == 2


def test_a_misspelt_type_suggests_the_right_one():
    with pytest.raises(SpecError, match=r"^model_type: unknown model type 'distilbrt'; did you mean distilbert\?$"):
        config_fields("distilbrt")


@pytest.mark.parametrize("model_type,name,kinds", [
    ("resnet", "out_features", ["list"]), ("convnext", "out_indices", ["list"]), ("llama", "rope_theta", ["float"]),
    ("mistral", "rope_theta", ["float"]), ("t5", "decoder_start_token_id", ["int", "list"]),
    ("detr", "use_timm_backbone", ["bool"]),
])
def test_the_form_offers_the_keywords_the_config_class_consumes(cli, model_type, name, kinds):
    fields = {f["name"]: f for f in json.loads(cli("fields", model_type, "--json").stdout)}
    assert fields[name]["kinds"] == kinds and fields[name]["default"] is None
