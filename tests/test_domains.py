"""Value domains (issue 9, item 4): every value a person can type is checked against what it may be
before anything is built, and what transformers or torch raises while building is said at the field,
with what is allowed."""

from __future__ import annotations

import pytest

from composer import Spec, SpecError
from composer.domains import activations
from composer.fields import check_value, fields_by_name
from composer.validation import validate


def error_of(data) -> SpecError:
    with pytest.raises(SpecError) as err:
        validate(Spec.from_dict(data))
    return err.value


# ----- the examples: main accepted them or let torch's words through ---------------------


@pytest.mark.parametrize("config,field", [
    ({"n_layers": -1}, "config.n_layers"),  # main: accepted, a 0-layer model
    ({"n_layers": 0}, "config.n_layers"),
    ({"vocab_size": 0}, "config.vocab_size"),  # main: "index 0 is out of bounds for dimension 0 with size 0"
    ({"vocab_size": -3}, "config.vocab_size"),  # main: "Trying to create tensor with negative dimension -3"
    ({"n_heads": 0}, "config.n_heads"),  # main: "integer modulo by zero"
])
def test_a_size_or_count_below_one_is_refused_at_its_field(config, field):
    err = error_of({"model_type": "distilbert", "config": config})
    assert str(err) == f"{field}: expected an integer >= 1, got {next(iter(config.values()))}"


def test_an_unknown_activation_names_the_closest_choices_and_where_to_see_them_all():
    err = error_of({"model_type": "distilbert", "config": {"activation": "relu6x"}})
    assert str(err) == (f"config.activation: 'relu6x' is not one of the {len(activations())} activations transformers knows "
                        "(did you mean relu6, relu, relu2?); see `python -m composer fields`")


@pytest.mark.parametrize("options,message", [
    ({"image_mean": "lots"},  # main: "new(): invalid data type 'str'"
     "image_processor.options.image_mean: expected float | list[float] | tuple[float, ...] | None, got 'lots'"),
    ({"size": {"height": 0, "width": 0}},  # main: a dump of a SizeDict
     'image_processor.options.size: every size is a whole number of pixels >= 1 (an int, or a dict such as '
     '{"height": 224, "width": 224}); got {\'height\': 0, \'width\': 0}'),
    ({"crop_size": {"height": -5, "width": 10}}, None),
    ({"image_std": [0.5, 0, 0.5]}, "image_processor.options.image_std: a std of 0 divides every pixel by 0; "
                                   "got [0.5, 0, 0.5]"),
    ({"do_resize": "yes"}, "image_processor.options.do_resize: expected bool | None, got 'yes'"),
])
def test_image_processor_options_are_checked_against_their_domain(options, message):
    err = error_of({"model_type": "vit", "image_processor": {"class": "ViTImageProcessor", "options": options}})
    assert err.field == f"image_processor.options.{next(iter(options))}"
    if message:
        assert str(err) == message


def test_image_options_json_writes_as_ints_are_still_numbers():
    validate(Spec(model_type="vit", image_processor={"class": "ViTImageProcessor", "options": {
        "image_mean": [0, 0, 0], "image_std": [1, 1, 1], "rescale_factor": 1, "size": {"shortest_edge": 200}}}))


# ----- the domains the form carries ---------------------------------------------------------------


def test_the_distilbert_form_carries_its_domains():
    f = fields_by_name("distilbert")
    for name in ("vocab_size", "n_layers", "n_heads", "dim", "hidden_dim", "max_position_embeddings"):
        assert (f[name].minimum, f[name].maximum) == (1, None), name
    for name in ("dropout", "attention_dropout", "qa_dropout", "seq_classif_dropout"):
        assert (f[name].minimum, f[name].maximum) == (0.0, 1.0), name
    assert f["activation"].type == "choice" and set(f["activation"].choices) == set(activations())
    assert f["pad_token_id"].minimum is None  # an id, not a size
    assert {"minimum", "maximum", "choices"} <= set(f["n_layers"].to_dict())


