"""Damaged checkpoint folders (issue 8): `check` and `pretrained` read a folder whole before they trust it.

Every folder is a real tiny checkpoint written by composer.save, then damaged the way the issue's 37 were.
Each must be refused with exit 2 and one line naming the file, never a traceback, a hang or a prompt; no
code in the folder ever runs; a folder whose weights would all be random never "loads".
"""

from __future__ import annotations

import ast
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from composer import SpecError, check, folder_check, save
from composer.validation import ready
from composer.cli import main
from composer.codegen import to_code
from composer.summary import summarize

TINY = {"model_type": "bert", "config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                                         "intermediate_size": 37, "vocab_size": 99, "max_position_embeddings": 64},
        "seed": 0}


@pytest.fixture(scope="session")
def saved(tmp_path_factory) -> Path:
    """A tiny BertModel checkpoint folder as composer.save writes it."""
    return save(TINY, tmp_path_factory.mktemp("saved") / "tiny")


@pytest.fixture
def folder(saved, tmp_path) -> Path:
    """A copy of the tiny checkpoint to damage."""
    return Path(shutil.copytree(saved, tmp_path / "ck"))


# ----- ways to damage a folder -----------------------------------------------------------------


def write(folder: Path, name: str, content) -> None:
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")


def edit_config(folder: Path, **changes) -> None:
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    write(folder, "config.json", config)


def header_and_data(path: Path) -> tuple[dict, bytes]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(path: Path, header: dict, data: bytes) -> None:
    text = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(text)) + text + data)


def lie_about_a_shape(folder: Path) -> None:
    header, data = header_and_data(folder / "model.safetensors")
    key = next(k for k in header if k != "__metadata__")
    header[key]["shape"] = [n + 1 for n in header[key]["shape"]]
    write_safetensors(folder / "model.safetensors", header, data)


def rename_every_weight(folder: Path) -> None:
    tensors = load_file(folder / "model.safetensors")
    save_file({f"other.{k}": v for k, v in tensors.items()}, folder / "model.safetensors", metadata={"format": "pt"})


def drop_a_layer_weight(folder: Path) -> None:
    tensors = load_file(folder / "model.safetensors")
    del tensors["encoder.layer.0.output.dense.weight"]
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})


def shard(folder: Path, point_at: str | None = None) -> None:
    """model.safetensors as a one-shard index (pointing at ``point_at`` instead, if given)."""
    (folder / "model.safetensors").rename(folder / "model-00001-of-00001.safetensors")
    keys = load_file(folder / "model-00001-of-00001.safetensors").keys()
    write(folder, "model.safetensors.index.json",
          {"metadata": {}, "weight_map": {k: point_at or "model-00001-of-00001.safetensors" for k in keys}})


class Marker:
    """A pickle that creates a file when it is unpickled (as torch.load of a .bin would)."""

    def __init__(self, path: Path):
        self.path = path

    def __reduce__(self):
        return open, (str(self.path), "w")


def only_a_pickle(folder: Path) -> None:
    (folder / "model.safetensors").unlink()
    write(folder, "pytorch_model.bin", pickle.dumps(Marker(folder.parent / "unpickled")))


