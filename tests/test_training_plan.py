"""The training plan (issue 11, item 1): its peak for one step on one device is what torch measures
when the step really runs here, its model states follow the layout, its settings are refused at
their field, and the command line prints it."""

from __future__ import annotations

import json

import pytest

from composer.build import build_meta_model
from composer.errors import SpecError
from composer.training import actual, layouts
from composer.training.plan import plan
from composer.training.settings import Settings
from composer.training.states import states_of
from composer.validation import ready

from test_cli import EXAMPLES

TINY_LLAMA = {"hidden_size": 64, "intermediate_size": 128, "vocab_size": 500, "num_attention_heads": 4,
              "num_key_value_heads": 2}

# One small design of each kind, each with the settings its step runs with.
DESIGNS = {
    "decoder": ({"model_type": "llama", "architecture": "LlamaForCausalLM",
                 "config": {**TINY_LLAMA, "num_hidden_layers": 2}},
                {"micro_batch": 2, "sequence_length": 64, "precision": "fp32"}),
    "decoder, 10 blocks from 2 and 3, bf16-mixed": (
        {"model_type": "llama", "architecture": "LlamaForCausalLM",
         "config": {"hidden_size": 32, "num_hidden_layers": 10, "intermediate_size": 64, "vocab_size": 300,
                    "num_attention_heads": 2, "num_key_value_heads": 1}},
        {"micro_batch": 2, "sequence_length": 64}),
    "encoder, sgd": ({"model_type": "bert", "architecture": "BertForMaskedLM",
                      "config": {"hidden_size": 64, "num_hidden_layers": 2, "intermediate_size": 128,
                                 "vocab_size": 500, "num_attention_heads": 4}},
                     {"micro_batch": 2, "sequence_length": 64, "precision": "fp32", "optimizer": "sgd-momentum"}),
    "encoder-decoder": ({"model_type": "t5", "architecture": "T5ForConditionalGeneration",
                         "config": {"d_model": 32, "num_layers": 2, "num_decoder_layers": 2, "num_heads": 2,
                                    "d_kv": 16, "d_ff": 64, "vocab_size": 300}},
                        {"micro_batch": 2, "sequence_length": 32, "precision": "fp32"}),
    "vision, adafactor": ({"model_type": "vit", "architecture": "ViTForImageClassification",
                           "config": {"hidden_size": 32, "num_hidden_layers": 2, "intermediate_size": 64,
                                      "num_attention_heads": 2, "image_size": 32, "patch_size": 8, "num_labels": 3}},
                          {"micro_batch": 4, "precision": "fp32", "optimizer": "adafactor"}),
    "audio": ({"model_type": "whisper", "architecture": "WhisperForConditionalGeneration",
               "config": {"d_model": 32, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 2,
                          "decoder_attention_heads": 2, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64,
                          "max_source_positions": 100, "max_target_positions": 64, "num_mel_bins": 16}},
              {"micro_batch": 2, "sequence_length": 16, "precision": "fp32"}),
    "mixture of experts": ({"model_type": "mixtral", "architecture": "MixtralForCausalLM",
                            "config": {"hidden_size": 32, "num_hidden_layers": 2, "intermediate_size": 64,
                                       "vocab_size": 300, "num_attention_heads": 2, "num_key_value_heads": 1,
                                       "num_local_experts": 4, "num_experts_per_tok": 2}},
                           {"micro_batch": 2, "sequence_length": 32, "precision": "fp32"}),
    "backbone design": (json.loads((EXAMPLES / "maskformer_resnet.json").read_text()),
                        {"micro_batch": 2, "image_size": 32, "precision": "fp32"}),
    "tied weights, bf16-mixed": ({"model_type": "gpt2", "architecture": "GPT2LMHeadModel",
                                  "config": {"n_embd": 32, "n_layer": 2, "n_head": 2, "vocab_size": 300,
                                             "n_positions": 128, "bos_token_id": 0, "eos_token_id": 0}},
                                 {"micro_batch": 2, "sequence_length": 64}),
}


@pytest.mark.parametrize("kind", DESIGNS)
def test_the_planned_peak_is_within_10_percent_of_a_real_step(kind):
    spec, settings = DESIGNS[kind]
    planned = plan(spec, settings)
    measured = actual.peak_bytes(spec, Settings(**settings))
    assert planned.fits and planned.devices == 1
    assert abs(planned.peak - measured) <= 0.10 * measured, (planned.peak, measured)


def test_the_tied_table_is_counted_once():
    spec, settings = DESIGNS["tied weights, bf16-mixed"]
    model = build_meta_model(ready(spec))
    assert model.lm_head.weight is model.transformer.wte.weight
    p = plan(spec, settings)
    assert p.params == sum({id(q): q.numel() for q in model.parameters()}.values())
    assert p.total_states["gradients"] == 4 * p.params  # the head's table has one gradient, the embedding's