def test_transformers_own_validators_give_the_domain():
    # LlamaConfig.initializer_range is interval(min=0.0, max=1.0); GradiumPhononTts' sizes positive_int_field
    llama = fields_by_name("llama")
    assert (llama["initializer_range"].minimum, llama["initializer_range"].maximum) == (0.0, 1.0)
    assert llama["rms_norm_eps"].minimum == 0.0 and llama["hidden_act"].type == "choice"
    with pytest.raises(SpecError, match=r"config.initializer_range: expected a number from 0 to 1, got 5.0"):
        check_value(llama["initializer_range"], 5.0, "config.initializer_range")


@pytest.mark.parametrize("model_type,config", [
    ("deepseek_v3", {"first_k_dense_replace": 0, "n_shared_experts": 0}),  # counts that may be 0
    ("qwen2_moe", {"num_experts": 0}),  # 0 experts: a dense model
    ("bert", {"pad_token_id": 0, "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 1.0}),
    ("llama", {"rms_norm_eps": 0.0, "num_key_value_heads": None}),
])
def test_values_real_configs_use_are_not_refused(model_type, config):
    validate(Spec(model_type=model_type, config=config), deep=False)


@pytest.mark.parametrize("model_type,config,expected", [
    ("phi", {"partial_rotary_factor": -1.0}, "expected a number from 0 to 1, got -1.0"),  # main: a torch.arange error
    ("convbert", {"initializer_range": -1.0}, "expected a number >= 0, got -1.0"),  # main: "normal expects std >= 0.0"
    ("encodec", {"codebook_size": 0}, "expected an integer >= 1, got 0"),  # main: "math domain error"
])
def test_fractions_init_stds_and_codebooks_have_their_domain(model_type, config, expected):
    assert str(error_of({"model_type": model_type, "config": config})) == f"config.{next(iter(config))}: {expected}"


def test_a_non_finite_float_is_refused():
    with pytest.raises(SpecError, match=r"config.layer_norm_eps: expected a number >= 0, got -1.0"):
        validate(Spec(model_type="bert", config={"layer_norm_eps": -1.0}), deep=False)
    f = fields_by_name("bert")["initializer_range"]
    with pytest.raises(SpecError, match=r"expected a finite number, got nan"):
        check_value(f, float("nan"), "config.initializer_range")


# ----- what a build raises, said at the field ----------------------------------------------------


@pytest.mark.parametrize("model_type,config,expected", [
    ("vit", {"hidden_size": 1},  # main: "0.0 cannot be raised to a negative power"
     "config.hidden_size: hidden_size 1 makes a size transformers divides by 0 (a head, group or block of width 0); "
     "the default 768 builds"),
    ("swin", {"mlp_ratio": -1.0},  # main: "Trying to create tensor with negative dimension -96: [-96, 96]"
     "config.mlp_ratio: mlp_ratio -1.0 makes a layer of negative size [-96, 96]; the default 4.0 builds"),
    ("wav2vec2", {"num_conv_pos_embedding_groups": 0},  # main: "groups must be a positive integer"
     "config.num_conv_pos_embedding_groups: num_conv_pos_embedding_groups 0 does not split into whole convolution "
     "groups (torch: groups must be a positive integer); the default 16 builds"),
    ("swinv2", {"window_size": 0},  # main: "upper bound and lower bound inconsistent with step sign"
     "config.window_size: window_size 0 makes a range of negative length; the default 7 builds"),
    ("llama", {"hidden_size": 100},  # main: "Class validation error for validator 'validate_architecture': ..."
     "config.hidden_size: The hidden size (100) is not a multiple of the number of attention heads (32)."),
])
def test_a_build_error_is_said_at_the_field_with_what_builds(model_type, config, expected):
    assert str(error_of({"model_type": model_type, "config": config})) == expected
