"""Where every weight of a pretrained design comes from (issue 12), as transformers itself reports it.

Each case is a checkpoint folder (the real MiniLM one, or a tiny one saved here) and a design pretrained on
it: another head, fewer or more layers, a resized tensor. The engine's figures, read from the safetensors
headers and a meta model only, must equal what ``from_pretrained(folder, output_loading_info=True)`` reports
when it really loads: missing keys (new), unexpected keys (unused), mismatched keys (resized).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import transformers
from hypothesis import given, settings
from hypothesis import strategies as st
from safetensors.torch import load_file, save_file

from composer import SpecError, catalog, provenance
from composer.build import build_config, build_model
from composer.summary import format_summary, summarize
from composer.validation import ready
from composer.module_tree import compact

TEXT = {"num_hidden_layers": 2, "hidden_size": 16, "num_attention_heads": 2, "intermediate_size": 32}
LLAMA = {**TEXT, "num_key_value_heads": 1, "vocab_size": 64}
SEQ2SEQ = {"d_model": 16, "encoder_layers": 2, "decoder_layers": 2, "encoder_attention_heads": 2,
           "decoder_attention_heads": 2, "encoder_ffn_dim": 32, "decoder_ffn_dim": 32, "vocab_size": 48,
           "max_position_embeddings": 32}

# Checkpoints saved here (save_pretrained of a tiny design's model): name -> (model_type, architecture, config).
CHECKPOINTS = {
    "bert": ("bert", None, {**TEXT, "vocab_size": 40, "max_position_embeddings": 32}),
    "bert_mlm": ("bert", "BertForMaskedLM", {**TEXT, "vocab_size": 40, "max_position_embeddings": 32}),
    "llama_tied": ("llama", "LlamaForCausalLM", {**LLAMA, "tie_word_embeddings": True}),
    "llama_untied": ("llama", "LlamaForCausalLM", LLAMA),
    "llama_base": ("llama", None, LLAMA),
    "t5": ("t5", "T5ForConditionalGeneration", {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 2,
                                                "num_heads": 2, "vocab_size": 64}),
    "t5_base": ("t5", None, {"d_model": 16, "d_kv": 8, "d_ff": 32, "num_layers": 2, "num_heads": 2, "vocab_size": 64}),
    "bart": ("bart", "BartForConditionalGeneration", SEQ2SEQ),
    "bart_base": ("bart", None, SEQ2SEQ),
    "vit": ("vit", None, {**TEXT, "image_size": 32, "patch_size": 8}),  # saved with ViT's legacy names
    "vit_head": ("vit", "ViTForImageClassification", {**TEXT, "image_size": 32, "patch_size": 8, "num_labels": 3}),
    "wav2vec2": ("wav2vec2", None, {**TEXT, "conv_dim": [8, 8], "conv_stride": [5, 4], "conv_kernel": [10, 8],
                                    "num_conv_pos_embeddings": 8, "num_conv_pos_embedding_groups": 2}),
    "mixtral": ("mixtral", "MixtralForCausalLM", {**LLAMA, "num_local_experts": 2}),  # experts saved one by one
}

# Checkpoint names that transformers' conversion mapping renames on load, written into a saved folder:
# the legacy LayerNorm gamma/beta and weight-norm weight_g/weight_v.
LEGACY = {"bert_gamma": ("bert", {"LayerNorm.weight": "LayerNorm.gamma", "LayerNorm.bias": "LayerNorm.beta"}),
          "wav2vec2_weight_g": ("wav2vec2", {"parametrizations.weight.original0": "weight_g",
                                             "parametrizations.weight.original1": "weight_v"})}

# (checkpoint, design architecture, design config): every pair is checked against output_loading_info.
PAIRS = [
    ("bert", "BertForSequenceClassification", {"num_labels": 3}),  # a base checkpoint, a new head
    ("bert_mlm", None, {}),  # a head checkpoint, the base model
    ("bert_mlm", "BertForTokenClassification", {"num_hidden_layers": 1}),  # another head, a layer dropped
    ("bert", None, {"num_hidden_layers": 3}),  # a layer added
    ("bert", None, {"intermediate_size": 24}),  # resized
    ("bert_gamma", "BertForMaskedLM", {}),  # legacy names renamed
    ("llama_tied", "LlamaForCausalLM", {"num_hidden_layers": 1}),
    ("llama_tied", None, {}),
    ("llama_untied", "LlamaForSequenceClassification", {}),
    ("llama_base", "LlamaForCausalLM", {}),  # untied: the LM head is new
    ("llama_base", "LlamaForCausalLM", {"tie_word_embeddings": True}),  # tied: the LM head is the embeddings
    ("llama_untied", "LlamaForCausalLM", {"vocab_size": 80}),  # embeddings and LM head resized
    ("t5", None, {}),
    ("t5", "T5EncoderModel", {}),
    ("t5_base", "T5ForConditionalGeneration", {"num_decoder_layers": 3}),
    ("bart", "BartForSequenceClassification", {}),
    ("bart_base", "BartForConditionalGeneration", {"encoder_layers": 1}),
    ("vit", "ViTForImageClassification", {}),  # ViT's conversion mapping renames every layer
    ("vit_head", None, {"num_hidden_layers": 3}),
    ("wav2vec2_weight_g", "Wav2Vec2ForCTC", {"vocab_size": 12}),
    ("mixtral", "MixtralForCausalLM", {"num_hidden_layers": 1}),  # experts merged by a converter
    ("mixtral", None, {"intermediate_size": 24}),  # merged experts resized
]


@pytest.fixture(scope="session")
def folders(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("provenance")
    out = {}
    for name, (model_type, architecture, config) in [*CHECKPOINTS.items(),
                                                     *((n, (*CHECKPOINTS[b][:1], None, CHECKPOINTS[b][2]))
                                                       for n, (b, _) in LEGACY.items())]:
        build_model({"model_type": model_type, "architecture": architecture, "config": config}).save_pretrained(
            root / name)
        out[name] = root / name
    for name, (_, renames) in LEGACY.items():
        folder = out[name]
        weights = load_file(folder / "model.safetensors")
        renamed = {}
        for key, tensor in weights.items():
            for old, new in renames.items():
                key = key.replace(old, new)
            renamed[key] = tensor
        assert renamed.keys() != weights.keys()
        save_file(renamed, folder / "model.safetensors", metadata={"format": "pt"})
    return out


def design(folder: Path, model_type: str, architecture: str | None, config: dict) -> dict:
    return {"model_type": model_type, "architecture": architecture, "pretrained": str(folder), "config": config,
            "resized": "reinitialise"}


def reported(spec: dict) -> tuple[set, set, set]:
    """(missing, unexpected, mismatched) as transformers reports them when it loads the design for real."""
    valid = ready(spec)
    head = catalog.resolve_architecture(valid.model_type, valid.architecture).name
    _, info = getattr(transformers, head).from_pretrained(
        valid.pretrained, config=build_config(valid), output_loading_info=True, use_safetensors=True,
        ignore_mismatched_sizes=True, local_files_only=True, trust_remote_code=False)
    return (set(info["missing_keys"]), set(info["unexpected_keys"]),
            {(k, tuple(a), tuple(b)) for k, a, b in info["mismatched_keys"]})


def computed(spec: dict) -> tuple[set, set, set]:
    """The same three sets from the engine's provenance (headers and a meta model only)."""
    _, found = provenance.found(ready(spec))
    resized = {(w.name, w.checkpoint_shape, w.shape) for w in found.weights.values() if w.status == "resized"}
    return set(found.named("new")), set(found.named("unused")), resized


