"""The widgets on the Python side, as a notebook user and the front end drive them: a design restored
and returned, edits checked at the field while the last valid design stays live, a burst of edits
rebuilding the summary once, the code and the checkpoint matching the engine. No browser here
(tests/browser drives the views in JupyterLab)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from composer import ComposerWarning, Spec, SpecError, summarize, to_code
from composer.architecture import architecture
from composer.validation import ready
from composer.catalog import HEAD_FIELDS
from widgets import (ArchitectureView, BackbonePicker, CodeView, Composer, ConfigForm, HeadPicker,
                     ModelSummary, ModelTypePicker, SavePanel)
from widgets._base import STATIC
from widgets._design import Design
from widgets.composer_widget import PREPROCESSING, unused_note
from composer.module_tree import compact

from manual_clock import ManualClock

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
JS = ROOT / "js"

TINY = {"model_type": "distilbert",
        "config": {"dim": 32, "n_heads": 2, "hidden_dim": 64, "n_layers": 1, "vocab_size": 100,
                   "max_position_embeddings": 32}}


def with_config(spec: dict, **config) -> dict:
    return {**spec, "config": {**spec["config"], **config}}


def front_end(widget, message: dict) -> None:
    """What the JS view sends (model.send): a custom message on the widget's comm, as the kernel hands it
    over when a click or a keystroke sends one."""
    widget.comm.handle_msg({"content": {"data": {"method": "custom", "content": message}}, "buffers": []})


# ----- restoring and returning a design ---------------------------------------------------------


def test_composer_returns_the_design_it_was_given():
    composer = Composer(spec=EXAMPLES / "distilbert.json")
    assert composer.spec == ready(Spec.load(EXAMPLES / "distilbert.json"))
    assert Composer(spec=composer.spec).spec == composer.spec
    assert Composer(spec=composer.spec.to_dict()).spec == composer.spec


def test_save_spec_then_from_file_restores_the_design(tmp_path):
    composer = Composer(spec=TINY)
    composer.edit("config.n_layers", 3)
    path = composer.save_spec(tmp_path / "design.json")
    assert json.loads(path.read_text())["config"]["n_layers"] == 3
    restored = Composer.from_file(path)
    assert restored.spec == composer.spec
    assert restored.model_summary.summary["total"] == composer.model_summary.summary["total"]


def test_from_config_opens_the_design_of_a_config_json(minilm_dir):
    # A real checkpoint's config.json: its design, random weights; the keys BertConfig does not take are named.
    with pytest.warns(ComposerWarning, match="left out gradient_checkpointing, position_embedding_type"):
        composer = Composer.from_config(minilm_dir)
    assert composer.spec == ready(Spec(model_type="bert", config={
        "hidden_size": 384, "intermediate_size": 1536, "num_hidden_layers": 6}))
    assert composer.model_summary.summary["total"] == 22_713_216


def test_an_invalid_design_is_refused_by_name():
    with pytest.raises(SpecError, match="config.n_layers"):
        Composer(spec=with_config(TINY, n_layers="two"))


def test_setting_spec_from_python_updates_every_part():
    composer = Composer(spec=TINY)
    composer.spec = with_config(TINY, n_layers=2)
    assert composer.config_form.draft["config"]["n_layers"] == 2
    assert composer.model_summary.summary["total"] == summarize(with_config(TINY, n_layers=2))["total"]
    assert composer.code_view.code == to_code(with_config(TINY, n_layers=2))


def test_assigning_a_spec_to_a_part_checks_it_first():
    form = ConfigForm(spec=TINY)
    form.spec = with_config(TINY, n_layers=2)
    assert form.draft["config"]["n_layers"] == 2
    with pytest.raises(SpecError, match="unknown model type 'nope'"):
        form.spec = {"model_type": "nope"}
    assert form.spec == ready(with_config(TINY, n_layers=2))


def test_part_widgets_work_alone():
    form = ConfigForm(spec=TINY)
    assert {"n_layers", "dim", "n_heads", "dropout"} <= {f["name"] for f in form.fields}
    assert {f["group"] for f in form.fields} >= {"sizes", "attention", "dropout", "embeddings", "other"}
    heads = HeadPicker(spec=TINY)
    assert heads.heads[0] == {"name": "DistilBertModel", "task": "base", "mapped": True, "fields": []}
    assert "DistilBertForSequenceClassification" in [h["name"] for h in heads.heads]
    assert ModelSummary(spec=TINY).summary["total"] == summarize(TINY)["total"]
    assert CodeView(spec=TINY).code == to_code(TINY)
    assert not BackbonePicker(spec=TINY).takes_backbone
    types = ModelTypePicker(spec=TINY).types
    assert "distilbert" in types["text"] and "vit" in types["vision"] and "wav2vec2" in types["audio"]


def test_every_view_loads_its_module_and_the_themed_stylesheet():
    for cls in (ModelTypePicker, ConfigForm, HeadPicker, BackbonePicker, ModelSummary, CodeView, SavePanel):
        widget = cls(spec=TINY)
        # One bundled module: a relative import would not resolve from the blob anywidget loads it as.
        assert "export{" in widget._esm and not re.search(r"\bimport\s*[{\"']", widget._esm), cls.__name__
        assert "--jp-ui-font-color1" in widget._css, cls.__name__


def test_preprocessing_panels_are_built_on_first_open_and_edit_the_design(tmp_path):
    composer = Composer(spec=TINY)
    assert [body.children for body in composer.bodies.values()] == [()] * 4  # nothing built yet
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world"]))
    tokens = composer.preview("tokenizer")
    assert composer.toggles["tokenizer"].expanded and tokens.error_scope == "own"
    tokens.load("vocab_file", str(vocab))
    tokens.text = "hello world"
    assert [t["token"] for t in tokens.refresh()["tokens"]] == ["[CLS]", "hello", "world", "[SEP]"]
    assert composer.spec.tokenizer == {"vocab_file": str(vocab)}
    assert str(vocab) in composer.code_view.code  # the exported code follows the panel
    # The panel lists its section's errors now; the type picker no longer does.
    assert "tokenizer" in composer.type_picker.listed_elsewhere
    assert composer.preview("tokenizer") is tokens  # opened again, not rebuilt
    image = composer.preview("image_processor")  # a second panel opens; the first stays open
    assert composer.toggles["tokenizer"].expanded and composer.toggles["image_processor"].expanded
    assert (image.form.title, image.view.title, tokens.title) == \
        ("Image processor options", "Image processor preview", "Tokenizer")


def test_a_panel_says_when_the_model_type_does_not_use_it():
    notes = {key: toggle.note for key, toggle in Composer(spec=TINY).toggles.items()}
    assert notes == {"tokenizer": "", "image_processor": "not used by a text model (distilbert)",
                     "feature_extractor": "not used by a text model (distilbert)",
                     "processor": "not used by a text model (distilbert)"}
    for model_type, unused, kind in (("wav2vec2", ["image_processor"], "an audio"),
                                     ("vit", ["tokenizer", "feature_extractor", "processor"], "a vision"),
                                     ("clip", ["feature_extractor"], "a multimodal")):
        assert [k for k, _ in PREPROCESSING if unused_note(model_type, k)] == unused
        assert unused_note(model_type, unused[0]) == f"not used by {kind} model ({model_type})"


# ----- editing: checked at the field, the last valid design stays live --------------------------


def test_a_wrong_type_is_flagged_at_once_and_the_summary_stays():
    composer = Composer(spec=TINY)
    total = composer.model_summary.summary["total"]
    composer.edit("config.n_layers", 2.5)
    assert "expected int" in composer.errors["config.n_layers"]
    assert composer.config_form.errors == composer.errors  # what the form shows at the field
    assert composer.config_form.draft["config"]["n_layers"] == 2.5  # the typed value stays visible
    assert composer.spec == ready(TINY)
    assert composer.model_summary.summary["total"] == total


@pytest.mark.parametrize("model_type, path, value", [
    ("detr", "backbone", "resnet50"), ("detr", "tokenizer", "vocab.txt"), ("detr", "tokenizer.class", 5),
    ("detr", "image_processor", "x"), ("detr", "feature_extractor.class", 5), ("detr", "processor", 5),
    ("wav2vec2", "tokenizer", {"class": "Wav2Vec2CTCTokenizer"}),  # no vocabulary: listed by the processor panel
    ("wav2vec2", "feature_extractor", {"options": {}})])  # no class: the model type's
def test_a_section_of_the_wrong_shape_is_flagged_by_the_engine_not_raised_by_a_view(model_type, path, value):
    composer = Composer(spec={"model_type": model_type})  # detr takes a backbone: its picker and form are live
    for section in ("tokenizer", "image_processor", "feature_extractor", "processor"):
        composer.preview(section)
    composer.edit(path, value)  # raised AttributeError / TypeError / StopIteration / KeyError from a view
    composer.flush()
    assert composer.errors or value == {"options": {}}
    composer.reset(path.split(".")[0])
    composer.flush()
    assert composer.errors == {}


def test_a_cross_field_error_is_shown_at_the_edited_field():
    composer = Composer(spec=TINY)
    total = composer.model_summary.summary["total"]
    composer.edit("config.n_heads", 5)  # dim is 32
    composer.flush()
    assert list(composer.errors) == ["config.n_heads"]
    assert "must divide" in composer.errors["config.n_heads"]
    assert composer.spec == ready(TINY)
    assert composer.model_summary.summary["total"] == total

    composer.edit("config.n_heads", 4)
    composer.flush()
    assert composer.errors == {}
    assert composer.spec.config["n_heads"] == 4


def test_a_conflict_stays_flagged_while_another_field_is_wrong():
    composer = Composer(spec=TINY)
    composer.edit("config.n_heads", 5)
    composer.flush()
    composer.edit("config.n_layers", 2.5)
    assert set(composer.errors) == {"config.n_heads", "config.n_layers"}
    composer.edit("config.n_heads", 4)  # fixed where it was flagged: that alert goes at once
    assert set(composer.errors) == {"config.n_layers"}


def test_fixing_the_other_side_of_a_conflict_makes_the_design_valid():
    composer = Composer(spec=TINY)
    composer.edit("config.dim", 30)
    composer.edit("config.n_heads", 4)  # 4 does not divide 30; the draft keeps both edits
    composer.flush()
    assert "must divide" in next(iter(composer.errors.values()))
    composer.edit("config.dim", 40)
    composer.flush()
    assert composer.errors == {}
    assert (composer.spec.config["dim"], composer.spec.config["n_heads"]) == (40, 4)


def test_front_end_edit_and_reset_messages():
    form = ConfigForm(spec=TINY)
    front_end(form, {"edit": {"config.n_layers": 3}})
    assert form.spec.config["n_layers"] == 3
    assert form.draft["config"]["n_layers"] == 3
    front_end(form, {"reset": ["config.n_layers"]})
    assert "n_layers" not in form.spec.config  # back to the class default, 6
    assert "n_layers" not in form.draft["config"]


def test_nested_sub_config_fields_edit_and_reset():
    form = ConfigForm(spec={"model_type": "clip"})
    text = next(f for f in form.fields if f["name"] == "text_config")
    assert "num_hidden_layers" in [f["name"] for f in text["fields"]]
    form.edit("config.text_config.num_hidden_layers", 2)
    assert form.spec.config == {"text_config": {"num_hidden_layers": 2}}
    form.reset("config.text_config.num_hidden_layers")
    assert form.spec.config == {}


def test_choosing_a_model_type_starts_a_fresh_design():
    composer = Composer(spec=EXAMPLES / "distilbert.json")
    front_end(composer.type_picker, {"edit": {"model_type": "vit"}})
    assert composer.spec.model_type == "vit"
    assert composer.spec.config == {} and composer.spec.architecture is None
    assert "patch_size" in [f["name"] for f in composer.config_form.fields]
    assert composer.head_picker.heads[0]["name"] == "ViTModel"
    assert composer.model_summary.summary["architecture"] == "ViTModel"


# ----- head and backbone --------------------------------------------------------------------------


def test_head_change_updates_the_summary_and_shows_its_fields():
    composer = Composer(spec=TINY)
    base = composer.model_summary.summary
    assert composer.head_picker.head_fields == []
    front_end(composer.head_picker, {"edit": {"architecture": "DistilBertForSequenceClassification"}})
    summary = composer.model_summary.summary
    assert summary["architecture"] == "DistilBertForSequenceClassification"
    assert summary["total"] > base["total"]
    assert [f["name"] for f in composer.head_picker.head_fields] == ["num_labels", "id2label", "problem_type"]

    front_end(composer.head_picker, {"edit": {"config.id2label": {"0": "neg", "1": "neu", "2": "pos"},
                                              "config.num_labels": 3}})
    assert composer.model_summary.summary["total"] == summary["total"] + 32 + 1  # one more output row


def test_a_labelled_classifier_becomes_question_answering_in_one_pick():
    composer = Composer(spec={**TINY, "architecture": "DistilBertForSequenceClassification",
                              "config": {**TINY["config"], "num_labels": 3, "problem_type": "regression"}})
    front_end(composer.head_picker, {"action": "choose", "architecture": "DistilBertForQuestionAnswering"})
    composer.flush()
    assert composer.errors == {}  # QA needs 2 labels: the classifier's 3 left with its head
    assert composer.spec.architecture == "DistilBertForQuestionAnswering"
    assert "num_labels" not in composer.spec.config and "problem_type" not in composer.spec.config
    assert composer.head_picker.head_fields == []


def test_a_head_no_auto_class_maps_is_offered_marked_and_builds():
    composer = Composer(spec={"model_type": "gpt2", "config": {"n_layer": 1, "n_embd": 16, "n_head": 2,
                                                               "n_positions": 32, "vocab_size": 40}})
    offered = {h["name"]: h for h in composer.head_picker.heads}
    assert offered["GPT2DoubleHeadsModel"]["mapped"] is False and offered["GPT2LMHeadModel"]["mapped"]
    front_end(composer.head_picker, {"action": "choose", "architecture": "GPT2DoubleHeadsModel"})
    composer.flush()
    assert composer.errors == {}
    assert composer.model_summary.summary["architecture"] == "GPT2DoubleHeadsModel"
    # Which errors are the head's: the engine's catalog says, and Python routes them (no JS list).
    assert all(composer.head_picker.owns(f"config.{name}") for name in HEAD_FIELDS)
    assert not any(composer.config_form.owns(f"config.{name}") for name in HEAD_FIELDS)


def test_backbone_picker_offers_transformers_and_timm_backbones():
    picker_design = Design(Spec.load(EXAMPLES / "maskformer_resnet.json"))
    picker = BackbonePicker(design=picker_design)
    assert picker.takes_backbone
    assert "resnet" in picker.backbone_types and "resnet18" in picker.timm_models
    assert picker.stages[:2] == ["stem", "stage1"]
    form = ConfigForm(design=picker_design)
    assert "depths" in [f["name"] for f in form.backbone_fields]

    picker.edit("backbone", {"timm": "resnet18"})
    assert picker.spec.backbone["timm"] == "resnet18"
    assert picker.stages == [] and form.backbone_fields == []
    picker.edit("backbone.out_features", ["stage1"])
    assert "out_indices" in picker.errors["backbone.out_features"]


# ----- errors routed once: each view its own section's, the notice says where, Save refuses ------------

BERT_TRAINED = {"model_type": "bert", "config": {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
                                                 "intermediate_size": 32},
                "tokenizer": {"class": "BertTokenizer", "train": {"vocab_size": 80, "text": ["the cat sat", "a dog"]}}}


def test_an_error_in_a_collapsed_panel_says_where_it_is_and_save_refuses(tmp_path):
    composer = Composer(spec=BERT_TRAINED)
    tokens = composer.preview("tokenizer")
    composer.edit("tokenizer.options.padding_side", "middle")
    (path,) = composer.errors
    assert path == "tokenizer.options.padding_side"
    assert tokens.view_errors == composer.errors  # listed in its panel, and nowhere else
    for view in (composer.type_picker, composer.config_form, composer.head_picker, composer.backbone_picker):
        assert view.view_errors == {}, type(view).__name__
    composer.toggles["tokenizer"].expanded = False  # the person closes the panel
    assert composer.bodies["tokenizer"].layout.display == "none"
    assert composer.toggles["tokenizer"].problems == ["padding_side"]  # its heading still says so
    assert composer.model_summary.design.notice == "Showing the last valid design: an error at padding_side in Tokenizer."

    composer.save_panel.folder = str(tmp_path / "ckpt")
    with pytest.raises(SpecError, match=r"^save: the design has an error at padding_side in Tokenizer: .*; fix it to save$"):
        composer.save_panel.save()
    front_end(composer.save_panel, {"action": "save"})
    assert composer.save_panel.status.startswith("Failed: the design has an error at padding_side in Tokenizer")
    assert not (tmp_path / "ckpt").exists()

    composer.reset("tokenizer.options.padding_side")
    assert composer.toggles["tokenizer"].problems == [] and composer.model_summary.design.notice == ""


def test_an_unopened_panels_errors_are_listed_by_the_type_picker_and_its_heading():
    composer = Composer(spec=BERT_TRAINED)
    composer.edit("tokenizer.options.padding_side", "middle")
    assert list(composer.type_picker.view_errors) == ["tokenizer.options.padding_side"]
    assert composer.toggles["tokenizer"].problems == ["padding_side"]
    tokens = composer.preview("tokenizer")  # opened: the panel lists it now, the picker no longer
    assert list(tokens.view_errors) == ["tokenizer.options.padding_side"] and composer.type_picker.view_errors == {}


def test_a_timm_backbone_with_stages_by_name_is_flagged_and_not_saved(tmp_path):
    """The MaskFormer of the guide switched from a ResNet backbone to timm resnet50: stages typed by name
    (out_features) for the ResNet reach the timm backbone, which takes out_indices."""
    composer = Composer(spec=EXAMPLES / "maskformer_resnet.json")
    composer.edit("backbone", {"timm": "resnet50"})
    composer.edit("backbone.out_features", ["stage2", "stage3"])
    assert composer.backbone_picker.view_errors == {"backbone.out_features": "a timm backbone selects stages with out_indices"}
    assert composer.model_summary.design.notice == "Showing the last valid design: an error at out_features in Backbone."
    composer.save_panel.folder = str(tmp_path / "ckpt")
    with pytest.raises(SpecError, match="the design has an error at out_features in Backbone"):
        composer.save_panel.save()


def test_one_edit_validates_the_design_once_and_sends_it_once(monkeypatch):
    import composer.sections.parts
    import composer.validation

    calls = []
    for module, name in ((composer.validation, "validate"), (composer.sections.parts, "validate_part")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, real=real, name=name, **k: calls.append((name, *a[1:])) or real(*a, **k))
    vit = {"model_type": "vit", "config": {"num_hidden_layers": 1, "hidden_size": 16, "num_attention_heads": 2,
                                          "intermediate_size": 32, "image_size": 32, "patch_size": 8}}
    widget = Composer(spec=vit)
    image = widget.preview("image_processor")
    image.preview  # noqa: B018 - drawn
    calls.clear()
    # values no other test uses: the engine's caches (per design, per section) must not hold this edit yet
    front_end(image.form, {"edit": {"image_processor.class": "ViTImageProcessor",
                                    "image_processor.options.image_mean": [0.137, 0.241, 0.359]}})
    image.preview  # noqa: B018 - redrawn from the design's one validation
    # one validation; of the sections only the edited one is checked again (composer.sections caches the
    # rest by content): the image processor probed on a tiny image once (it was 5 times, in 2 validates)
    assert calls == [("validate",), ("validate_part", "image_processor")]

    views = [w for w in (widget.type_picker, widget.head_picker, widget.backbone_picker, widget.config_form,
                         widget.model_summary, widget.code_view, widget.save_panel, image.form, image.view)]
    assert len({id(v.design) for v in views}) == 1  # one model of the design on the page ...
    assert all("draft" not in v.keys and "spec" not in v.keys for v in views)  # ... that no view copies
    assert views[0].design.draft == widget.draft


def test_the_heap_is_frozen_once_the_first_design_is_built():
    import gc

    Composer(spec=TINY)
    assert gc.get_freeze_count() > 100_000  # torch, transformers and a meta model: out of the collector's sight


# ----- summary: coalesced, folded -------------------------------------------------------------------


def test_an_edit_rebuilds_as_soon_as_the_kernel_is_free_and_a_burst_folds():
    clock = ManualClock()
    view = ModelSummary(design=Design(TINY, clock=clock))
    rebuilt = []
    view.observe(lambda change: rebuilt.append(change.new["total"]), "summary")
    for n in range(1, 6):  # messages that reach the kernel together
        view.edit("config.n_layers", n)
    assert view.pending and rebuilt == [] and clock.jobs == []  # typing never waited on a rebuild
    clock.advance(0)  # no delay added after the front end's debounce
    assert view.pending and len(clock.jobs) == 1  # one rebuild for the burst, off the event loop
    clock.finish_all()
    assert rebuilt == [summarize(with_config(TINY, n_layers=5))["total"]]
    assert not view.pending


def test_the_drawing_shows_with_the_summary_and_its_shapes_fill_in_after():
    """The forward pass that gives the shapes costs more than the summary: it runs after the summary is
    out, and an edit before it ends drops it."""
    clock = ManualClock()
    view = ArchitectureView(design=Design(TINY, clock=clock))
    layers = next(b for b in view.drawing["blocks"] if b["kind"] == "repeated")
    assert layers["shape"] == "…" and not view.drawing["traced"] and len(clock.jobs) == 1
    view.edit("config.n_layers", 3)
    clock.advance(0)
    clock.finish_all()  # the older trace, then the rebuild, then the new design's trace
    layers = next(b for b in view.drawing["blocks"] if b["kind"] == "repeated")
    assert view.drawing["traced"] and layers["repeat"] == 3 and layers["shape"].startswith("(1, ")
    assert view.drawing == architecture(with_config(TINY, n_layers=3))


def test_edits_during_a_rebuild_fold_into_one_rebuild_of_the_newest():
    clock = ManualClock()
    view = ModelSummary(design=Design(TINY, clock=clock))
    rebuilt = []
    view.observe(lambda change: rebuilt.append(change.new["total"]), "summary")
    view.edit("config.n_layers", 2)
    clock.advance(0)
    for n in range(3, 21):  # an edit every 20 ms while that rebuild runs
        view.edit("config.n_layers", n)
        clock.advance(0.02)
    assert len(clock.jobs) == 1  # one rebuild at a time: they never pile up in the worker
    clock.finish()  # its result is for n_layers 2: dropped, and the newest draft starts at once
    assert rebuilt == [] and len(clock.jobs) == 1 and view.pending
    clock.finish()
    assert rebuilt == [summarize(with_config(TINY, n_layers=20))["total"]] and not view.pending


def test_an_edit_during_a_rebuild_drops_the_older_result():
    clock = ManualClock()
    view = ModelSummary(design=Design(TINY, clock=clock))
    view.edit("config.n_layers", 2)
    clock.advance(0)
    view.edit("config.n_layers", 3)  # arrives while the rebuild for n_layers 2 runs
    clock.advance(0)
    clock.finish_all()  # the older's result is dropped, never shown after the newer one
    assert view.summary["total"] == summarize(with_config(TINY, n_layers=3))["total"]
    assert view.spec.config["n_layers"] == 3 and view.draft["config"]["n_layers"] == 3 and not view.pending

    view.edit("config.n_layers", 4)
    clock.advance(0)
    view.edit("config.n_layers", "four")  # a newer edit with an error: the older rebuild is dropped too
    clock.finish_all()
    assert view.summary["total"] == summarize(with_config(TINY, n_layers=3))["total"]
    assert view.errors == {"config.n_layers": view.errors["config.n_layers"]} and not view.pending


def test_flush_waits_for_a_rebuild_in_flight():
    clock = ManualClock()
    composer_design = Design(TINY, clock=clock)
    view = ModelSummary(design=composer_design)
    view.edit("config.n_layers", 2)
    clock.advance(0)
    view.edit("config.n_layers", 3)  # waits for the rebuild of 2
    view.flush()  # e.g. Save right after an edit
    assert view.summary["total"] == summarize(with_config(TINY, n_layers=3))["total"] and not view.pending


def test_repeated_layers_fold_into_one_block():
    summary = ModelSummary(spec=EXAMPLES / "llama70b.json").summary
    assert summary["total"] == summarize(ready(Spec.load(EXAMPLES / "llama70b.json")))["total"]
    model = next(c for c in summary["tree"]["children"] if c["name"] == "model")
    layers = next(c for c in model["children"] if c["name"] == "layers")
    (block,) = layers["children"]
    assert (block["name"], block["repeat"]) == ("0–79", 80)
    assert block["params"] == 80 * block["each"] == layers["params"]
    attention = next(c for c in block["children"] if c["name"] == "self_attn")
    assert [c["name"] for c in attention["children"]] == ["q_proj", "k_proj", "v_proj", "o_proj"]


def test_compact_keeps_distinct_numbered_siblings_apart():
    leaf = lambda name, n: {"name": name, "class": "Linear", "params": n, "children": []}  # noqa: E731
    tree = {"name": "m", "class": "M", "params": 7,
            "children": [leaf("0", 2), leaf("1", 2), leaf("2", 3)]}
    assert [(c["name"], c.get("repeat")) for c in compact(tree)["children"]] == [("0–1", 2), ("2", None)]


# ----- code and checkpoint ---------------------------------------------------------------------------


def test_code_is_the_engines_code_for_the_last_valid_design(tmp_path):
    view = CodeView(spec=TINY)
    view.edit("config.n_layers", 2)
    assert view.code == to_code(with_config(TINY, n_layers=2))
    view.edit("config.n_layers", "x")
    assert view.code == to_code(with_config(TINY, n_layers=2))
    view.py_path = str(tmp_path / "design")
    front_end(view, {"action": "save_py"})
    assert (tmp_path / "design.py").read_text() == view.code
    assert view.status == f"Saved {tmp_path / 'design.py'}"


def test_save_panel_saves_and_verifies_a_tiny_model(tmp_path):
    panel = SavePanel(spec=with_config(TINY, num_labels=3) | {"architecture": "DistilBertForSequenceClassification"})
    panel.folder = str(tmp_path / "ckpt")
    path = panel.save()
    assert (path / "config.json").is_file() and (path / "composer.spec.json").is_file()
    assert panel.progress == 1.0 and panel.status.startswith("Saved DistilBertForSequenceClassification")

    report = panel.verify()
    total = summarize(panel.spec)["total"]
    assert report["architecture"] == "DistilBertForSequenceClassification"
    assert report["parameters"] == total
    assert panel.status.startswith(f"Verified: DistilBertForSequenceClassification reloaded with {total:,} parameters (as saved)")
    assert Composer.from_file(path).spec == panel.spec  # a checkpoint folder restores its design

    with pytest.raises(SpecError, match="exists"):
        panel.save()


def test_save_button_runs_in_the_background_and_reports(tmp_path):
    panel = SavePanel(spec=TINY)
    panel.folder = str(tmp_path / "ckpt")
    (tmp_path / "ckpt").mkdir()
    front_end(panel, {"action": "save"})
    panel.wait()
    assert panel.status.startswith("Failed:") and "exists" in panel.status
    panel.overwrite = True
    front_end(panel, {"action": "save"})
    panel.wait()
    assert panel.status.startswith("Saved distilbert")
    front_end(panel, {"action": "verify"})
    panel.wait()
    assert panel.report["parameters"] == summarize(TINY)["total"]


def test_cancel_stops_the_save_and_leaves_the_folder_as_it_was(tmp_path):
    from filelock import FileLock

    panel = SavePanel(spec=TINY)
    panel.folder = str(tmp_path / "ckpt")
    with FileLock(tmp_path / ".ckpt.composer.lock"):  # another save holds the folder: this one waits for it
        front_end(panel, {"action": "save"})
        assert panel.cancellable  # the Cancel button shows
        # Taken at the save's next step: still checking the design, or once it has the folder.
        front_end(panel, {"action": "cancel"})
    panel.wait()
    assert panel.status == f"Cancelled: nothing was written ({tmp_path / 'ckpt'} was not made)"
    # Nothing of the save's is left: only the lock file this test made, where the save never took it.
    assert {p.name for p in tmp_path.iterdir()} <= {".ckpt.composer.lock"}
    assert not panel.busy and not panel.cancellable and not panel.cancelling


def test_the_summary_carries_its_memory_chart_and_a_device_marker():
    view = ModelSummary(spec=TINY)
    chart = view.summary["chart"]
    assert [bar["label"] for bar in chart["bars"]] == ["fp32", "fp16 / bf16", "int8"]
    assert chart["bars"][0]["bytes"] == 4 * view.summary["total"] and chart["marker"] is None
    view.device_memory = 2**20
    assert view.summary["chart"]["marker"] == {"label": "device memory", "bytes": 2**20}


def test_save_panel_follows_the_engines_rules_for_folders(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    panel = SavePanel(spec=TINY)

    def press_save(folder, overwrite):
        panel.folder, panel.overwrite = folder, overwrite
        front_end(panel, {"action": "save"})
        panel.wait()
        return panel.status

    assert press_save("", True).startswith("Failed: no folder given")
    assert press_save(".", True) == f"Failed: {tmp_path} is the current folder; a save replaces its folder whole: " \
                                    "name a new folder, e.g. my_model"
    assert press_save("ck", False).startswith("Saved distilbert")
    assert press_save("ck", False) == f"Failed: {tmp_path / 'ck'} exists; tick overwrite to replace it"
    (tmp_path / "ck" / "mine.txt").write_text("mine")
    assert "holds files the composer did not write (mine.txt)" in press_save("ck", True)
    assert (tmp_path / "notes.txt").read_text() == "mine" and (tmp_path / "ck" / "mine.txt").exists()


# ----- the views' own logic, run in Node (make installs the front end with it) --------------------


def test_every_bundle_is_a_module_with_a_render_function():
    """What the page loads: each built view (widgets/static) imports on its own, with no global left
    undefined at load, and exports anywidget's render."""
    views = sorted(p.stem for p in (JS / "views").glob("*.js"))
    script = ";".join(f'import("{STATIC / name}.js").then((m) => console.log("{name}", typeof m.default.render))'
                      for name in views)
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert sorted(out.split("\n")[:-1]) == [f"{name} function" for name in views]


