"""Validation against the installed transformers: every refusal names the field and what is allowed."""


import pytest

from composer import Spec, SpecError
from composer.validation import validate


def check(data):
    return validate(Spec.from_dict(data))


def error_of(data) -> str:
    with pytest.raises(SpecError) as err:
        check(data)
    return str(err.value)


def test_wrong_type_names_field_and_type():
    assert error_of({"model_type": "distilbert", "config": {"n_heads": "twelve"}}) == \
        "config.n_heads: expected int, got 'twelve'"


def test_unknown_model_type_suggests():
    message = error_of({"model_type": "distilbart2"})
    assert message.startswith("model_type: unknown model type 'distilbart2'")
    assert "distilbert" in message or "see `python -m composer types`" in message


def test_unknown_architecture_lists_the_heads():
    message = error_of({"model_type": "distilbert", "architecture": "BertModel"})
    assert message.startswith("architecture: 'BertModel' is not a distilbert architecture; allowed:")
    assert "DistilBertForQuestionAnswering" in message


def test_attribute_the_config_does_not_have():
    message = error_of({"model_type": "distilbert", "config": {"n_layer": 2}})
    assert message.startswith("config.n_layer: DistilBertConfig has no attribute 'n_layer'")
    assert "n_layers" in message


def test_literal_choices_are_enforced():
    message = error_of({"model_type": "distilbert", "config": {"problem_type": "ranking"}})
    assert message.startswith("config.problem_type: expected one of 'regression'")


def test_dim_not_divisible_by_heads_is_caught_at_validation():
    message = error_of({"model_type": "distilbert", "config": {"dim": 100}})
    assert message.startswith("config.dim: ")
    assert "must divide" in message and "Traceback" not in message


def test_aliases_become_the_attribute_and_defaults_drop_out():
    spec = check({"model_type": "distilbert", "config": {"hidden_size": 384, "n_heads": 12, "n_layers": 6}})
    assert spec.config == {"dim": 384}


def test_alias_and_attribute_together_are_refused():
    assert "given twice" in error_of({"model_type": "distilbert", "config": {"dim": 384, "hidden_size": 384}})


def test_backbone_only_where_the_config_takes_one():
    assert error_of({"model_type": "bert", "backbone": {"model_type": "resnet"}}).startswith(
        "backbone: bert takes no backbone")


def test_backbone_type_must_be_a_backbone():
    message = error_of({"model_type": "maskformer", "backbone": {"model_type": "bert"}})
    assert message.startswith("backbone.model_type: 'bert' has no backbone class; allowed:")
    assert "resnet" in message


def test_backbone_config_attributes_are_checked():
    assert error_of({"model_type": "maskformer", "backbone": {"model_type": "resnet", "config": {"depth": 2}}}
                    ).startswith("backbone.config.depth: ResNetConfig has no attribute 'depth'")


def test_backbone_config_cannot_hide_in_config():
    assert error_of({"model_type": "maskformer", "config": {"backbone_config": {"model_type": "resnet"}}}
                    ).startswith("config.backbone_config: set the backbone with the spec's \"backbone\" key")


@pytest.mark.parametrize("key,value", [("backbone", "microsoft/resnet-50"), ("use_timm_backbone", True)])
def test_the_guides_hub_backbone_arguments_point_to_the_backbone_key(key, value):
    assert error_of({"model_type": "maskformer", "config": {key: value}}).startswith(
        f"config.{key}: {key!r} makes transformers fetch the backbone from the hub; set it with the spec's "
        '"backbone" key')


def test_unknown_timm_model():
    assert error_of({"model_type": "maskformer", "backbone": {"timm": "resnet9000"}}).startswith(
        "backbone.timm: 'resnet9000' is not a timm model")


def test_offline_hub_id_fails_at_once():
    message = error_of({"model_type": "bert", "pretrained": "google-bert/bert-base-uncased"})  # timed in benchmarks/bounded_work.py
    assert message.startswith("pretrained: 'google-bert/bert-base-uncased' is not a local folder and the hub "
                              "cannot be reached")


def test_missing_pretrained_folder():
    assert error_of({"model_type": "bert", "pretrained": "./no/such/folder"}) == \
        "pretrained: folder './no/such/folder' does not exist"


def test_pretrained_keeps_values_equal_to_class_defaults(minilm_dir):
    # MiniLM has 6 layers; asking for 12 (the class default) must not be dropped as "default" (layers 6 to 11
    # are then new; see test_provenance).
    spec = validate(Spec.from_dict({"model_type": "bert", "pretrained": str(minilm_dir),
                                    "config": {"num_hidden_layers": 12}}), deep=False)
    assert spec.config == {"num_hidden_layers": 12}


def test_error_in_words_is_placed_at_the_field():
    assert error_of({"model_type": "bert", "config": {"hidden_size": 100}}).startswith(
        "config.hidden_size: The hidden size (100) is not a multiple of the number of attention heads (12)")


