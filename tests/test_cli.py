"""`python -m composer`, run as a user runs it: results on stdout, one error line and exit 2."""

import json
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"  # not from conftest: tests/browser has one too


def test_types_lists_every_model_type(cli):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    out = cli("types")
    assert out.returncode == 0
    assert out.stdout.split() == sorted(CONFIG_MAPPING_NAMES)


def test_heads_of_distilbert(cli):
    out = cli("heads", "distilbert", "--json")
    assert {h["name"]: h["task"] for h in json.loads(out.stdout)} == {
        "DistilBertModel": "base",
        "DistilBertForMaskedLM": "masked-lm",
        "DistilBertForMultipleChoice": "multiple-choice",
        "DistilBertForQuestionAnswering": "question-answering",
        "DistilBertForSequenceClassification": "sequence-classification",
        "DistilBertForTokenClassification": "token-classification",
    }


def test_fields_json(cli):
    fields = {f["name"]: f for f in json.loads(cli("fields", "distilbert", "--json").stdout)}
    assert fields["dim"]["aliases"] == ["hidden_size"] and fields["dim"]["default"] == 768
    assert fields["activation"]["type"] == "choice" and "activation" in fields["activation"]["help"]
    assert "relu" in fields["activation"]["choices"]  # transformers' ACT2FN names, a closed set
    assert (fields["n_layers"]["minimum"], fields["dropout"]["maximum"]) == (1, 1.0)


def test_summary_text_and_json(cli_here):
    cli = cli_here  # in this interpreter; test_save_then_check and others run the real process
    text = cli("summary", EXAMPLES / "distilbert.json").stdout
    assert "DistilBertForSequenceClassification" in text and "total parameters" in text
    data = json.loads(cli("summary", EXAMPLES / "llama70b.json", "--json").stdout)
    assert data["total"] == 70_553_706_496


def test_bad_spec_is_one_line_and_exit_2(cli_here, tmp_path):
    cli = cli_here  # in this interpreter; test_save_then_check and others run the real process
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"model_type": "distilbert", "config": {"n_heads": "twelve"}}))
    for command in (["summary", path], ["code", path], ["save", path, tmp_path / "out"]):
        out = cli(*command)
        assert out.returncode == 2
        assert out.stderr == "error: config.n_heads: expected int, got 'twelve'\n"
        assert out.stdout == ""
    assert not (tmp_path / "out").exists()


def test_cross_field_error_has_no_traceback(cli_here, tmp_path):
    cli = cli_here  # in this interpreter; test_save_then_check and others run the real process
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"model_type": "distilbert", "config": {"dim": 100}}))
    out = cli("summary", path)
    assert out.returncode == 2 and out.stderr.startswith("error: config.dim:")
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) == 1


def test_resample_string_is_corrected_with_a_warning(cli, tmp_path):
    path = tmp_path / "vit.json"
    path.write_text(json.dumps({"model_type": "vit", "image_processor": {
        "class": "ViTImageProcessor", "options": {"resample": "PIL.Image.BICUBIC"}}}))
    out = cli("code", path)
    assert out.returncode == 0
    assert "resample=3" in out.stdout
    assert "silently uses BILINEAR" in out.stderr


def test_save_then_check(cli, cli_here, tmp_path):
    spec = tmp_path / "tiny.json"
    spec.write_text(json.dumps({"model_type": "bert", "architecture": "BertForMaskedLM", "config": {
        "num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 32,
        "vocab_size": 99}}))
    out = cli("save", spec, tmp_path / "ck")  # the real process once; the rest in this interpreter
    assert out.returncode == 0, out.stderr
    assert cli_here("save", spec, tmp_path / "ck").returncode == 2
    assert cli_here("save", spec, tmp_path / "ck", "--overwrite").returncode == 0
    report = json.loads(cli_here("check", tmp_path / "ck", "--json").stdout)
    assert report["architecture"] == "BertForMaskedLM" and report["spec"] is True


def test_import_composer_is_light():
    """`--help` and the first render need no torch: importing the engine loads neither library (how
    long that takes is a benchmark's figure, not a test's)."""
    code = "import sys, composer; print('torch' in sys.modules, 'transformers' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_heads_of_a_type_without_classes_says_why(cli):
    out = cli("heads", "sam_mask_decoder")  # a part of a larger model (altclip_text_model now has its own class)
    assert out.returncode == 2
    assert out.stderr.startswith("error: model_type: 'sam_mask_decoder' has no model class")
    assert "compose sam" in out.stderr