def test_js_parses_typed_values_and_highlights_code_losslessly(tmp_path):
    source = tmp_path / "code.py"
    source.write_text(to_code(EXAMPLES / "distilbert.json"))
    script = f"""
      import {{ parseValue }} from "{JS / 'lib' / 'format.js'}";
      import {{ tokenize }} from "{JS / 'views' / 'code_view.js'}";
      import fs from "fs";
      const field = (type, extra = {{}}) => ({{ type, nullable: false, kinds: [type], ...extra }});
      const src = fs.readFileSync("{source}", "utf8");
      console.log(JSON.stringify({{
        int: parseValue(field("int"), " 12 "), half: parseValue(field("int"), "2.5"),
        word: parseValue(field("int"), "twelve"), list: parseValue(field("list"), "1, 2, 3"),
        none: parseValue(field("int", {{ nullable: true }}), ""),
        lossless: tokenize(src).map(([, text]) => text).join("") === src,
        kinds: [...new Set(tokenize(src).map(([kind]) => kind).filter(Boolean))].sort(),
      }}));
    """
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert json.loads(out) == {"int": 12, "half": 2.5, "word": "twelve", "list": [1, 2, 3], "none": None,
                               "lossless": True,
                               "kinds": ["call", "comment", "keyword", "number", "operator", "string"]}


