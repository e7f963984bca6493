"""What the composer offers is what the installed transformers offers: model types, heads with their
task, backbones (transformers' and timm's) and the modality a picker groups them by."""

from __future__ import annotations

import pytest
from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
from transformers.models.auto.modeling_auto import MODEL_FOR_BACKBONE_MAPPING_NAMES

from composer import SpecError
from composer.catalog import backbone_types, heads, modality, model_types, resolve_architecture, timm_models


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


def test_a_tower_without_a_model_class_points_to_the_model_that_holds_it():
    assert heads("altclip_text_model") == ()
    with pytest.raises(SpecError, match="part of a larger model: compose altclip$"):
        resolve_architecture("altclip_text_model", None)


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
])
def test_modality_groups_types_as_a_user_expects(model_type, expected):
    assert modality(model_type) == expected


def test_every_type_has_a_modality():
    groups = {modality(t) for t in model_types()}
    assert groups == {"text", "vision", "audio", "multimodal"}
