"""The exported code: pinned by golden files, and free of any composer import.

A missing or changed file in tests/golden/ fails; run `pytest --update-golden` (or UPDATE_GOLDEN=1) to write it."""

import ast
from pathlib import Path

import pytest

from composer import ComposerWarning, Spec, to_code

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"  # not from conftest: tests/browser has one too

GOLDEN_SPECS = {
    "distilbert.py": EXAMPLES / "distilbert.json",
    "maskformer_resnet.py": EXAMPLES / "maskformer_resnet.json",
    "llama70b.py": EXAMPLES / "llama70b.json",
    "maskformer_timm.py": Spec(model_type="maskformer", architecture="MaskFormerForInstanceSegmentation",
                               backbone={"timm": "resnet18"}),
    "vit_processor.py": Spec(model_type="vit", architecture="ViTForImageClassification",
                             config={"num_labels": 10},
                             image_processor={"class": "ViTImageProcessor", "options": {"size": {"height": 64, "width": 64}}}),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_SPECS))
def test_code_matches_golden(name, golden):
    source = GOLDEN_SPECS[name]
    spec = Spec.load(source) if not isinstance(source, Spec) else source
    golden(name, to_code(spec))


def imported_modules(code: str) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            modules |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("name", sorted(GOLDEN_SPECS))
def test_code_imports_only_torch_and_transformers(name):
    source = GOLDEN_SPECS[name]
    spec = Spec.load(source) if not isinstance(source, Spec) else source
    assert imported_modules(to_code(spec)) == {"torch", "transformers"}


def test_config_holds_only_non_default_values():
    code = to_code({"model_type": "distilbert", "config": {"n_layers": 6, "dim": 768, "activation": "relu"}})
    assert 'config = DistilBertConfig(activation="relu")' in code


def test_without_output_dir_nothing_is_saved():
    assert "save_pretrained" not in to_code({"model_type": "distilbert"}, output_dir=None)


def test_a_resample_number_says_which_filter_it_is():
    with pytest.warns(ComposerWarning, match="reloads with the torchvision backend"):  # BOX needs the PIL class
        code = to_code({"model_type": "vit", "image_processor": {"class": "ViTImageProcessorPil",
                                                                "options": {"resample": 4}}})
    assert "    resample=4,  # PIL.Image.Resampling.BOX\n" in code


@pytest.mark.parametrize("spec", [
    {"model_type": "t5", "architecture": "T5ForConditionalGeneration",
     "config": {"decoder_start_token_id": 0, "d_model": 16, "num_layers": 1, "num_heads": 2, "d_kv": 8, "d_ff": 32,
                "vocab_size": 64}},
    {"model_type": "llama", "config": {"rope_theta": 500000.0, "hidden_size": 16, "intermediate_size": 32,
                                       "num_hidden_layers": 1, "num_attention_heads": 2, "vocab_size": 64}},
    {"model_type": "resnet", "config": {"out_features": ["stage2"], "depths": [1, 1, 1, 1]}},
], ids=["t5", "llama", "resnet"])
def test_consumed_keywords_are_exported_as_written_and_build_the_same_model(spec):
    import torch

    from composer.build import build_model

    code = to_code(spec, output_dir=None)
    for name, value in spec["config"].items():
        assert f"    {name}={value!r}," in code.replace('"', "'")
    names: dict = {}
    exec(compile(code, "exported.py", "exec"), names)
    built = build_model(spec).state_dict()
    exported = names["model"].state_dict()
    assert built.keys() == exported.keys() and all(torch.equal(built[k], exported[k]) for k in built)
    assert names["config"].to_diff_dict() == build_model(spec).config.to_diff_dict()


def test_a_long_training_text_is_one_block_of_short_lines_that_a_view_folds():
    from composer.codegen import data_blocks

    lines = [f"line {i}: the cat sat on the mat {i} times" for i in range(120)]
    spec = {"model_type": "bert", "tokenizer": {"class": "RobertaTokenizer", "train": {"vocab_size": 300, "text": lines}}}
    code = to_code(spec, output_dir=None)
    assert "base_tokenizer.train_new_from_iterator(training_text, vocab_size=300)" in code
    assert max(len(line) for line in code.splitlines()) <= 100  # not one line of 5,000 characters
    [block] = data_blocks(code)
    assert (block["name"], block["items"]) == ("training_text", 120)
    assert code.splitlines()[block["first"] + 1:block["last"]] == [f'    "{line}",' for line in lines]
    short = to_code({**spec, "tokenizer": {**spec["tokenizer"], "train": {"text": ["the cat", "a dog"]}}})
    assert 'training_text = ["the cat", "a dog"]' in short and data_blocks(short) == []