def test_grouped_query_heads_must_divide():
    assert error_of({"model_type": "llama", "config": {"num_attention_heads": 32, "num_key_value_heads": 7}}) == \
        "config.num_key_value_heads: must divide num_attention_heads (32); got 7"


def test_unnamed_cause_falls_back_to_the_edited_field():
    assert error_of({"model_type": "gpt2", "config": {"n_embd": 100}}).startswith("config.n_embd: ")


def test_an_unknown_activation_is_refused_as_a_choice_with_the_closest_ones():
    # main let it through to transformers' KeyError, a list of 24 names in one line
    assert error_of({"model_type": "distilbert", "config": {"activation": "relu6x"}}) == (
        "config.activation: 'relu6x' is not one of the 24 activations transformers knows (did you mean relu6, relu, "
        "relu2?); see `python -m composer fields`")


def test_a_value_transformers_cannot_look_up_is_named_at_its_field():
    # DETR looks activation_function up in ACT2FN: now refused as a choice first, the value still cut short
    err = error_of({"model_type": "detr", "config": {"encoder_layers": 1, "activation_function": "v" * 5000}})
    assert err.startswith("config.activation_function: 'vvv") and "(5,000 characters)" in err and len(err) < 250


# Keyword arguments transformers' config classes consume beyond their fields (issue 9, item 3).
TINY_T5 = {"d_model": 16, "num_layers": 1, "num_decoder_layers": 1, "num_heads": 2, "d_kv": 8, "d_ff": 32,
           "vocab_size": 64}


@pytest.mark.parametrize("data,attribute,expected", [
    ({"model_type": "resnet", "config": {"out_features": ["stage1", "stage3"]}}, "out_indices", [1, 3]),
    ({"model_type": "convnext", "config": {"out_indices": [2, 4]}}, "out_features", ["stage2", "stage4"]),
    ({"model_type": "llama", "config": {"rope_theta": 500000.0}}, "rope_parameters",
     {"rope_theta": 500000.0, "rope_type": "default"}),
    ({"model_type": "mistral", "config": {"rope_theta": 1e6}}, "rope_parameters",
     {"rope_theta": 1e6, "rope_type": "default"}),
    ({"model_type": "qwen2", "config": {"rope_scaling": {"rope_type": "linear", "factor": 2.0}}},
     "rope_parameters", {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}),
    ({"model_type": "t5", "config": {"decoder_start_token_id": 0}}, "decoder_start_token_id", 0),
    ({"model_type": "detr", "config": {"use_timm_backbone": False}}, "backbone_config.model_type", "resnet"),
])
def test_keyword_arguments_the_config_class_consumes_are_accepted_as_written(data, attribute, expected):
    from operator import attrgetter

    from composer.build import build_config

    normal = check(data)
    assert normal.config == data["config"]  # kept as the person wrote it, not renamed
    assert attrgetter(attribute)(build_config(normal)) == expected


def test_a_name_the_class_does_not_take_is_still_refused_with_a_suggestion():
    assert error_of({"model_type": "resnet", "config": {"out_featurs": ["stage1"]}}) == (
        "config.out_featurs: ResNetConfig has no attribute 'out_featurs'; did you mean out_features?")
    assert error_of({"model_type": "llama", "config": {"rope_thetaa": 1.0}}).startswith(
        "config.rope_thetaa: LlamaConfig has no attribute 'rope_thetaa'; did you mean rope_theta")
    assert "has no attribute 'decoder_start_token_id'" in error_of(
        {"model_type": "distilbert", "config": {"decoder_start_token_id": 0}})


def test_a_consumed_keyword_is_type_checked():
    assert error_of({"model_type": "llama", "config": {"rope_theta": "big"}}).startswith(
        "config.rope_theta: expected float, got 'big'")


def test_a_stage_the_backbone_does_not_have_is_named_at_its_field():
    assert error_of({"model_type": "resnet", "config": {"out_features": ["stage9"]}}).startswith(
        "config.out_features")


def test_t5_with_decoder_start_token_id_trains_a_step_with_labels():
    import torch

    from composer.build import build_model

    model = build_model({"model_type": "t5", "architecture": "T5ForConditionalGeneration",
                         "config": {**TINY_T5, "decoder_start_token_id": 0}})
    ids = torch.tensor([[5, 6, 7, 1]])
    loss = model(input_ids=ids, labels=torch.tensor([[8, 9, 1]])).loss
    loss.backward()
    torch.optim.SGD(model.parameters(), lr=0.1).step()
    assert torch.isfinite(loss)


def test_a_resnet_backbone_config_with_out_features_builds():
    from composer.build import build_model

    spec = {"model_type": "maskformer", "architecture": "MaskFormerForInstanceSegmentation",
            "backbone": {"model_type": "resnet", "config": {"out_features": ["stage1", "stage2", "stage3", "stage4"],
                                                            "depths": [1, 1, 1, 1]}}}
    assert check(spec).backbone["config"]["out_features"] == ["stage1", "stage2", "stage3", "stage4"]
    model = build_model(spec, device="meta")
    assert model.config.backbone_config.out_indices == [1, 2, 3, 4]
