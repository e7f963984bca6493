"""The architecture drawing (issue 10, item 3): a design's blocks in data-flow order, the repeated
block once with ×N opened into its parts, backbone → neck → head for a backbone design; each block's
parameters adding up to the summary's total, its output shape for the sample input, and the config
fields that shape it, read from transformers' own code."""

from __future__ import annotations

import pytest

from composer import Spec, repeats, summarize
from composer.architecture import architecture
from composer.errors import SpecError
from composer.validation import ready

TINY_LLAMA = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 12, "num_attention_heads": 4,
              "num_key_value_heads": 2, "vocab_size": 1000}
TINY_BERT = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 3, "num_attention_heads": 4,
             "vocab_size": 1000, "num_labels": 3}


def by_label(drawing: dict) -> dict[str, dict]:
    return {block["label"]: block for block in drawing["blocks"]}


def adds_up(spec) -> None:
    drawing = architecture(spec)
    assert sum(b["params"] for b in drawing["blocks"]) == summarize(spec)["total"] == drawing["total"]
    for block in drawing["blocks"]:
        if block["parts"]:
            assert sum(p["each"] for p in block["parts"]) <= block["each"]


def test_a_decoder_is_embeddings_then_its_layers_once_then_norm_and_head():
    spec = Spec(model_type="llama", architecture="LlamaForCausalLM", config=TINY_LLAMA)
    drawing = architecture(spec)
    assert [(b["label"], b["kind"], b["repeat"]) for b in drawing["blocks"]] == [
        ("embed_tokens", "embeddings", 1), ("layers", "repeated", 12), ("norm", "norm", 1), ("lm_head", "head", 1)]
    blocks = by_label(drawing)
    layers = blocks["layers"]
    assert layers["class"] == "LlamaDecoderLayer"
    assert layers["params"] == 12 * layers["each"]
    assert [p["label"] for p in layers["parts"]] == ["input_layernorm", "self_attn", "post_attention_layernorm", "mlp"]
    assert {"config.num_hidden_layers", "config.hidden_size", "config.intermediate_size",
            "config.num_attention_heads", "config.num_key_value_heads"} <= set(layers["fields"])
    parts = {p["label"]: p for p in layers["parts"]}
    assert {"config.num_attention_heads", "config.num_key_value_heads"} <= set(parts["self_attn"]["fields"])
    assert "config.intermediate_size" in parts["mlp"]["fields"]
    assert "config.intermediate_size" not in parts["self_attn"]["fields"]
    assert {"config.vocab_size", "config.hidden_size"} <= set(blocks["embed_tokens"]["fields"])
    assert {"config.vocab_size", "config.hidden_size"} <= set(blocks["lm_head"]["fields"])
    assert drawing["input"] == "input_ids (1, 16)"
    assert layers["shape"] == "(1, 16, 64)"
    assert blocks["lm_head"]["shape"] == "(1, 16, 1000)"
    adds_up(spec)


def test_an_encoder_with_a_classification_head():
    spec = Spec(model_type="bert", architecture="BertForSequenceClassification", config=TINY_BERT)
    drawing = architecture(spec)
    assert [(b["label"], b["repeat"]) for b in drawing["blocks"]] == [
        ("embeddings", 1), ("layer", 3), ("pooler", 1), ("classifier", 1)]
    blocks = by_label(drawing)
    assert {"config.hidden_size", "config.num_labels"} <= set(blocks["classifier"]["fields"])
    assert blocks["classifier"]["shape"] == "(1, 3)"  # one row of logits: the pooler took the first token
    assert blocks["pooler"]["shape"] == "(1, 64)"
    assert [p["label"] for p in blocks["layer"]["parts"]] == ["attention", "intermediate", "output"]
    adds_up(spec)


def test_a_tied_head_is_counted_once_as_the_summary_counts_it():
    spec = Spec(model_type="distilbert", architecture="DistilBertForMaskedLM", config={"n_layers": 2})
    projector = by_label(architecture(spec))["vocab_projector"]
    assert projector["tied"] == {"params": 30522 * 768, "with": "embeddings"}
    assert projector["params"] == 30522  # its bias: the weight is the token embeddings'
    adds_up(spec)


def test_a_backbone_design_is_backbone_then_neck_then_decoder_and_heads():
    spec = Spec.load("examples/maskformer_resnet.json")
    drawing = architecture(spec)
    names = [b["name"] for b in drawing["blocks"]]
    backbone, neck = names.index("model.pixel_level_module.encoder"), names.index("model.pixel_level_module.decoder")
    layers = next(b for b in drawing["blocks"] if b["kind"] == "repeated")
    assert backbone < neck < names.index(layers["name"]) < names.index("class_predictor")
    blocks = {b["name"]: b for b in drawing["blocks"]}
    encoder = blocks["model.pixel_level_module.encoder"]
    assert encoder["kind"] == "backbone" and encoder["class"] == "ResNetBackbone"
    assert {"backbone.model_type", "backbone.config.hidden_sizes", "backbone.config.depths"} <= set(encoder["fields"])
    assert encoder["shape"] == "4 maps (1, 32, 56, 56) … (1, 256, 7, 7)"  # the feature maps the neck reads
    assert "config.decoder_config.decoder_layers" in layers["fields"]
    assert layers["repeat"] == spec.config["decoder_config"]["decoder_layers"]
    assert "config.num_labels" in blocks["class_predictor"]["fields"]
    adds_up(spec)


def test_the_70b_design_is_drawn_from_a_few_layers():
    spec = ready(Spec.load("examples/llama70b.json"))
    drawing = architecture(spec)
    layers = by_label(drawing)["layers"]
    assert layers["repeat"] == 80
    assert drawing["total"] == 70_553_706_496
    assert sum(b["params"] for b in drawing["blocks"]) == drawing["total"]
    assert len(repeats.measured(spec).model.model.layers) < 80  # nothing built 80 layers
    assert layers["shape"] == "(1, 16, 8192)"
    more = architecture(spec.replace(config={**spec.config, "num_hidden_layers": 81}))
    assert by_label(more)["layers"]["repeat"] == 81


def test_a_design_that_does_not_build_is_refused_at_its_field():
    with pytest.raises(SpecError) as err:
        architecture(Spec(model_type="distilbert", config={"n_heads": 5}))
    assert err.value.field == "config.n_heads"
