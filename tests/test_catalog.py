"""What the composer offers is what the installed transformers offers: model types, heads with their
task (every model class a type exports) and the fields each reads, backbones (transformers' and timm's)
and their stages, the processor classes paired with a type, and the modality a picker groups them by.
Each is read once, in composer.catalog."""

from __future__ import annotations

import ast
import warnings
from pathlib import Path

import pytest
import transformers
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
from transformers.models.auto.modeling_auto import MODEL_FOR_BACKBONE_MAPPING_NAMES

from composer import ComposerWarning, Spec, SpecError, catalog
from composer.sections import tokenizer as tokenizer_section
from composer.catalog import backbone_types, heads, modality, model_types, resolve_architecture, timm_models

ROOT = Path(__file__).resolve().parent.parent


def test_types_are_every_config_transformers_maps(cli):
    assert set(model_types()) == set(CONFIG_MAPPING_NAMES)
    out = cli("types")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == sorted(CONFIG_MAPPING_NAMES)


def test_heads_of_distilbert_on_the_command_line(cli):
    out = cli("heads", "distilbert")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert rows == [
        ["DistilBertModel", "base"],
        ["DistilBertForMaskedLM", "masked-lm"],
        ["DistilBertForMultipleChoice", "multiple-choice"],
        ["DistilBertForQuestionAnswering", "question-answering"],
        ["DistilBertForSequenceClassification", "sequence-classification"],
        ["DistilBertForTokenClassification", "token-classification"],
    ]


@pytest.mark.parametrize("model_type, expected", [
    ("wav2vec2", {"Wav2Vec2Model": "base", "Wav2Vec2ForCTC": "ctc",
                  "Wav2Vec2ForSequenceClassification": "audio-classification",
                  "Wav2Vec2ForAudioFrameClassification": "audio-frame-classification",
                  "Wav2Vec2ForXVector": "audio-xvector", "Wav2Vec2ForPreTraining": "pretraining"}),
    ("vit", {"ViTModel": "base", "ViTForImageClassification": "image-classification",
             "ViTForMaskedImageModeling": "masked-image-modeling"}),
    ("maskformer", {"MaskFormerModel": "base", "MaskFormerForInstanceSegmentation": "instance-segmentation"}),
    ("whisper", {"WhisperModel": "base", "WhisperForConditionalGeneration": "speech-seq2seq",
                 "WhisperForAudioClassification": "audio-classification", "WhisperForCausalLM": "causal-lm"}),
])
def test_heads_with_their_tasks(model_type, expected):
    found = heads(model_type)
    assert {h.name: h.task for h in found} == expected
    assert found[0].task == "base"


def test_architecture_none_is_the_base_model_and_a_wrong_head_lists_the_right_ones():
    assert resolve_architecture("vit", None).name == "ViTModel"
    with pytest.raises(SpecError, match="'BertForMaskedLM' is not a vit architecture; allowed: ViTModel, "):
        resolve_architecture("vit", "BertForMaskedLM")


def test_a_tower_no_auto_class_maps_is_composed_from_the_class_it_exports():
    """altclip_text_model has no Auto class, but transformers exports AltCLIPTextModel for its config."""
    assert heads("altclip_text_model") == (catalog.Head("AltCLIPTextModel", "base", mapped=False),)
    assert resolve_architecture("altclip_text_model", None).name == "AltCLIPTextModel"


def test_a_part_without_a_model_class_points_to_the_model_that_holds_it():
    assert heads("sam_mask_decoder") == ()
    with pytest.raises(SpecError, match="part of a larger model: compose sam"):
        resolve_architecture("sam_mask_decoder", None)


def test_a_backbone_only_type_says_where_it_goes():
    with pytest.raises(SpecError, match="'vitpose_backbone' is only a backbone"):
        resolve_architecture("vitpose_backbone", None)


def test_a_head_transformers_maps_but_does_not_export_is_not_offered():
    import transformers

    for model_type in ("voxtral_realtime_text", "distilbert", "llama"):
        assert all(hasattr(transformers, h.name) for h in heads(model_type))


def test_backbones_are_transformers_backbone_mapping_and_timm_models(cli):
    assert set(backbone_types()) == set(MODEL_FOR_BACKBONE_MAPPING_NAMES) - {"timm_backbone"}
    assert {"resnet", "convnext", "swin", "dinov2"} <= set(backbone_types())
    assert "distilbert" not in backbone_types()
    assert {"resnet50", "resnet18"} <= set(timm_models("resnet*"))
    assert all(name.startswith("convnext") for name in timm_models("convnext*"))
    out = cli("backbones", "--timm", "resnet5*")
    assert out.returncode == 0, out.stderr
    assert "resnet50" in out.stdout.split()