DAMAGED = {
    # name: (damage, the file the one line names, what it says)
    "malformed config": (lambda f: write(f, "config.json", '{"model_type": "bert",'), "config.json", "not valid JSON"),
    "empty config": (lambda f: write(f, "config.json", ""), "config.json", "is empty"),
    "non-UTF-8 config": (lambda f: write(f, "config.json", b'{"model_type": "b\xffert"}'), "config.json", "not UTF-8"),
    "list config": (lambda f: write(f, "config.json", [1, 2]), "config.json", "got a list"),
    "5,000-digit number": (lambda f: write(f, "config.json", '{"model_type": "bert", "x": ' + "9" * 5000 + "}"),
                           "config.json", "not valid JSON"),
    "no model_type": (lambda f: write(f, "config.json", {"hidden_size": 32}), "config.json", "no model_type"),
    "unknown model_type": (lambda f: edit_config(f, model_type="nonexistent"), "config.json",
                           "model_type 'nonexistent' is not a transformers model type"),
    "architectures a string": (lambda f: edit_config(f, architectures="BertModel"), "config.json",
                               "architectures must be a list"),
    "architectures of another type": (lambda f: edit_config(f, architectures=["GPT2Model"]), "config.json",
                                      "'GPT2Model' is not a bert class"),
    "a value of the wrong type": (lambda f: edit_config(f, hidden_size="big"), "config.json",
                                  "hidden_size: expected int"),
    "a choice not offered": (lambda f: edit_config(f, problem_type="guesswork"), "config.json",
                             "problem_type: expected one of"),
    "auto_map": (lambda f: edit_config(f, auto_map={"AutoModel": "evil.EvilModel"}), "config.json", "auto_map"),
    "truncated weights": (lambda f: write(f, "model.safetensors", (f / "model.safetensors").read_bytes()[:5000]),
                          "model.safetensors", "header says"),
    "weights under 8 bytes": (lambda f: write(f, "model.safetensors", b"\x01\x02"), "model.safetensors",
                              "truncated"),
    "header longer than the file": (lambda f: write(f, "model.safetensors", struct.pack("<Q", 10**6) + b"{}"),
                                    "model.safetensors", "truncated: header says 1,000,000 bytes"),
    "header past the library's ceiling": (lambda f: write(f, "model.safetensors", struct.pack("<Q", 2**40)),
                                          "model.safetensors", "safetensors allows at most"),
    "header not JSON": (lambda f: write(f, "model.safetensors", struct.pack("<Q", 4) + b"\xff{[x"),
                        "model.safetensors", "not a UTF-8 JSON object"),
    "header a list": (lambda f: write(f, "model.safetensors", struct.pack("<Q", 2) + b"[]"),
                      "model.safetensors", "not a JSON object"),
    "header lying about a shape": (lie_about_a_shape, "model.safetensors", "its data_offsets span"),
    "extra bytes after the data": (lambda f: write(f, "model.safetensors",
                                                   (f / "model.safetensors").read_bytes() + b"x" * 12),
                                   "model.safetensors", "bytes of data, the file has"),
    "wrong shapes": (lambda f: edit_config(f, intermediate_size=40), "model.safetensors",
                     "intermediate.dense.bias is [37] but BertModel needs [40] (and 2 more)"),
    "only a .bin": (only_a_pickle, "pytorch_model.bin", "a pickle, which the composer never opens"),
    "config only": (lambda f: (f / "model.safetensors").unlink(), "model.safetensors", "no weights"),
    "no weight name matches": (rename_every_weight, "model.safetensors", "every weight would be random"),
    "a base-model weight missing": (drop_a_layer_weight, "model.safetensors",
                                    "encoder.layer.0.output.dense.weight): they would be random"),
    "shard index pointing outside": (lambda f: shard(f, "../outside.safetensors"), "model.safetensors.index.json",
                                     "outside the folder"),
    "shard index pointing at nothing": (lambda f: shard(f, "model-00002-of-00002.safetensors"),
                                        "model.safetensors.index.json", "not in the folder"),
    "shard index naming a file with a NUL": (lambda f: shard(f, "\x00"), "model.safetensors.index.json",
                                             "weight_map: '\\x00' holds a NUL character"),
    "shard index naming a 300-byte file": (lambda f: shard(f, "s" * 300), "model.safetensors.index.json",
                                           "weight_map: a name in the path is 300 bytes long"),
    "shard index without a weight_map": (lambda f: (shard(f), write(f, "model.safetensors.index.json", {})),
                                         "model.safetensors.index.json", "weight_map"),
    "malformed tokenizer config": (lambda f: write(f, "tokenizer_config.json", "{"), "tokenizer_config.json",
                                   "not valid JSON"),
    "unknown tokenizer class": (lambda f: write(f, "tokenizer_config.json", {"tokenizer_class": "NoSuchTokenizer"}),
                                "tokenizer_config.json", "tokenizer_class: 'NoSuchTokenizer' is not"),
    "tokenizer auto_map": (lambda f: write(f, "tokenizer_config.json", {"auto_map": {"AutoTokenizer": ["a.B", None]}}),
                           "tokenizer_config.json", "auto_map"),
    "preprocessor config a list": (lambda f: write(f, "preprocessor_config.json", [1]), "preprocessor_config.json",
                                   "got a list"),
    "unknown image processor": (lambda f: write(f, "preprocessor_config.json", {"image_processor_type": "Nope"}),
                                "preprocessor_config.json", "image_processor_type"),
    "image processor of another kind": (lambda f: write(f, "preprocessor_config.json",
                                                        {"image_processor_type": "BertTokenizer"}),
                                        "preprocessor_config.json", "not a transformers ImageProcessingMixin"),
    "processor config malformed": (lambda f: write(f, "processor_config.json", "[[["), "processor_config.json",
                                   "not valid JSON"),
    "unknown processor class": (lambda f: write(f, "processor_config.json", {"processor_class": 7}),
                                "processor_config.json", "processor_class: 7 is not"),
    "processor's nested image processor": (lambda f: write(f, "processor_config.json", {
        "processor_class": "CLIPProcessor", "image_processor": {"image_processor_type": "NoSuch"}}),
        "processor_config.json", "image_processor.image_processor_type"),
}