def test_every_architecture_pair_matches_output_loading_info(folders):
    checked = []
    for checkpoint, architecture, config in PAIRS:
        model_type = CHECKPOINTS[LEGACY[checkpoint][0] if checkpoint in LEGACY else checkpoint][0]
        spec = design(folders[checkpoint], model_type, architecture, config)
        ours, theirs = computed(spec), reported(spec)
        if ours != theirs:
            checked.append((checkpoint, architecture, config, [(a - b, b - a) for a, b in zip(ours, theirs)]))
    assert checked == []


MINILM = [("BertForSequenceClassification", {"num_hidden_layers": 3, "num_labels": 4}),  # fewer layers, a new head
          (None, {"num_hidden_layers": 8}),  # more layers
          ("BertForTokenClassification", {"num_labels": 5}),  # a new head
          ("BertForMaskedLM", {"intermediate_size": 512})]  # resized, and the MLM head new


@pytest.mark.parametrize("architecture, config", MINILM, ids=lambda v: str(v))
def test_the_minilm_checkpoint_matches_output_loading_info(minilm_dir, architecture, config):
    spec = design(minilm_dir, "bert", architecture, config)
    assert computed(spec) == reported(spec)


@settings(max_examples=12, derandomize=True, database=None, deadline=None)
@given(architecture=st.sampled_from([None, "BertForSequenceClassification", "BertForMaskedLM",
                                     "BertForTokenClassification", "BertForQuestionAnswering"]),
       layers=st.integers(1, 4), heads=st.sampled_from([1, 2, 4]), intermediate=st.sampled_from([24, 32, 48]),
       labels=st.integers(2, 4))