@pytest.mark.parametrize("model_type, expected", [
    ("distilbert", "text"), ("llama", "text"), ("t5", "text"),
    ("vit", "vision"), ("resnet", "vision"), ("maskformer", "vision"), ("clip_vision_model", "vision"),
    ("wav2vec2", "audio"), ("whisper", "audio"), ("hubert", "audio"), ("encodec", "audio"),
    ("clip", "multimodal"), ("llava", "multimodal"), ("speecht5", "multimodal"), ("clap", "multimodal"),
    ("owlvit_text_model", "text"),
    # Vision-language models that transformers maps no tokenizer for: their heads read text and images.
    ("llama4", "multimodal"), ("paligemma", "multimodal"), ("idefics3", "multimodal"), ("mllama", "multimodal"),
    ("pp_ocrv5_mobile_rec", "vision"),  # OCR: the text is its output, as a speech recogniser's is
])
def test_modality_groups_types_as_a_user_expects(model_type, expected):
    assert modality(model_type) == expected


@pytest.mark.parametrize("model_type, used", [
    ("distilbert", {"tokenizer"}), ("vit", {"image_processor"}),
    ("wav2vec2", {"tokenizer", "feature_extractor", "processor"}),  # a CTC tokenizer decodes its output
    ("clip", {"tokenizer", "image_processor", "processor"}),
    ("llama4", {"tokenizer", "image_processor", "processor"}),  # reads text, though no tokenizer is mapped
])
def test_the_preprocessing_a_model_type_reads(model_type, used):
    sections = ("tokenizer", "image_processor", "feature_extractor", "processor")
    assert {s for s in sections if catalog.uses(model_type, s)} == used


def test_every_type_has_a_modality():
    groups = {modality(t) for t in model_types()}
    assert groups == {"text", "vision", "audio", "multimodal"}


# ----- every model class a type exports -----------------------------------------------------------


def test_gpt2_double_heads_is_offered_marked_and_accepted(cli_here):
    """No Auto class maps GPT2DoubleHeadsModel; transformers exports it and builds it from a GPT2Config."""
    head = next(h for h in heads("gpt2") if h.name == "GPT2DoubleHeadsModel")
    assert (head.mapped, head.task, head.fields) == (False, "double-heads", ())
    assert all(h.mapped for h in heads("gpt2") if h.name != "GPT2DoubleHeadsModel")
    assert resolve_architecture("gpt2", "GPT2DoubleHeadsModel") == head
    out = cli_here("heads", "gpt2")
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines()[-1].split() == ["GPT2DoubleHeadsModel", "double-heads", "(no", "Auto", "class)"]


def test_gpt2_double_heads_builds_and_summarises(tmp_path):
    from composer.summary import summarize

    spec = {"model_type": "gpt2", "architecture": "GPT2DoubleHeadsModel",
            "config": {"n_layer": 1, "n_embd": 16, "n_head": 2, "n_positions": 32, "vocab_size": 40}}
    summary = summarize(spec)
    assert summary["architecture"] == "GPT2DoubleHeadsModel"
    # The LM head is tied to the embeddings; the multiple-choice head is one 16 -> 1 projection.
    lm = summarize({**spec, "architecture": "GPT2LMHeadModel"})
    assert summary["total"] == lm["total"] + 16 + 1