@pytest.mark.parametrize("name", DAMAGED)
def test_a_damaged_folder_is_one_line_naming_the_file(name, folder, capfd):
    damage, file, says = DAMAGED[name]
    damage(folder)
    assert main(["check", str(folder)]) == 2
    out, err = capfd.readouterr()
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"error: {file}: ") and says in err, err


def long_tensor_name(folder: Path) -> None:
    header, data = header_and_data(folder / "model.safetensors")
    key = next(k for k in header if k != "__metadata__")
    header["w" * 1_000_000] = {**header.pop(key), "dtype": "NOPE"}
    write_safetensors(folder / "model.safetensors", header, data)


@pytest.mark.parametrize("damage, file", [
    (lambda f: edit_config(f, model_type="m" * 1_000_000), "config.json"),
    (lambda f: edit_config(f, architectures=["A" * 1_000_000]), "config.json"),
    (lambda f: write(f, "tokenizer_config.json", {"tokenizer_class": "T" * 1_000_000}), "tokenizer_config.json"),
    (long_tensor_name, "model.safetensors"),
])
def test_a_huge_value_in_a_folder_is_not_echoed_whole(damage, file, folder, capfd):
    damage(folder)
    assert main(["check", str(folder)]) == 2
    err = capfd.readouterr().err
    assert err.startswith(f"error: {file}: ") and err.count("\n") == 1 and len(err) < 600, err[:300]


def test_a_pickle_is_never_opened(folder):
    only_a_pickle(folder)
    with pytest.raises(SpecError, match="pytorch_model.bin: weights as a pickle"):
        check(folder)
    assert not (folder.parent / "unpickled").exists()
    pickle.loads((folder / "pytorch_model.bin").read_bytes()).close()
    assert (folder.parent / "unpickled").exists()  # the marker works: opening the pickle makes the file


# ----- remote code: never run, never asked about -----------------------------------------------

EVIL = "import pathlib\npathlib.Path(__file__).with_name('RAN').write_text('the folder ran its code')\n"


def with_remote_code(folder: Path) -> Path:
    write(folder, "evil.py", EVIL)
    edit_config(folder, auto_map={"AutoConfig": "evil.EvilConfig", "AutoModel": "evil.EvilModel"})
    return folder


