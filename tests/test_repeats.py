"""Repeated identical blocks are counted once and multiplied (issue 9, item 4): the summary of a design
from a few-layer build equals the whole build's, figure for figure and row for row, and a design whose
layers differ is built whole."""

from __future__ import annotations

import pytest

from composer import Spec, repeats, summarize
from composer.validation import ready
from composer.build import build_meta_model
from composer.counting import summarize_model, weight_bytes

SMALL_MOE = {"hidden_size": 256, "intermediate_size": 512}


@pytest.mark.parametrize("model_type,architecture,config", [
    ("llama", "LlamaForCausalLM", {"num_hidden_layers": 40}),
    ("bert", None, {"num_hidden_layers": 30}),
    ("t5", None, {"num_layers": 20}),  # its first block alone holds the relative-position table
    ("vit", None, {"num_hidden_layers": 25}),
    ("whisper", None, {"encoder_layers": 20, "decoder_layers": 18}),  # two counts, two lists
    ("mixtral", None, {"num_hidden_layers": 24, **SMALL_MOE}),
    ("deepseek_v3", None, {"num_hidden_layers": 20, "first_k_dense_replace": 3, "moe_intermediate_size": 64,
                           **SMALL_MOE}),  # three dense layers, then MoE ones
    ("distilbert", "DistilBertForSequenceClassification", {"n_layers": 40}),
])
def test_few_layers_multiplied_equal_the_whole_build(model_type, architecture, config):
    spec = ready(Spec(model_type=model_type, architecture=architecture, config=config))
    few = repeats.measure(spec)
    assert few is not None  # counted from a few layers
    model = build_meta_model(spec)
    assert few.summary == summarize_model(model)  # totals, embeddings, trainable, memory, the whole tree
    assert few.weight_bytes == weight_bytes(model)


@pytest.mark.parametrize("model_type,config", [
    ("gemma2", {"num_hidden_layers": 26}),  # layer_types alternates sliding and full attention
    ("qwen2_moe", {"num_hidden_layers": 24, "decoder_sparse_step": 2}),  # a MoE layer every second one
])
def test_layers_that_differ_are_built_whole_and_still_exact(model_type, config):
    spec = ready(Spec(model_type=model_type, config=config))
    whole = summarize_model(build_meta_model(spec))
    assert summarize(spec) == whole
    few = repeats.measure(spec)
    assert few is None or few.summary == whole


def test_a_pretrained_design_is_built_whole(minilm_dir):
    assert repeats.measure(ready(Spec(model_type="bert", pretrained=str(minilm_dir)))) is None


def test_the_70b_design_is_counted_from_a_few_layers():
    spec = ready(Spec(model_type="llama", architecture="LlamaForCausalLM", config={
        "hidden_size": 8192, "num_hidden_layers": 80, "intermediate_size": 28672, "vocab_size": 128256,
        "num_attention_heads": 64, "num_key_value_heads": 8}))
    few = repeats.measure(spec)
    assert few is not None and few.summary["total"] == 70_553_706_496
    layers = next(c for c in few.summary["tree"]["children"][0]["children"] if c["name"] == "layers")
    assert [c["name"] for c in layers["children"]] == [str(i) for i in range(80)]


def test_a_thousand_distilbert_layers_summarise_from_a_few():
    spec = ready(Spec(model_type="distilbert", config={"n_layers": 1000}))
    few = repeats.measure(spec)
    assert few is not None
    assert few.summary["total"] == 66_362_880 + 994 * 7_087_872  # each TransformerBlock is 7,087,872
