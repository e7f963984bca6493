"""The workshop notebooks run headless, as `make lab` opens them: nbclient executes each one in a copy of
notebooks/ beside a copy of examples/ (so `../examples/` resolves and the checkout stays clean) and fails
on any cell error. Then each notebook's own outputs are checked: the widget shown, the exported code
printed as code, and the "OK ..." lines its checks print once transformers has reloaded what that code
saved. Each notebook's cell times are printed (a figure to read, not asserted: a wall-clock limit flakes
on a busy 2-core machine). This proves the Python side only: clicks are tested in
tests/browser (test_notebooks_browser.py runs these same notebooks in JupyterLab)."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

# Per notebook: how many widget views it shows, how many exported code cells it prints, and text its
# outputs must contain (plain strings, or compiled patterns).
EXPECT: dict[str, dict] = {
    "composer.ipynb": {"widgets": 1, "code": 0, "text": []},
    "01_configuration.ipynb": {"widgets": 1, "code": 1, "text": [
        '"activation": "gelu"',  # the guide's print(DistilBertConfig())
        "config.n_heads 5 must divide config.dim 256 evenly",
        "the design still says n_heads = 4",
        "OK config reloaded: activation='relu' attention_dropout=0.4",
        "the design's config: {'activation': 'relu', 'attention_dropout': 0.4}",
        "composer: pretrained: 'distilbert/distilbert-base-uncased' is not a local folder and the hub cannot be "
        "reached (offline)",
    ]},
    "02_model.ipynb": {"widgets": 2, "code": 2, "text": [
        "DistilBertModel: 9,524,736 parameters",
        "OK DistilBertModel reloaded: 9,524,736 parameters, same weights as the design, hidden states (1, 4, 256)",
        re.compile(r"OK BertModel reloaded with the pretrained weights \(\d+ tensors equal\) and "
                   r"hidden_dropout_prob=0.2"),
        "TFDistilBertModel in transformers 5: False",
    ]},
    "03_model_heads.ipynb": {"widgets": 1, "code": 2, "text": [
        "DistilBertForQuestionAnswering           question-answering",
        "OK DistilBertForSequenceClassification reloaded: logits (1, 3) for 3 labels",
        "errors: {'config.num_labels': 'config.num_labels should be 2, but it is 3'}",
        "the design is still DistilBertForSequenceClassification",
        "now: DistilBertForQuestionAnswering with 38,012,930 parameters",
        "OK DistilBertForQuestionAnswering reloaded: start and end logits (1, 4), one per token",
        "without num_labels=2: config.num_labels should be 2, but it is 3",
        "OK DistilBertForQuestionAnswering from the classification checkpoint: the same 36 body tensors",
    ]},
    "04_tokenizer.ipynb": {"widgets": 1, "code": 1, "text": [
        "my_vocab_file.txt: 14 tokens",
        "OK DistilBertTokenizer reloaded: 14 tokens, case kept, padded on the left: [0, 0, 0, 0, 0, 2, 5, 6, 3]",
        "DistilBertTokenizerFast is DistilBertTokenizer: True",
        "AutoTokenizer(..., use_fast=False) gives BertTokenizer with is_fast = True",
        "OK BertTokenizer and BertTokenizerLegacy agree",
        "vocab_file=: 5 tokens -> ['[UNK]', '[UNK]', '[UNK]']",
        "vocab=:      14 tokens -> ['the', 'cat', 'sat']",
        "composer: tokenizer.options.vocab_file: give the vocabulary as tokenizer.vocab_file",
    ]},
    "05_image_processor.ipynb": {"widgets": 1, "code": 1, "text": [
        "warning: image_processor.options.resample: 'PIL.Image.BOX' is a string",
        "'resample': 4",
        "OK ViTImageProcessorPil reloaded: resample=BOX, do_normalize=False, pixel_values (1, 3, 224, 224)",
        "ViTImageProcessor on the first image: ValueError: Invalid interpolation mode: 'PIL.Image.BOX'",
        "string 'PIL.Image.BOX' gives the BILINEAR pixels: True",
        "composer: image_processor.options.resample: ViTImageProcessor resizes with torchvision, which cannot use "
        "this filter",
    ]},
    "06_backbone.ipynb": {"widgets": 2, "code": 2, "text": [
        "OK MaskFormer with a ResNetBackbone backbone: 513,923 parameters, masks (1, 10, 16, 16)",
        re.compile(r"OK MaskFormer with a timm resnet50 backbone \(random weights\): [\d,]+ parameters"),
        "OfflineModeIsEnabled: Cannot reach https://huggingface.co/api/models/microsoft/resnet-50",
        "OfflineModeIsEnabled: Cannot reach https://huggingface.co/api/models/resnet50",
        "composer: config.backbone:",
        "out_features=['stage4']: IndexError",
        "out_features=['stage1', 'stage2', 'stage3', 'stage4']: forward pass works",
        "guide: TimmBackboneConfig accepts only keyword arguments",
        "OK TimmBackbone(resnet50): 23,508,032 parameters",
    ]},
    "07_feature_extractor.ipynb": {"widgets": 1, "code": 1, "text": [
        '"sampling_rate": 8000',
        "a 16 kHz clip is refused:",
        "OK Wav2Vec2FeatureExtractor reloaded: sampling_rate=8000, do_normalize=False, input_values (1, 8000) "
        "equal to the samples",
    ]},
    "08_processor.ipynb": {"widgets": 1, "code": 1, "text": [
        "vocab.json: 32 tokens",
        re.compile(r"OK Wav2Vec2Processor reloaded: tokenizer ids \[7, 5, 6\] decode to 'CAB', audio padded, "
                   r"CTC logits \(2, \d+, 32\)"),
        "guide, with a text file: JSONDecodeError",
        "OK the guide's Wav2Vec2Processor with a JSON vocabulary: 32 tokens, same ids as the design",
    ]},
    "instructor.ipynb": {"widgets": 2, "code": 0, "text": [
        "'id2label': {'0': 'negative', '1': 'neutral', '2': 'positive'}",
        "build.py", "design.json",
        '"format": "composer.spec/1"',
        "OK the student's DistilBertForSequenceClassification has the labels ['negative', 'neutral', 'positive']",
    ]},
}


@pytest.fixture(scope="module")
def workshop(tmp_path_factory) -> Path:
    """A copy of notebooks/ (without its _out/) beside a copy of examples/."""
    root = tmp_path_factory.mktemp("workshop")
    shutil.copytree(NOTEBOOKS, root / "notebooks",
                    ignore=shutil.ignore_patterns("_out", ".ipynb_checkpoints", "__pycache__"))
    shutil.copytree(ROOT / "examples", root / "examples")
    return root / "notebooks"


@pytest.fixture(scope="module")
def executed(workshop):
    """Run a notebook once per module (nbclient records each cell's timing in its metadata)."""
    done: dict[str, nbformat.NotebookNode] = {}

    def run(name: str) -> nbformat.NotebookNode:
        if name not in done:
            nb = nbformat.read(workshop / name, as_version=4)
            NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True, record_timing=True,
                           resources={"metadata": {"path": str(workshop)}}).execute()
            done[name] = nb
        return done[name]

    return run