@pytest.mark.parametrize("stdin", ["y\n", None])
def test_auto_map_is_refused_without_a_prompt_and_nothing_runs(folder, stdin):
    with_remote_code(folder)
    done = subprocess.run([sys.executable, "-m", "composer", "check", str(folder)], input=stdin,
                          stdin=subprocess.DEVNULL if stdin is None else None, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: config.json: has an auto_map: loading it would run Python code "
                                        "shipped in the folder or on the hub; the composer never runs remote code"]
    assert not (folder / "RAN").exists() and "[y/N]" not in done.stdout + done.stderr


def test_auto_map_in_a_pretrained_folder_or_tokenizer_is_refused(folder, tmp_path, cli):
    with_remote_code(folder)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"model_type": "bert", "pretrained": str(folder)}))
    done = cli("summary", spec)
    assert done.returncode == 2 and done.stderr.splitlines() == [
        "error: pretrained: config.json: has an auto_map: loading it would run Python code shipped in the folder "
        "or on the hub; the composer never runs remote code"]
    spec.write_text(json.dumps({"model_type": "bert", "tokenizer": {"pretrained": str(folder)}}))
    done = cli("summary", spec)
    assert done.returncode == 2 and done.stderr.startswith("error: tokenizer.pretrained: config.json: has an auto_map")
    assert not (folder / "RAN").exists()


def test_a_cached_hub_id_with_auto_map_is_refused(tmp_path, saved):
    """A hub repo already in the cache (offline) whose config.json asks for its own code."""
    cache = tmp_path / "hub"
    snapshot = cache / "models--someone--custom" / "snapshots" / ("0" * 40)
    shutil.copytree(saved, snapshot)
    with_remote_code(snapshot)
    (cache / "models--someone--custom" / "refs").mkdir()
    (cache / "models--someone--custom" / "refs" / "main").write_text("0" * 40)
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"model_type": "bert", "pretrained": "someone/custom"}))
    done = subprocess.run([sys.executable, "-m", "composer", "summary", str(spec)], capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(cache)},
                          stdin=subprocess.DEVNULL, timeout=300)
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: pretrained: someone/custom config.json: has an auto_map")
    assert not (snapshot / "RAN").exists()


def test_exported_code_never_trusts_remote_code(minilm_dir):
    code = to_code({"model_type": "bert", "architecture": "BertForSequenceClassification",
                    "pretrained": str(minilm_dir), "tokenizer": {"pretrained": str(minilm_dir)}})
    calls = [node for node in ast.walk(ast.parse(code))
             if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "from_pretrained"]
    assert len(calls) == 3
    assert all(any(k.arg == "trust_remote_code" and k.value.value is False for k in call.keywords) for call in calls)


def test_a_tokenizer_option_cannot_trust_remote_code(minilm_dir):
    with pytest.raises(SpecError, match="tokenizer.options.trust_remote_code: the composer never runs"):
        ready({"model_type": "bert", "tokenizer": {"pretrained": str(minilm_dir),
                                                   "options": {"trust_remote_code": True}}})


# ----- the hang, and what still loads ------------------------------------------------------------


def test_200000_layers_beside_tiny_weights_is_refused_at_once(folder, cli):
    edit_config(folder, num_hidden_layers=200_000)
    done = cli("check", folder)  # run_cli's timeout (300 s) catches a hang
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "error: config.json: num_hidden_layers: 200,000 layers is over the limit of 1,000 (composer.limits.MAX_LAYERS)"]