def test_any_layer_count_heads_and_head_match_output_loading_info(folders, architecture, layers, heads,
                                                                 intermediate, labels):
    config = {"num_hidden_layers": layers, "num_attention_heads": heads, "intermediate_size": intermediate,
              "num_labels": labels}
    spec = design(folders["bert"], "bert", architecture, config)
    assert computed(spec) == reported(spec)
    totals = summarize(spec)["provenance"]["totals"]
    assert sum(totals[m]["parameters"] for m in ("loaded", "new", "resized")) == summarize(spec)["total"]


# ----- the summary --------------------------------------------------------------------------------


def test_the_summary_marks_each_module_of_minilm_with_fewer_layers_and_a_new_head(minilm_dir):
    spec = {"model_type": "bert", "architecture": "BertForSequenceClassification", "pretrained": str(minilm_dir),
            "config": {"num_hidden_layers": 3, "num_labels": 4}}
    summary = summarize(spec)
    found = summary["provenance"]
    assert {m: t["tensors"] for m, t in found["totals"].items()} == {"loaded": 55, "new": 2, "resized": 0, "unused": 48}
    assert found["totals"]["loaded"]["parameters"] + found["totals"]["new"]["parameters"] == summary["total"]
    assert found["blocks"] == {"new": [{"block": "classifier", "tensors": 2}], "resized": [],
                               "unused": [{"block": "encoder.layer.3–5", "tensors": 48}]}
    by_name = {c["name"]: c for c in summary["tree"]["children"]}
    assert by_name["classifier"]["weights"] == {"new": 2}
    assert by_name["bert"]["weights"] == {"loaded": 55, "unused": 48}  # the dropped layers were bert's
    layers = next(c for c in by_name["bert"]["children"] if c["name"] == "encoder")["children"][0]
    assert layers["weights"] == {"loaded": 48, "unused": 48} and layers["children"][0]["weights"] == {"loaded": 16}
    word = next(t for t in found["tensors"] if t["name"] == "bert.embeddings.word_embeddings.weight")
    assert word == {"name": "bert.embeddings.word_embeddings.weight", "status": "loaded", "shape": [30522, 384],
                    "source": "embeddings.word_embeddings.weight"}

    text = format_summary(summary)
    assert "    new           2 tensors            1,540 params  classifier (2)" in text
    assert "    unused       48 tensors        5,323,392 params  encoder.layer.3–5 (48)" in text
    assert "  classifier " in text and text.splitlines()[-1].endswith("2 new")


def test_the_command_line_prints_and_lists_every_tensor(minilm_dir, cli_here, tmp_path):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"model_type": "bert", "pretrained": str(minilm_dir),
                                "config": {"num_hidden_layers": 8}}))
    done = cli_here("summary", spec)
    assert done.returncode == 0, done.stderr
    assert "    new          32 tensors        3,548,928 params  encoder.layer.6–7 (32)" in done.stdout
    done = cli_here("summary", spec, "--json")
    found = json.loads(done.stdout)["provenance"]
    assert len(found["tensors"]) == 135 and found["unused"] == []
    assert {t["status"] for t in found["tensors"]} == {"loaded", "new"}


def test_a_design_without_pretrained_has_no_provenance():
    assert "provenance" not in summarize({"model_type": "bert", "config": TEXT})


def test_provenance_is_kept_until_a_file_of_the_folder_changes(folders, tmp_path):
    import shutil

    folder = Path(shutil.copytree(folders["bert"], tmp_path / "ck"))
    spec = ready(design(folder, "bert", "BertForSequenceClassification", {}))
    first = provenance.found(spec)
    assert provenance.found(spec) is first
    (folder / "config.json").write_text((folder / "config.json").read_text() + " ")
    assert provenance.found(spec) is not first and provenance.found(spec)[1] == first[1]


