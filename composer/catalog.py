"""What the installed transformers offers, read from its own Auto mappings (never a hand list)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from composer.errors import SpecError, shown


@dataclass(frozen=True)
class Head:
    """One architecture of a model type: the class name and the task its Auto mapping serves."""

    name: str
    task: str  # "base" for the bare model, else e.g. "sequence-classification"


def _auto():
    from transformers.models.auto import configuration_auto, modeling_auto

    return configuration_auto, modeling_auto


@functools.cache
def model_types() -> tuple[str, ...]:
    """Every model type the installed transformers knows, sorted."""
    configuration_auto, _ = _auto()
    return tuple(sorted(configuration_auto.CONFIG_MAPPING_NAMES))


def check_model_type(model_type: str, where: str = "model_type") -> None:
    if model_type not in set(model_types()):
        close = [t for t in model_types() if t.startswith(model_type[:3])][:5] if model_type else []
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m composer types`"
        raise SpecError(where, f"unknown model type {shown(model_type)}{hint}")


@functools.cache
def config_class(model_type: str):
    """The config class of a model type (imports only that model's configuration module)."""
    check_model_type(model_type)
    from transformers import CONFIG_MAPPING

    return CONFIG_MAPPING[model_type]


def _task_of(mapping_name: str) -> str:
    # MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES -> "sequence-classification",
    # MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES -> "speech-seq2seq"
    core = mapping_name.removesuffix("_MAPPING_NAMES").removeprefix("MODEL_FOR_").removeprefix("MODEL")
    return core.lower().replace("_2_", "2").replace("_", "-") or "base"


@functools.cache
def _head_mappings() -> tuple[tuple[str, dict], ...]:
    _, modeling_auto = _auto()
    out = []
    for name in sorted(dir(modeling_auto)):
        if name.startswith("MODEL") and name.endswith("_MAPPING_NAMES"):
            mapping = getattr(modeling_auto, name)
            if isinstance(mapping, dict):
                out.append((_task_of(name), mapping))
    return tuple(out)


@functools.cache
def _exported() -> frozenset[str]:
    import transformers

    return frozenset(transformers.__all__)


@functools.cache
def heads(model_type: str) -> tuple[Head, ...]:
    """The base model first, then every head class with its task(s), from transformers' mappings.

    A mapped class that transformers does not export (e.g. VoxtralRealtimeTextModel in 5.24) is
    left out: neither the engine nor the exported code could import it."""
    check_model_type(model_type)
    tasks: dict[str, list[str]] = {}
    for task, mapping in _head_mappings():
        names = mapping.get(model_type)
        if names is None or task == "backbone":
            continue
        for cls_name in (names,) if isinstance(names, str) else names:
            if cls_name in _exported():
                tasks.setdefault(cls_name, []).append(task)
    found = []
    for cls_name, ts in tasks.items():
        # A class serving several tasks (e.g. a base model listed under "pretraining" too) keeps the
        # most specific: "base" wins for the bare model, else the first task alphabetically.
        found.append(Head(cls_name, "base" if "base" in ts else sorted(ts)[0]))
    found.sort(key=lambda h: (h.task != "base", h.name))
    return tuple(found)


def _no_model_reason(model_type: str) -> str:
    """Why a model type cannot be composed; most such types are sub-configs of a larger model
    (``clip_text_model`` of ``clip``), so name the composable types of the same family."""
    from transformers.models.auto.configuration_auto import model_type_to_module_name

    if model_type in backbone_types():
        return (f"{shown(model_type)} is only a backbone (AutoBackbone): choose it as the backbone of a model "
                "that takes one")
    family = model_type_to_module_name(model_type)
    kin = [t for t in model_types() if t != model_type and model_type_to_module_name(t) == family and heads(t)]
    reason = f"{shown(model_type)} has no model class in transformers' Auto mappings"
    return f"{reason}; it is a part of a larger model: compose {' or '.join(kin[:3])}" if kin else reason


def resolve_architecture(model_type: str, architecture: str | None, where: str = "architecture") -> Head:
    """The Head for ``architecture`` (None = the base model), or a SpecError listing the choices."""
    options = heads(model_type)
    if not options:
        raise SpecError("model_type", _no_model_reason(model_type))
    if architecture is None:
        base = [h for h in options if h.task == "base"]
        if not base:
            raise SpecError(
                where, f"{shown(model_type)} has no base model; choose one of {', '.join(h.name for h in options)}"
            )
        return base[0]
    for head in options:
        if head.name == architecture:
            return head
    raise SpecError(where, f"{shown(architecture)} is not a {model_type} architecture; allowed: "
                    f"{', '.join(h.name for h in options)}")


@functools.cache
def backbone_types() -> tuple[str, ...]:
    """Model types usable as a backbone through AutoBackbone (transformers' own backbone mapping)."""
    _, modeling_auto = _auto()
    return tuple(sorted(t for t in modeling_auto.MODEL_FOR_BACKBONE_MAPPING_NAMES if t != "timm_backbone"))


@functools.cache
def timm_models(pattern: str = "*") -> tuple[str, ...]:
    """timm architectures that can be built offline (no weights needed)."""
    import timm

    return tuple(timm.list_models(pattern))


def takes_backbone(model_type: str) -> bool:
    """Whether this model type's config has a ``backbone_config`` (MaskFormer, DETR, UperNet, …)."""
    from composer.fields import config_fields

    return any(f.name == "backbone_config" for f in config_fields(model_type))


# ----- modality, used to group types in pickers and to make forward-pass inputs ---------------

_MODALITY_TASKS = {
    "audio": re.compile(r"audio|ctc|speech|xvector|text-to-waveform|text-to-spectrogram"),
    "vision": re.compile(r"image|vision|depth|object-detection|segmentation|video|keypoint|backbone"),
}

_READS_TEXT = re.compile(r"^text-to|multimodal|seq-to-seq")
# Towers and parts (clip_vision_model, qwen2_audio_encoder, sam_mask_decoder) have neither processors
# nor telling heads mapped: their name is the only signal left.
_MODALITY_NAMES = {  # in order: owlvit_text_model is text
    "text": re.compile(r"text"),
    "audio": re.compile(r"audio|speech|asr|wav|hifigan|mimi|voice|tts|transcribe|diarization|music"),
    "vision": re.compile(r"vision|visual|image|video|vit|sam|hiera|dino|convnext|resnet|swin|detr|vq|backbone"),
}


@functools.cache
def modality(model_type: str) -> str:
    """"text", "vision", "audio" or "multimodal", from the heads and processors transformers maps."""
    from transformers.models.auto import (feature_extraction_auto, image_processing_auto, tokenization_auto,
                                          video_processing_auto)

    kinds = set()
    if model_type in tokenization_auto.TOKENIZER_MAPPING_NAMES:
        kinds.add("text")
    if model_type in image_processing_auto.IMAGE_PROCESSOR_MAPPING_NAMES or \
            model_type in video_processing_auto.VIDEO_PROCESSOR_MAPPING_NAMES:
        kinds.add("vision")
    if model_type in feature_extraction_auto.FEATURE_EXTRACTOR_MAPPING_NAMES:
        kinds.add("audio" if "vision" not in kinds else "vision")
    tasks = {head.task for head in heads(model_type)}
    for task in tasks:
        for kind, pattern in _MODALITY_TASKS.items():
            if pattern.search(task):
                kinds.add(kind)
    # A speech recogniser's tokenizer only decodes its output (Wav2Vec2's CTC, Whisper): an audio model
    # reads text only if a head does (text-to-speech, audio LMs) or it is a dual encoder (CLAP).
    if "audio" in kinds and tasks != {"base"} and not any(_READS_TEXT.search(t) for t in tasks):
        kinds.discard("text")
    if not kinds:
        return next((kind for kind, pattern in _MODALITY_NAMES.items() if pattern.search(model_type)), "text")
    return kinds.pop() if len(kinds) == 1 else "multimodal"