def test_the_minilm_folder_checks(minilm_dir, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    done = cli("check", minilm_dir)
    assert done.returncode == 0, done.stderr
    assert "loads with transformers" in done.stdout and "weights: 103 loaded" in done.stdout


def test_a_composer_saved_folder_loads_and_so_does_a_sharded_one(folder, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    done = cli("check", folder)
    assert done.returncode == 0 and "loads with transformers" in done.stdout, done.stderr
    shard(folder)
    report = check(folder)
    assert report["architecture"] == "BertModel" and not report["weights"]["new"]


def test_a_base_checkpoint_checked_as_a_head_lists_the_new_weights(folder):
    edit_config(folder, architectures=["BertForSequenceClassification"])
    report = check(folder)
    assert report["architecture"] == "BertForSequenceClassification"
    assert report["weights"]["new"] == ["classifier.bias", "classifier.weight"]


def test_provenance_of_each_tensor(folder):
    """The per-tensor result a later feature shows: loaded (with its source), new, tied, unused."""
    from composer.build import meta_model
    from transformers import BertConfig

    found = folder_check.read(folder)
    model = meta_model("BertForMaskedLM", BertConfig.from_pretrained(folder))
    provenance = folder_check.match(found, model)
    word = provenance.weights["bert.embeddings.word_embeddings.weight"]
    assert (word.status, word.source, word.file) == ("loaded", "embeddings.word_embeddings.weight", "model.safetensors")
    assert provenance.weights["cls.predictions.decoder.weight"].status == "tied"
    assert provenance.weights["cls.predictions.transform.dense.weight"].status == "new"
    assert "pooler.dense.weight" in provenance.unused


def test_a_folder_read_is_cached_until_a_file_changes(folder):
    first = folder_check.read(folder)
    assert folder_check.read(folder) is first
    edit_config(folder, model_type="nonexistent")
    with pytest.raises(SpecError, match="nonexistent"):
        folder_check.read(folder)


# ----- pretrained folders in a Spec ------------------------------------------------------------


def spec_file(tmp_path: Path, **spec) -> Path:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({"model_type": "bert", **spec}))
    return path


def test_summary_refuses_a_pretrained_folder_whose_weights_do_not_match(folder, tmp_path, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    rename_every_weight(folder)
    done = cli("summary", spec_file(tmp_path, pretrained=str(folder)))
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: pretrained: model.safetensors: no weight name matches BertModel: "
                                        "every weight would be random (it holds e.g. other.embeddings.LayerNorm.bias)"]


@pytest.mark.parametrize("damage, says", [
    (lambda f: edit_config(f, model_type="nonexistent"),
     "error: pretrained: config.json: model_type 'nonexistent' is not a transformers model type"),
    (rename_every_weight, "error: pretrained: model.safetensors: no weight name matches"),
])
def test_save_refuses_a_pretrained_folder_and_writes_nothing(folder, tmp_path, cli_here, damage, says):
    cli = cli_here  # in this interpreter: the real process is tested above
    damage(folder)
    done = cli("save", spec_file(tmp_path, pretrained=str(folder)), tmp_path / "out")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1 and done.stderr.startswith(says), done.stderr
    assert not (tmp_path / "out").exists()


def test_a_weight_error_is_blamed_on_the_weights_file(folder, tmp_path, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    edit_config(folder, vocab_size=120)
    done = cli("summary", spec_file(tmp_path, pretrained=str(folder)))
    assert done.returncode == 2
    assert done.stderr.splitlines() == ["error: pretrained: model.safetensors: embeddings.word_embeddings.weight is "
                                        "[99, 32] in the checkpoint, [120, 32] in the design; set \"resized\": "
                                        "\"reinitialise\" to start it afresh"]


def test_a_pretrained_folder_of_another_model_type_is_refused(folder):
    with pytest.raises(SpecError, match="pretrained: config.json: model_type 'bert'; the design's model_type is "
                                        "'roberta'"):
        ready({"model_type": "roberta", "pretrained": str(folder)})


def test_a_bad_override_of_a_pretrained_folder_is_an_error_at_the_field(folder, tmp_path, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    done = cli("summary", spec_file(tmp_path, pretrained=str(folder), config={"intermediate_size": -1}))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith("error: config.intermediate_size: ") and "Traceback" not in done.stderr


def test_a_base_checkpoint_gives_a_new_head(folder, tmp_path, cli_here):
    cli = cli_here  # in this interpreter: the real process is tested above
    done = cli("summary", spec_file(tmp_path, pretrained=str(folder), architecture="BertForSequenceClassification"))
    assert done.returncode == 0, done.stderr
    assert "BertForSequenceClassification" in done.stdout