# ----- the policy for shape changes -------------------------------------------------------------


def test_a_resized_tensor_is_refused_at_the_config_field_before_anything_is_built(minilm_dir, tmp_path, cli_here):
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"model_type": "bert", "pretrained": str(minilm_dir),
                                "config": {"intermediate_size": 512}}))
    for command in (("summary", spec), ("save", spec, tmp_path / "out"), ("code", spec)):
        done = cli_here(*command)
        assert done.returncode == 2
        assert done.stderr.splitlines() == [
            "error: config.intermediate_size: encoder.layer.0.intermediate.dense.weight is [1536, 384] in the "
            "checkpoint, [512, 384] in the design (and 17 more); set \"resized\": \"reinitialise\" to start those afresh"]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("config, field", [({"vocab_size": 1000}, "config.vocab_size"),
                                           ({"hidden_size": 768, "num_attention_heads": 12}, "config.hidden_size")])
def test_the_field_named_is_the_one_whose_size_the_shape_changed_by(minilm_dir, config, field):
    with pytest.raises(SpecError) as err:
        ready({"model_type": "bert", "pretrained": str(minilm_dir), "config": config})
    assert err.value.field == field


def test_a_changed_head_count_is_named_when_the_shape_changed_in_proportion(folders):
    with pytest.raises(SpecError) as err:  # 2 key-value heads of 8 make 16 rows, where the checkpoint's 1 made 8
        ready({"model_type": "llama", "pretrained": str(folders["llama_base"]),
               "config": {"num_key_value_heads": 2}})
    assert err.value.field == "config.num_key_value_heads"
    assert "layers.0.self_attn.k_proj.weight is [8, 16] in the checkpoint, [16, 16] in the design" in str(err.value)


def test_reinitialise_loads_with_ignore_mismatched_sizes_and_the_code_says_so(minilm_dir):
    from composer.codegen import to_code

    spec = {"model_type": "bert", "pretrained": str(minilm_dir), "config": {"intermediate_size": 512},
            "resized": "reinitialise"}
    found = summarize(spec)["provenance"]
    assert found["totals"]["resized"]["tensors"] == 18 and found["resized"] == "reinitialise"
    assert found["blocks"]["resized"] == [{"block": "encoder.layer.0–5", "tensors": 18}]
    assert "    ignore_mismatched_sizes=True,\n" in to_code(spec)


@pytest.mark.parametrize("spec, says", [
    ({"model_type": "bert", "resized": "ignore"}, "resized: expected 'refuse' or 'reinitialise', got 'ignore'"),
    ({"model_type": "bert", "resized": "reinitialise"},
     "resized: only used with pretrained: a design without it has no checkpoint to resize"),
])
def test_the_policy_is_one_of_two_and_needs_pretrained(spec, says):
    with pytest.raises(SpecError) as err:
        ready(spec)
    assert str(err.value) == says


def test_added_layers_are_new_not_refused(minilm_dir):
    found = summarize({"model_type": "bert", "pretrained": str(minilm_dir), "config": {"num_hidden_layers": 12}})
    assert found["provenance"]["blocks"]["new"] == [{"block": "encoder.layer.6–11", "tensors": 96}]


def test_the_widget_tree_folds_layers_only_where_their_weights_come_from_the_same_place(minilm_dir):
    tree = summarize({"model_type": "bert", "pretrained": str(minilm_dir), "config": {"num_hidden_layers": 8}})["tree"]
    layers = compact(tree)["children"][1]["children"][0]["children"]
    assert [(b["name"], b["repeat"], b["weights"]) for b in layers] == [("0–5", 6, {"loaded": 96}),
                                                                        ("6–7", 2, {"new": 32})]


def test_in_the_composer_a_resize_is_an_error_at_its_field_until_the_policy_says_reinitialise(minilm_dir):
    from widgets import Composer

    composer = Composer(spec={"model_type": "bert", "pretrained": str(minilm_dir)})
    composer.edit("config.intermediate_size", 512)
    composer.flush()
    assert list(composer.errors) == ["config.intermediate_size"]
    assert composer.model_summary.summary["provenance"]["totals"]["resized"]["tensors"] == 0  # the last valid one
    composer.edit("resized", "reinitialise")
    composer.flush()
    assert composer.errors == {} and composer.spec.resized == "reinitialise"
    assert composer.model_summary.summary["provenance"]["totals"]["resized"]["tensors"] == 18