LLAMA2_7B = {"model_type": "llama", "architecture": "LlamaForCausalLM", "config": {}}  # Llama's defaults are Llama-2-7B's


def test_llama2_7b_model_states_under_full_shard_on_8():
    model = build_meta_model(ready(LLAMA2_7B))
    states = states_of(model, "adamw")
    assert states.params == 6_738_415_616
    demand = layouts.demand("fsdp", states, 0, 0, 0, 0, 2, 1).on(8)
    per_device = demand["weights"] + demand["gradients"] + demand["optimizer"]
    # 16 B/param over 8 devices: fp32 weights (+ the rotary buffers), fp32 gradients, AdamW's two fp32
    # moments (+ a 4-byte step for each of the 291 tensors). 12.55 GiB, as the ZeRO paper's 16 B/param;
    # DeepSpeed's ZeRO-3 estimator assumes 18 B/param and gives 14.61 GiB.
    p, buffers = 6_738_415_616, sum(b.numel() * b.element_size() for b in model.buffers())
    assert len(list(model.parameters())) == 291
    assert per_device == -(-(4 * p + buffers) // 8) + 4 * p // 8 + -(-(8 * p + 4 * 291) // 8)
    assert round(per_device / 2**30, 2) == 12.55


@pytest.mark.parametrize("given,field", [
    ({"micro_batch": 0}, "plan.micro_batch"),
    ({"micro_batch": 10**9}, "plan.micro_batch"),
    ({"precision": "fp8"}, "plan.precision"),
    ({"layout": "single", "devices": 4}, "plan.devices"),
    ({"tensor_parallel": 3, "devices": 8, "layout": "fsdp"}, "plan.devices"),
    ({"device": "custom"}, "plan.device_memory_gb"),
    ({"headroom": 0.95}, "plan.headroom"),
    ({"mfu": 0}, "plan.mfu"),
    ({"sequence_length": True}, "plan.sequence_length"),
    ({"batch": 2}, "plan.batch"),
])
def test_a_bad_setting_is_refused_at_its_field(given, field):
    with pytest.raises(SpecError) as err:
        Settings.from_dict(given)
    assert err.value.field == field


def test_a_sequence_longer_than_the_design_allows_is_refused():
    spec, settings = DESIGNS["tied weights, bf16-mixed"]
    with pytest.raises(SpecError) as err:
        plan(spec, {**settings, "sequence_length": 129})
    assert err.value.field == "plan.sequence_length"


def test_the_70b_design_fits_only_sharded_and_says_what_to_change():
    spec = EXAMPLES / "llama70b.json"
    settings = {"micro_batch": 1, "sequence_length": 4096, "recomputation": "per-block"}
    single = plan(spec, settings)
    assert not single.fits and single.devices is None and single.advice.startswith("plan.layout:")
    sharded = plan(spec, {**settings, "layout": "fsdp"})
    assert sharded.fits and sharded.peak <= sharded.usable_memory
    fewer = plan(spec, {**settings, "layout": "fsdp", "devices": sharded.devices - 1})
    assert not fewer.fits  # the fewest that fit
    assert sharded.measured["models_run"] == 2  # 2 and 3 blocks on fake tensors, not 80
    bigger = plan(spec, {**settings, "layout": "fsdp", "device": "141"})
    assert bigger.devices < sharded.devices and bigger.measured == sharded.measured  # nothing re-measured
    assert [s["name"] for s in sharded.segments()] == ["weights", "gradients", "optimizer", "gathered", "activations"]
    assert sum(s["bytes"] for s in sharded.bars()[0]["segments"]) == sharded.peak
    assert sharded.kv_cache_per_token == 2 * 80 * 8 * 128 * 2  # 320 KiB: layers x kv heads x head dim, bf16


def test_plan_command_json_and_errors(cli_here):
    out = cli_here("plan", EXAMPLES / "distilbert.json", "--micro-batch", "2", "--sequence-length", "64", "--json")
    data = json.loads(out.stdout)
    assert data["fits"] and data["devices"] == 1 and data["architecture"] == "DistilBertForSequenceClassification"
    assert sum(s["bytes"] for s in data["segments"]) == data["peak"]
    text = cli_here("plan", EXAMPLES / "distilbert.json", "--micro-batch", "2", "--sequence-length", "64").stdout
    assert "peak" in text and "FLOPs per token" in text
    for option, value, line in (("--micro-batch", "two", "error: plan.micro_batch: expected an integer, got 'two'\n"),
                                ("--layout", "fsd", "error: plan.layout: 'fsd' is not one of single, ddp, zero-1, "
                                 "zero-2, fsdp\n")):
        bad = cli_here("plan", EXAMPLES / "distilbert.json", option, value)
        assert (bad.returncode, bad.stderr, bad.stdout) == (2, line, "")
