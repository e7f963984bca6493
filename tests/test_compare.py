"""Two designs compared as a person reads them: the fields that differ (as built, so an explicit default
or an alias is no difference), the parameter and memory deltas the summaries give, the module trees
aligned with what was added, removed or changed, the plans' deltas only when settings are given, and
errors that say which side they are on; from Python and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from composer import SpecError, save, summarize
from composer.compare import diff

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
TINY = {"model_type": "distilbert", "architecture": "DistilBertForSequenceClassification",
        "config": {"dim": 32, "n_heads": 2, "hidden_dim": 64, "n_layers": 2, "vocab_size": 100,
                   "max_position_embeddings": 32}}


def with_config(spec: dict, **config) -> dict:
    return {**spec, "config": {**spec["config"], **config}}


def fields(d: dict) -> dict[str, tuple]:
    return {r["field"]: (r["a"], r["b"]) for r in d["fields"]}


def child(node: dict, name: str) -> dict:
    return next(c for c in node["children"] if c["name"] == name)


def test_identical_designs_have_no_differences_even_with_defaults_and_aliases_spelled_out():
    spelled = {**TINY, "config": {**{k: v for k, v in TINY["config"].items() if k != "dim"}, "hidden_size": 32,
                                  "activation": "gelu", "dropout": 0.1}}  # an alias and two defaults
    d = diff(TINY, spelled)
    assert d["same"] and d["fields"] == [] and d["tree"]["mark"] == "same"
    assert {k: p["delta"] for k, p in d["parameters"].items()} == {"total": 0, "trainable": 0, "embeddings": 0}
    assert d["plan"] is None


def test_a_layer_more_is_one_field_one_added_block_and_the_summaries_difference():
    more = with_config(TINY, n_layers=3)
    d = diff(TINY, more)
    assert fields(d) == {"config.n_layers": (2, 3)} and not d["same"]
    total = summarize(more)["total"] - summarize(TINY)["total"]
    assert d["parameters"]["total"] == {"a": summarize(TINY)["total"], "b": summarize(more)["total"], "delta": total}
    assert d["memory"]["bf16"]["delta"] == 2 * total
    layers = child(child(child(d["tree"], "distilbert"), "transformer"), "layer")
    assert layers["mark"] == "changed" and layers["delta"] == total
    assert [(c["name"], c["mark"], c.get("repeat")) for c in layers["children"]] == [("0–1", "same", 2), ("2", "added", None)]
    added = layers["children"][1]
    assert added["a"] is None and added["b"]["class"] == "TransformerBlock" and added["memory_delta"] == 4 * total


def test_a_wider_model_changes_every_block_and_names_what_followed():
    llama = json.loads((EXAMPLES / "llama70b.json").read_text())
    wider = with_config(llama, hidden_size=8192 + 128, num_hidden_layers=60)
    d = diff(llama, wider)
    assert fields(d) == {"config.hidden_size": (8192, 8320), "config.num_hidden_layers": (80, 60),
                         "config.head_dim": (128, 130)}
    assert next(r for r in d["fields"] if r["field"] == "config.head_dim")["given"] == []  # derived, not typed
    layers = child(child(d["tree"], "model"), "layers")
    assert [(c["name"], c["mark"], c["repeat"]) for c in layers["children"]] == [("0–59", "changed", 60),
                                                                                 ("60–79", "removed", 20)]
    assert d["parameters"]["total"]["delta"] == summarize(wider)["total"] - summarize(llama)["total"]


def test_designs_of_different_kinds_differ_in_type_head_and_every_block():
    vit = {"model_type": "vit", "config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                           "intermediate_size": 64, "image_size": 32, "patch_size": 8}}
    d = diff(TINY, vit)
    got = fields(d)
    assert got["model_type"] == ("distilbert", "vit")
    assert got["architecture"] == ("DistilBertForSequenceClassification", "ViTModel")
    assert got["config.patch_size"] == (None, 8)
    assert next(r for r in d["fields"] if r["field"] == "config.patch_size")["absent"] == ["A"]
    assert {c["name"]: c["mark"] for c in d["tree"]["children"]} == {
        "distilbert": "removed", "pre_classifier": "removed", "classifier": "removed", "dropout": "removed",
        "embeddings": "added", "layers": "added", "layernorm": "added", "pooler": "added"}


def test_other_sections_differ_key_by_key():
    maskformer = json.loads((EXAMPLES / "maskformer_resnet.json").read_text())
    deeper = {**maskformer, "seed": 2, "backbone": {**maskformer["backbone"], "config": {
        **maskformer["backbone"]["config"], "depths": [1, 2, 1, 1]}}}
    assert fields(diff(maskformer, deeper)) == {"backbone.config.depths": ([1, 1, 1, 1], [1, 2, 1, 1]), "seed": (1, 2)}


def test_a_saved_folder_compares_with_a_spec_file(tmp_path):
    folder = save(TINY, tmp_path / "saved")
    spec_file = tmp_path / "b.json"
    spec_file.write_text(json.dumps(with_config(TINY, n_heads=4)))
    assert diff(folder, TINY)["same"]
    assert fields(diff(folder, spec_file)) == {"config.n_heads": (2, 4)}


def test_a_pretrained_design_is_compared_with_its_checkpoints_values(minilm_dir):
    base = {"model_type": "bert", "pretrained": str(minilm_dir)}
    d = diff(base, {**base, "config": {"num_hidden_layers": 3}})
    assert fields(d) == {"config.num_hidden_layers": (6, 3)}  # the checkpoint's 6, not BertConfig's 12
    encoder = child(child(d["tree"], "encoder"), "layer")
    assert [(c["name"], c["mark"]) for c in encoder["children"]] == [("0–2", "same"), ("3–5", "removed")]


def test_the_plans_are_compared_only_when_settings_are_given():
    more = with_config(TINY, n_layers=3)
    assert diff(TINY, more)["plan"] is None
    p = diff(TINY, more, settings={"micro_batch": 2})["plan"]
    assert p["settings"]["micro_batch"] == 2 and p["devices"] == {"a": 1, "b": 1, "delta": 0}
    assert p["peak"]["delta"] == p["peak"]["b"] - p["peak"]["a"] > 0 and p["fits"] == [True, True]
    assert p["per_device"]["weights"]["delta"] > 0


def test_an_error_names_its_side_and_field(tmp_path):
    with pytest.raises(SpecError, match=r"^B\.config\.dim: config\.n_heads 5 must divide config\.dim 32") as err:
        diff(TINY, with_config(TINY, n_heads=5))
    assert err.value.field == "B.config.dim"
    with pytest.raises(SpecError, match=r"^A\.spec: cannot read") as err:
        diff(tmp_path / "missing.json", TINY)
    with pytest.raises(SpecError, match=r"^plan\.micro_batch: "):
        diff(TINY, TINY, settings={"micro_batch": 0})


# ----- the command line -----------------------------------------------------------------------------


def test_diff_on_the_command_line_prints_fields_deltas_and_marked_modules(cli_here, tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(TINY))
    b.write_text(json.dumps(with_config(TINY, n_layers=3)))
    out = cli_here("diff", a, b, "--depth", "4")
    assert out.returncode == 0 and out.stderr == ""
    assert f"A: {a}  DistilBertForSequenceClassification (distilbert)" in out.stdout
    assert "1 field(s) differ" in out.stdout and "config.n_layers" in out.stdout
    delta = summarize(with_config(TINY, n_layers=3))["total"] - summarize(TINY)["total"]
    assert f"+{delta:,}" in out.stdout
    assert "+ distilbert.transformer.layer.2 " in out.stdout and "distilbert.transformer.layer.0–1 ×2" in out.stdout
    assert "training plan" not in out.stdout
    data = json.loads(cli_here("diff", a, b, "--json", "--micro-batch", "2").stdout)
    assert data["plan"]["settings"]["micro_batch"] == 2 and data["parameters"]["total"]["delta"] == delta
    same = cli_here("diff", a, a).stdout
    assert "The designs are the same: no field, count or module differs." in same


def test_diff_errors_are_one_line_naming_the_side_and_exit_2(cli_here, tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(TINY))
    bad.write_text(json.dumps(with_config(TINY, n_heads="two")))
    out = cli_here("diff", good, bad)
    assert (out.returncode, out.stdout) == (2, "")
    assert out.stderr == "error: B.config.n_heads: expected int, got 'two'\n"
    out = cli_here("diff", tmp_path, good)
    assert out.returncode == 2 and out.stderr.startswith("error: A.spec: folder ") and out.stderr.count("\n") == 1
    out = cli_here("diff", good, good, "--precision", "fp8")
    assert out.returncode == 2 and out.stderr.startswith("error: plan.precision: ")