def code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def seconds(cell) -> float:
    timing = cell.metadata["execution"]
    start, end = (datetime.fromisoformat(timing[k].replace("Z", "+00:00"))
                  for k in ("iopub.execute_input", "shell.execute_reply"))
    return (end - start).total_seconds()


def text_of(cell) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.data.get("text/plain", ""))
    return "".join(parts)


def shown_code(cell) -> list[str]:
    """Exported code shown as a highlighted block (workshop.show_code)."""
    blocks = []
    for out in cell.outputs:
        markdown = out.get("data", {}).get("text/markdown", "")
        if markdown.startswith("```python\n"):
            blocks.append(markdown.removeprefix("```python\n").removesuffix("```"))
    return blocks


def test_every_notebook_has_expectations():
    assert sorted(EXPECT) == NAMES, "add the new notebook's expected outputs to EXPECT"


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_clean(name):
    """No outputs or execution counts in git, and the kernel every machine has."""
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in code_cells(nb):
        assert cell.outputs == [] and cell.execution_count is None, f"{name}: clear the outputs before committing"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_runs_every_cell(executed, name, capsys):
    nb = executed(name)
    cells = code_cells(nb)
    errors = [o for c in cells for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{errors[0].ename}: {errors[0].evalue}"
    assert all(c.execution_count for c in cells)
    times = [seconds(c) for c in cells]
    with capsys.disabled():
        print(f"\n  {name}: {len(cells)} cells, slowest {max(times):.2f} s, all {sum(times):.1f} s", end="")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_notebook_shows_the_widget_then_the_code_then_the_checks(executed, name):
    nb = executed(name)
    expect = EXPECT[name]
    cells = code_cells(nb)
    widget_at = [i for i, c in enumerate(cells) for o in c.outputs if WIDGET_VIEW in o.get("data", {})]
    assert len(widget_at) == expect["widgets"], "widget views shown"
    assert nb.metadata["widgets"][WIDGET_STATE]["state"], "the widget state is saved with the notebook"

    code_at = [i for i, c in enumerate(cells) for _ in shown_code(c)]
    assert len(code_at) == expect["code"], "exported code blocks shown"
    for block in (b for c in cells for b in shown_code(c)):
        assert "from transformers import" in block and "torch.manual_seed" in block
        assert not re.search(r"^\s*(from|import) (composer|widgets|workshop)\b", block, re.M), "plain transformers"
        compile(block, "exported", "exec")

    ok_at = [i for i, c in enumerate(cells) if re.search(r"^OK ", text_of(c), re.M)]
    if expect["code"]:
        assert widget_at[0] < code_at[0] < ok_at[0], "widget, then its exported code, then the checks"

    text = "".join(text_of(c) for c in cells)
    for wanted in expect["text"]:
        if isinstance(wanted, re.Pattern):
            assert wanted.search(text), f"no match for {wanted.pattern!r}"
        else:
            assert wanted in text, f"missing from the outputs: {wanted!r}"


@pytest.mark.slow
def test_exported_code_is_what_the_design_exports(executed, workshop):
    """The code shown and run in notebook 1 is the file the run left behind, unchanged."""
    nb = executed("01_configuration.ipynb")
    (shown,) = [b for c in code_cells(nb) for b in shown_code(c)]
    assert (workshop / "_out" / "01_configuration" / "build.py").read_text() == shown
    assert 'activation="relu"' in shown and "attention_dropout=0.4" in shown


@pytest.mark.slow
def test_instructor_hands_out_a_design_and_its_code(executed, workshop):
    executed("instructor.ipynb")
    handout = workshop / "_out" / "handout"
    assert sorted(p.name for p in handout.iterdir()) == ["build.py", "design.json"]
    import composer

    spec = composer.Spec.load(handout / "design.json")
    assert spec.architecture == "DistilBertForSequenceClassification"
    assert spec.config["id2label"] == {"0": "negative", "1": "neutral", "2": "positive"}
    assert (handout / "build.py").read_text() == composer.to_code(spec)
