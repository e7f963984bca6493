"""Parameter counts users check against papers and model cards; memory; the module tree."""

import pytest

from composer import Spec, summarize
from composer.summary import format_summary, forward_summary

LLAMA_70B = {"hidden_size": 8192, "num_hidden_layers": 80, "intermediate_size": 28672, "vocab_size": 128256,
             "num_attention_heads": 64, "num_key_value_heads": 8}


def test_default_distilbert_has_its_published_size():
    s = summarize(Spec(model_type="distilbert"))
    assert s["total"] == 66_362_880
    assert s["trainable"] == 66_362_880
    assert s["memory"] == {"fp32": 66_362_880 * 4, "fp16": 66_362_880 * 2, "bf16": 66_362_880 * 2,
                           "int8": 66_362_880}


def test_tied_weights_count_once():
    base = summarize(Spec(model_type="distilbert"))["total"]
    mlm = summarize(Spec(model_type="distilbert", architecture="DistilBertForMaskedLM"))
    # The MLM head adds vocab_transform (768*768+768), a LayerNorm (2*768) and the projector's bias
    # (30522); its weight is the word embedding matrix, tied, so not counted again.
    assert mlm["total"] == base + 768 * 768 + 768 + 2 * 768 + 30522
    untied = summarize(Spec(model_type="distilbert", architecture="DistilBertForMaskedLM",
                            config={"tie_word_embeddings": False}))
    assert untied["total"] == mlm["total"] + 30522 * 768


def test_embedding_parameters():
    s = summarize(Spec(model_type="distilbert"))
    assert s["embeddings"] == 30522 * 768 + 512 * 768  # word + position embeddings


def test_embeddings_are_the_token_position_and_patch_embeddings():
    # main counted nn.Embedding only: ViT's were 0, although ViTEmbeddings holds 742,656
    vit = summarize(Spec(model_type="vit"))
    assert vit["embeddings"] == 768 + 197 * 768 + (768 * 3 * 16 * 16 + 768) == 742_656  # cls, positions, patches
    embeddings = next(c for c in vit["tree"]["children"] if c["name"] == "embeddings")
    assert embeddings["params"] == vit["embeddings"]
    bert = summarize(Spec(model_type="bert"))
    assert bert["embeddings"] == (30522 + 512 + 2) * 768  # word, position, token type; not its LayerNorm


def test_70b_llama_answers_at_once_on_meta():
    # A real 70B build would need 280 GB: that this returns at all shows it is built on meta (timed in
    # benchmarks/summary_latency.py).
    s = summarize(Spec(model_type="llama", architecture="LlamaForCausalLM", config=LLAMA_70B))
    assert s["total"] == 70_553_706_496
    assert s["memory"]["bf16"] == 2 * 70_553_706_496


def test_tree_counts_add_up():
    s = summarize(Spec(model_type="distilbert", architecture="DistilBertForSequenceClassification"))
    tree = s["tree"]
    assert tree["class"] == "DistilBertForSequenceClassification" and tree["params"] == s["total"]
    assert sum(c["params"] for c in tree["children"]) == s["total"]
    names = [c["name"] for c in tree["children"]]
    assert names[:3] == ["distilbert", "pre_classifier", "classifier"]


def test_format_lists_layers_with_share():
    text = format_summary(summarize(Spec(model_type="distilbert")), depth=1)
    assert "66,362,880" in text
    assert "embeddings" in text and "transformer" in text and "100.0%" in text


@pytest.mark.parametrize("spec, shape", [
    ({"model_type": "distilbert", "config": {"n_layers": 1, "dim": 64, "n_heads": 2, "hidden_dim": 64}}, "[1, 16, 64]"),
    ({"model_type": "vit", "config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                                      "intermediate_size": 32, "image_size": 32, "patch_size": 8}}, "[1, 17, 32]"),
    ({"model_type": "wav2vec2", "config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                                           "intermediate_size": 32, "conv_dim": [32, 32], "conv_stride": [5, 4],
                                           "conv_kernel": [10, 4], "num_conv_pos_embeddings": 16}}, "[1, 799, 32]"),
])
def test_forward_summary_makes_inputs_for_the_modality(spec, shape):
    text = forward_summary(spec)
    assert "Total params" in text
    assert shape in text