def test_the_page_debounce_commits_after_a_pause_and_while_typing_goes_on():
    """js/lib/commit.js, the page's one debounce, on a clock the script moves by hand."""
    script = f"""
      let now = 0;
      const timers = [];
      Object.defineProperty(globalThis, "performance", {{ value: {{ now: () => now }}, configurable: true }});
      globalThis.setTimeout = (fn, ms) => {{ const t = {{ fn, at: now + ms }}; timers.push(t); return t; }};
      globalThis.clearTimeout = (t) => {{ const i = timers.indexOf(t); if (i >= 0) timers.splice(i, 1); }};
      const advance = (ms) => {{
        const end = now + ms;
        for (;;) {{
          timers.sort((a, b) => a.at - b.at);
          if (!timers.length || timers[0].at > end) break;
          const t = timers.shift();
          now = t.at;
          t.fn();
        }}
        now = end;
      }};
      const {{ debounce, DEBOUNCE_MS, MAX_WAIT_MS }} = await import("{JS / 'lib' / 'commit.js'}");
      let commits = 0;
      const key = debounce(() => commits++);
      for (let i = 0; i < 5; i++) {{ key(); advance(20); }}
      const burst = commits;
      advance(DEBOUNCE_MS);
      const paused = commits;
      for (let i = 0; i < 100; i++) {{ key(); advance(50); }}  // 5 s of typing, never a pause
      const steady = commits - paused;
      key(); key.now();
      console.log(JSON.stringify({{ burst, paused, steady, now: commits - paused - steady, max: 5000 / MAX_WAIT_MS }}));
    """
    out = subprocess.run(["node", "--input-type=module", "-e", script], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    got = json.loads(out)
    assert (got["burst"], got["paused"], got["now"]) == (0, 1, 1)  # nothing while typing, one on the pause
    assert got["steady"] == got["max"]  # steady typing still commits every MAX_WAIT_MS
