"""Issue 8: every input bounded before it is used. Each example of "Crashes with a traceback" and
"Exported code that does not run" is refused in one line naming its field (exit 2 on the command line),
or exported as code that runs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import composer
from composer.cli import main
from composer.codegen import literal
from composer.errors import SpecError, shown
from composer.limits import MAX_DEPTH, MAX_SHOWN_CHARS, MAX_SPEC_BYTES, MAX_STRING_CHARS
from composer.paths import checked_path
from composer.spec import Spec

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
LONG_NAME = "x" * 300


def spec_file(tmp_path: Path, content, name: str = "spec.json") -> Path:
    """A spec file as a user writes it: a dict as JSON, a str as typed, bytes as they are."""
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def refused(capsys, *args, start: str) -> str:
    """Run the command line in-process; it must exit 2 with one error line "error: {start}..."."""
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith(f"error: {start}"), err
    assert len(err) < 1000  # a value is shown cut short, never whole
    return err


# ----- "Crashes with a traceback", each from a plain JSON file -----------------------------------

FILE_CASES = {
    "hub id org/": ({"model_type": "bert", "pretrained": "org/"}, "pretrained"),
    "hub id bad name!!": ({"model_type": "bert", "pretrained": "bad name!!"}, "pretrained"),
    "tokenizer hub id": ({"model_type": "bert", "tokenizer": {"pretrained": "bad name!!"}}, "tokenizer.pretrained"),
    "300-character path": ({"model_type": "bert", "pretrained": LONG_NAME}, "pretrained"),
    "300-character vocab file": ({"model_type": "bert", "tokenizer": {"vocab_file": LONG_NAME}},
                                 "tokenizer.vocab_file"),
    "300-character training file": ({"model_type": "gpt2", "tokenizer": {"train": {"files": [f"/tmp/{LONG_NAME}"]}}},
                                    "tokenizer.train.files[0]"),
    "~nouser": ({"model_type": "bert", "pretrained": "~nouser/x"}, "pretrained"),
    "~nouser vocab": ({"model_type": "bert", "tokenizer": {"vocab_file": "~nouser/vocab.txt"}}, "tokenizer.vocab_file"),
    "not UTF-8": (b'{"model_type": "bert", "config": {"hidden_act": "gel\xff"}}', "spec"),
    "deeply nested array": ("[" * 100_000, "spec"),
    "a key holding line breaks": ({"model_type": "bert", "config": {"a\x0c\r\u2028": 1}}, "config.a\\x0c\\r\\u2028"),
    "nesting that broke exported code": ('{"model_type": "bert", "config": {"id2label": {"0": ' + "[" * 250
                                         + "]" * 250 + ', "1": "b"}}}', "spec"),
    "deeply nested inside config": ('{"model_type": "bert", "config": {"id2label": {"0": ' + "[" * 5000 + "]" * 5000
                                    + "}}}", "spec"),
    "5,000-digit integer": ('{"model_type": "bert", "config": {"hidden_size": ' + "9" * 5000 + "}}",
                            "config.hidden_size"),
    "integer beyond MAX_INT": ('{"model_type": "bert", "seed": 9007199254740993}', "seed"),
    "a list where an option expects a number": (
        {"model_type": "vit", "image_processor": {"class": "ViTImageProcessor", "options": {"resample": [1]}}},
        "image_processor.options.resample"),
    "lone surrogate": ('{"model_type": "bert", "config": {"id2label": {"0": "\\ud800", "1": "b"}}}',
                       "config.id2label.0"),  # a label name transformers takes as it is: broke `code` only
    "lone surrogate in a key": ('{"model_type": "bert", "config": {"\\udfff": 1}}', "config"),
    "Infinity": ('{"model_type": "bert", "config": {"layer_norm_eps": Infinity}}', "config.layer_norm_eps"),
    "NaN": ('{"model_type": "bert", "config": {"layer_norm_eps": NaN}}', "config.layer_norm_eps"),
    "1e400 (infinite once read)": ('{"model_type": "bert", "config": {"layer_norm_eps": 1e400}}',
                                   "config.layer_norm_eps"),
    "a key given twice": ('{"model_type": "bert", "config": {"hidden_act": "gelu", "hidden_act": "relu"}}',
                          "config.hidden_act"),
    "a string over MAX_STRING_CHARS": ({"model_type": "bert", "config": {"hidden_act": "x" * (MAX_STRING_CHARS + 1)}},
                                       "config.hidden_act"),
}


@pytest.mark.parametrize("command", ["summary", "code"])
@pytest.mark.parametrize("case", FILE_CASES)
def test_bad_spec_file_is_one_line_at_its_field(capsys, tmp_path, case, command):
    content, field = FILE_CASES[case]
    refused(capsys, command, spec_file(tmp_path, content), start=f"{field}: ")


def test_spec_file_over_the_size_limit_is_refused_before_reading(capsys, tmp_path):
    path = spec_file(tmp_path, '{"model_type": "bert"}' + " " * MAX_SPEC_BYTES)
    err = refused(capsys, "summary", path, start="spec: ")
    assert f"the limit is {MAX_SPEC_BYTES:,}" in err


def test_a_folder_without_a_spec_is_named(capsys, tmp_path):
    err = refused(capsys, "summary", tmp_path, start="spec: ")
    assert "has no composer.spec.json" in err


def test_a_spec_with_a_byte_order_mark_loads(tmp_path):
    path = spec_file(tmp_path, b"\xef\xbb\xbf" + json.dumps({"model_type": "bert"}).encode())
    assert Spec.load(path).model_type == "bert"


def test_a_10_mb_value_is_not_echoed(capsys, tmp_path):
    """A 10 MB value (possible from Python; a file that size is refused whole) and, within
    MAX_STRING_CHARS, a value or key that transformers repeats in its message: all cut short."""
    with pytest.raises(SpecError) as err:
        composer.summarize({"model_type": "bert", "config": {"hidden_act": "x" * 10 * 2**20}})
    assert err.value.field == "config.hidden_act" and len(str(err.value)) < 200
    for config in ({"hidden_act": "x" * (MAX_STRING_CHARS - 1)}, {"y" * (MAX_STRING_CHARS - 1): 1}):
        err = refused(capsys, "summary", spec_file(tmp_path, {"model_type": "bert", "config": config}),
                      start="config.")
        assert len(err) < 1000


@pytest.mark.parametrize("args, field", [
    (["save", EXAMPLES / "distilbert.json", "~nouser/x"], "DIR"),
    (["save", EXAMPLES / "distilbert.json", LONG_NAME], "DIR"),
    (["check", LONG_NAME], "DIR"),
    (["check", "~nouser/x"], "DIR"),
    (["code", EXAMPLES / "distilbert.json", "--output-dir", LONG_NAME], "output_dir"),
    (["summary", "~nouser/spec.json"], "spec"),
    (["summary", f"/tmp/{LONG_NAME}.json"], "spec"),
    (["summary", "a" * 5000], "spec"),
])
def test_paths_on_the_command_line_are_checked_first(capsys, tmp_path, args, field):
    refused(capsys, *args, start=f"{field}: ")
    assert not os.path.exists(args[-1])


def test_no_hang_and_no_endless_read(cli, tmp_path):
    """A FIFO would block open() forever, /dev/zero would fill memory: both refused (a real
    subprocess, so that a hang is caught by its timeout instead of stopping the test run)."""
    fifo = tmp_path / "spec.json"
    os.mkfifo(fifo)
    for path in (fifo, "/dev/zero"):
        out = cli("summary", path)
        # The path as every error shows a value (shortened past MAX_SHOWN_CHARS: tmp paths vary in length).
        assert out.returncode == 2 and out.stderr == f"error: spec: {shown(str(path))} is not a regular file\n"


@pytest.mark.parametrize("content, field", [
    ("[" * 100_000, "spec"),
    ({"model_type": "bert", "pretrained": "org/"}, "pretrained"),
    ('{"model_type": "bert", "config": {"id2label": {"0": "\\ud800", "1": "b"}}}', "config.id2label.0"),
])
def test_real_command_line_exits_2_without_traceback(cli, tmp_path, content, field):
    out = cli("code", spec_file(tmp_path, content))
    assert out.returncode == 2 and out.stdout == ""
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith(f"error: {field}: ")


def test_valid_hub_id_offline_keeps_its_message(capsys, tmp_path):
    err = refused(capsys, "summary", spec_file(tmp_path, {"model_type": "bert", "pretrained": "org/model"}),
                  start="pretrained: ")
    assert "offline" in err


# ----- through the Python API --------------------------------------------------------------------


def deeply_nested(levels: int):
    value: object = 1
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize("data, field, words", [
    ({"model_type": "bert", "config": {1: 2}}, "config", "key 1 (int) is not a string"),
    ({1: "bert"}, "spec", "key 1 (int) is not a string"),
    ({"model_type": "bert", "config": {"eos_token_id": (1, 2)}}, "config.eos_token_id", "tuple"),
    ({"model_type": "bert", "config": {"eos_token_id": {1, 2}}}, "config.eos_token_id", "set"),
    ({"model_type": "bert", "config": {"layer_norm_eps": float("inf")}}, "config.layer_norm_eps", "Infinity"),
    ({"model_type": "bert", "config": {"layer_norm_eps": float("nan")}}, "config.layer_norm_eps", "NaN"),
    ({"model_type": "bert", "config": {"hidden_size": 10**5000}}, "config.hidden_size", "bits"),
    ({"model_type": "bert", "config": {"hidden_act": "\ud800"}}, "config.hidden_act", "lone surrogate"),
    ({"model_type": "bert", "config": [1]}, "config", "expected an object"),
    ({"": True}, '""', "unknown key"),
    ({"model_type": "bert", "tokenizer": {"": 1}}, 'tokenizer.""', "unknown key"),
    ({"model_type": "bert", "config": "dim=3"}, "config", "expected an object"),
    ({"model_type": "bert", "tokenizer": {"train": {"text": ["a", object()]}}}, "tokenizer.train.text[1]", "object"),
    ({"model_type": "bert", "config": {"id2label": {"0": deeply_nested(100_000)}}}, "config.id2label.0" +
     "[0]" * (MAX_DEPTH - 3), f"deeper than {MAX_DEPTH}"),
])
def test_from_dict_takes_plain_json_data_only(data, field, words):
    with pytest.raises(SpecError) as err:
        Spec.from_dict(data)
    assert err.value.field == field and words in err.value.message
    assert len(str(err.value)) < 400


def test_numpy_scalars_are_named():
    import numpy as np

    with pytest.raises(SpecError, match=r"^config.layer_norm_eps: .*numpy.float32.*float\(\)"):
        Spec.from_dict({"model_type": "bert", "config": {"layer_norm_eps": np.float32(1e-5)}})


def test_a_spec_made_directly_is_checked_too():
    with pytest.raises(SpecError, match="^config: expected an object"):
        Spec(model_type="bert", config=[1])
    kept = {"hidden_act": "relu"}
    spec = Spec(model_type="bert", config=kept)
    kept["hidden_act"] = "gelu"
    assert spec.config == {"hidden_act": "relu"}  # its own copy


@pytest.mark.parametrize("fn", ["summarize", "to_code", "validate", "build_model", "ready"])
@pytest.mark.parametrize("value", [["model_type", "bert"], 42, None, b"spec.json"])
def test_anything_but_a_spec_a_dict_or_a_path_is_refused(fn, value):
    with pytest.raises(SpecError) as err:
        getattr(composer, fn)(value)
    assert err.value.field == "spec"


@pytest.mark.parametrize("text, words", [
    ("", "empty path"),
    ("a\0b", "NUL"),
    ("~nouser/x", "no user 'nouser'"),
    (LONG_NAME, "255 (NAME_MAX)"),
    ("a/" * 2100, "4,096 (PATH_MAX)"),
    ("\ud800", "lone surrogate"),
    (3, "expected a path"),
])
def test_checked_path_refuses_before_any_filesystem_call(text, words):
    with pytest.raises(SpecError) as err:
        checked_path(text, "tokenizer.vocab_file")
    assert err.value.field == "tokenizer.vocab_file" and words in err.value.message


def test_checked_path_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert checked_path("~/spec.json", "spec") == tmp_path / "spec.json"


def test_shown_bounds_any_value():
    for value in ("x" * 10 * 2**20, list(range(10**6)), {str(i): i for i in range(10**5)}, 10**5000,
                  deeply_nested(10_000)):
        assert len(shown(value)) <= MAX_SHOWN_CHARS + 30
    assert shown("x" * 10**6).endswith("(1,000,000 characters)")


# ----- "Exported code that does not run" ---------------------------------------------------------


def test_non_finite_floats_are_written_as_code_that_runs():
    from transformers import Mamba2Config

    default = list(Mamba2Config().time_step_limit)  # (0.0, inf): a real default that is infinite
    assert eval(literal(default)) == default
    assert eval(literal([float("-inf")])) == [float("-inf")]
    nan = eval(literal(float("nan")))
    assert nan != nan


def test_deep_nesting_within_the_limit_exports_code_that_runs(tmp_path):
    """The deepest value a Spec may hold (MAX_DEPTH levels, counting the Spec and config objects)
    prints as source Python parses (its limit is 200 nested brackets) and that builds the model."""
    deep = deeply_nested(MAX_DEPTH - 3)  # spec {, config {, id2label {, then lists
    spec = {"model_type": "bert", "config": {"num_hidden_layers": 1, "hidden_size": 32, "intermediate_size": 37,
                                             "num_attention_heads": 2, "vocab_size": 99, "id2label": {"0": deep}}}
    code = composer.to_code(spec, output_dir=None)
    names: dict = {}
    exec(compile(code, "build.py", "exec"), names)
    assert names["config"].id2label[0] == deep


def test_a_string_path_from_the_command_line_is_escaped_in_code():
    """A file name that is not UTF-8 reaches Python as surrogate escapes; the code keeps it runnable."""
    assert literal("caf\udce9") == '"caf\\udce9"'