@pytest.mark.slow  # imports every modeling module: about a minute
def test_every_head_is_a_buildable_model_class_of_its_own_type():
    """Over all types: no PreTrainedModel base, no class of another config, no backbone, nothing that
    needs more than the config to build; the marked ones are exactly those no Auto mapping lists."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model_type in model_types():
            mapped = {h.name for h in catalog.mapped_heads(model_type)}
            for head in heads(model_type):
                assert head.mapped == (head.name in mapped), head
                if head.mapped:
                    continue
                cls = getattr(transformers, head.name)
                assert issubclass(cls, transformers.PreTrainedModel), head
                assert cls.config_class is catalog.config_class(model_type), head
                assert not issubclass(cls, transformers.BackboneMixin), head
                assert not head.name.endswith("PreTrainedModel"), head
            bases = [h for h in heads(model_type) if h.task == "base"]
            # A guessed base only where transformers maps none (funnel maps two: FunnelModel, FunnelBaseModel).
            assert all(h.mapped for h in bases) or len(bases) == 1, model_type
    offered = {h.name for t in model_types() for h in heads(t)}
    assert not offered & {"BartPretrainedModel", "PretrainedBartModel", "DPRPretrainedReader",
                          "Qwen2_5OmniPreTrainedModelForConditionalGeneration"}  # bases by other names
    assert not offered & {"ResNetBackbone", "CLIPTextModel"} - {h.name for h in heads("clip_text_model")}
    # A real model despite its name (it has a forward), and one without a forward (it encodes, decodes):
    assert {"Ernie4_5_VLMoeVisionTransformerPretrainedModel", "ChameleonVQVAE"} <= offered


def test_the_fields_a_head_reads_come_from_the_catalog_and_js_keeps_no_list():
    assert catalog.HEAD_FIELDS == ("num_labels", "id2label", "label2id", "problem_type")
    reads = {h.name: h.fields for h in heads("distilbert")}
    assert reads["DistilBertForSequenceClassification"] == ("num_labels", "id2label", "problem_type")
    assert reads["DistilBertForTokenClassification"] == ("num_labels", "id2label")
    assert reads["DistilBertForQuestionAnswering"] == reads["DistilBertModel"] == ()
    assert catalog.fields_read("distilbert", None) == ()
    assert catalog.fields_read("vit", "ViTForImageClassification") == ("num_labels", "id2label", "problem_type")
    # The page is sent them as data (head_fields; errors routed in Python): no view keeps its own list.
    for js in sorted((ROOT / "js").rglob("*.js")):
        text = js.read_text(encoding="utf-8")
        assert "label2id" not in text and "problem_type" not in text, js.name
    assert "num_labels" not in (ROOT / "js" / "views" / "config_form.js").read_text(encoding="utf-8")


# ----- processor classes, read once ---------------------------------------------------------------


def test_the_default_tokenizer_the_view_offers_is_the_one_the_engine_builds_for_every_type():
    """A design that names no tokenizer class gets the catalog's default; the view shows the same one.
    (On main, 11 types disagreed: llama showed none and built LlamaTokenizer.)"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model_type in model_types():
            shown = catalog.default_class("tokenizer", model_type)
            spec = Spec.from_dict({"model_type": model_type, "tokenizer": {"vocab_file": "vocab.txt"}})
            if shown is None:
                with pytest.raises(SpecError, match="^tokenizer.class: .* has no default tokenizer class"):
                    tokenizer_section.tokenizer_class(spec)
            else:
                assert tokenizer_section.tokenizer_class(spec) is getattr(transformers, shown), model_type


def test_llama_shows_and_builds_llama_tokenizer():
    from composer.build import build_processors
    from widgets import TokenizerPreview

    assert TokenizerPreview(spec={"model_type": "llama"}).default_class == "LlamaTokenizer"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComposerWarning)
        built = build_processors({"model_type": "llama", "tokenizer": {"train": {"text": ["a mat for the cat"],
                                                                                 "vocab_size": 40}}})
    assert type(built["tokenizer"]).__name__ == "LlamaTokenizer"


def test_a_tokenizer_that_needs_an_absent_package_is_not_offered():
    """gpt-sw3's GPTSw3Tokenizer needs sentencepiece; main offered GPT2Tokenizer (named like its config)."""
    assert catalog.default_class("tokenizer", "gpt-sw3") is None
    assert catalog.default_class("tokenizer", "distilbert") == "BertTokenizer"
    assert catalog.default_class("image_processor", "vit") == "ViTImageProcessor"  # torchvision before PIL
    assert catalog.default_class("feature_extractor", "wav2vec2") == "Wav2Vec2FeatureExtractor"
    assert catalog.default_class("processor", "wav2vec2") == "Wav2Vec2Processor"
    assert {"ViTImageProcessor", "ViTImageProcessorPil"} <= set(catalog.known_classes("image_processor"))


# ----- backbones --------------------------------------------------------------------------------------


def test_backbone_facts():
    assert catalog.takes_backbone("maskformer") and catalog.takes_backbone("upernet")
    assert not catalog.takes_backbone("distilbert")
    assert catalog.default_backbone("maskformer") == "swin" and catalog.default_backbone("distilbert") == ""
    assert catalog.default_stage_count("maskformer") == 4 and catalog.default_stage_count("distilbert") is None
    assert catalog.stage_names("resnet") == ("stem", "stage1", "stage2", "stage3", "stage4")


# ----- no import cycle ---------------------------------------------------------------------------------


def _imports(path: Path) -> tuple[set[str], set[str]]:
    """(composer modules imported at the top, any module imported inside a function)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module.startswith("composer")}
    inner = {alias.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)
             if isinstance(n, ast.Import) for alias in n.names}
    inner |= {n.module for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) for n in ast.walk(f)
              if isinstance(n, ast.ImportFrom)}
    return top, inner


def test_catalog_and_fields_import_each_other_at_most_one_way():
    catalog_top, catalog_inner = _imports(ROOT / "composer" / "catalog.py")
    fields_top, fields_inner = _imports(ROOT / "composer" / "fields.py")
    assert catalog_top == {"composer.catalog_cache", "composer.errors"}
    assert catalog_inner == {"timm"}  # imports torchvision: only when a timm backbone is asked for
    assert "composer.catalog" in fields_top and not {m for m in fields_inner if m.startswith("composer")}
