"""What the installed transformers offers, read once and only here (never a hand list): model types and
their config classes, heads and the config fields each reads, backbones and their stages, the processor
classes paired with each type, and the modality a picker groups types by."""

from __future__ import annotations

import collections
import dataclasses
import functools
import importlib
import inspect
import os
import pkgutil
import re
from dataclasses import dataclass
from typing import Any

from composer.catalog_cache import remembered
from composer.errors import SpecError, shown

# PreTrainedConfig's attributes that belong to a head rather than to the architecture: the label count and
# names a classifier sizes itself by, and the loss a sequence-level classifier picks.
HEAD_FIELDS = ("num_labels", "id2label", "label2id", "problem_type")
# By transformers' task names (its AutoModelFor… mappings): heads that predict classes read the labels;
# those whose loss is picked by problem_type (regression / single- / multi-label) read that too.
_LABELLED = re.compile(r"^(?!zero-shot).*(classification|detection|segmentation|xvector)")
_PROBLEM_TYPED = {"sequence-classification", "image-classification", "audio-classification",
                  "video-classification"}


def _transformers():
    """transformers itself, imported on first use: the import alone (~1.2 s, its lazy table of 800+ model
    packages) is more than half of a first render's budget, and a first render reads the catalog's answers
    from composer.catalog_cache instead."""
    return importlib.import_module("transformers")


def _auto(name: str):
    """transformers.models.auto.<name>, imported on first use rather than with this module: each of them
    imports torch (~3 s), the image and video ones torchvision too (~4 s more), and importing the catalog
    (as fields, build and the widgets do) must not pay for a mapping no one has asked for yet."""
    return importlib.import_module(f"transformers.models.auto.{name}")


@dataclass(frozen=True)
class Head:
    """One architecture of a model type: the class name and the task its Auto mapping serves."""

    name: str
    task: str  # "base" for the bare model, else e.g. "sequence-classification"
    mapped: bool = True  # False: transformers exports it but no Auto class maps it (the task is guessed)

    @property
    def fields(self) -> tuple[str, ...]:
        """The HEAD_FIELDS the form shows with this head (label2id follows id2label)."""
        names = ("num_labels", "id2label") if _LABELLED.match(self.task) else ()
        return names + ("problem_type",) if self.task in _PROBLEM_TYPED else names

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "task": self.task, "mapped": self.mapped, "fields": list(self.fields)}


@remembered(decode=tuple)
def model_types() -> tuple[str, ...]:
    """Every model type the installed transformers knows, sorted."""
    return tuple(sorted(_auto("configuration_auto").CONFIG_MAPPING_NAMES))


def check_model_type(model_type: str, where: str = "model_type") -> None:
    if model_type not in set(model_types()):
        close = [t for t in model_types() if t.startswith(model_type[:3])][:5] if model_type else []
        hint = f"; did you mean {', '.join(close)}?" if close else "; see `python -m composer types`"
        raise SpecError(where, f"unknown model type {shown(model_type)}{hint}")


def _package(model_type: str) -> str:
    """The ``transformers.models`` package holding a type's code (clip_text_model → clip)."""
    return _auto("configuration_auto").model_type_to_module_name(model_type)


@functools.cache
def config_class(model_type: str):
    """The config class of a model type (imports only that model's configuration module)."""
    check_model_type(model_type)
    return _transformers().CONFIG_MAPPING[model_type]


# ----- heads -----------------------------------------------------------------------------------


def _task_of(mapping_name: str) -> str:
    # MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES -> "sequence-classification",
    # MODEL_FOR_SPEECH_SEQ_2_SEQ_MAPPING_NAMES -> "speech-seq2seq"
    core = mapping_name.removesuffix("_MAPPING_NAMES").removeprefix("MODEL_FOR_").removeprefix("MODEL")
    return core.lower().replace("_2_", "2").replace("_", "-") or "base"


def _class_names(value: Any) -> list[str]:
    """An Auto mapping entry as class names: a name, a tuple of names, or {backend: name} with the
    torchvision class before the PIL one."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [v for k in ("torchvision", *sorted(value)) if isinstance(v := value.get(k), str)]
    return [v for v in value or () if isinstance(v, str)]


@functools.cache
def _head_mappings() -> tuple[tuple[str, dict], ...]:
    out = []
    for name in sorted(dir(modeling_auto := _auto("modeling_auto"))):
        if name.startswith("MODEL") and name.endswith("_MAPPING_NAMES"):
            mapping = getattr(modeling_auto, name)
            if isinstance(mapping, dict):
                out.append((_task_of(name), mapping))
    return tuple(out)


@functools.cache
def _exported() -> frozenset[str]:
    return frozenset(_transformers().__all__)


@functools.cache
def mapped_heads(model_type: str) -> tuple[Head, ...]:
    """The heads transformers' Auto mappings list for a model type (read from the mappings alone, nothing
    imported): the base model first. A mapped class transformers does not export (VoxtralRealtimeTextModel
    in 5.24) is left out: neither the engine nor the exported code could import it."""
    check_model_type(model_type)
    tasks: dict[str, list[str]] = {}
    for task, mapping in _head_mappings():
        if task == "backbone":  # offered through a model's backbone, not as an architecture
            continue
        for cls_name in _class_names(mapping.get(model_type)):
            if cls_name in _exported():
                tasks.setdefault(cls_name, []).append(task)
    # A class serving several tasks (e.g. a base model listed under "pretraining" too) keeps the most
    # specific: "base" wins for the bare model, else the first task alphabetically.
    found = [Head(name, "base" if "base" in ts else sorted(ts)[0]) for name, ts in tasks.items()]
    return tuple(sorted(found, key=lambda h: (h.task != "base", h.name)))


@functools.cache
def _package_model_classes(package: str) -> tuple[type, ...]:
    """The classes the modeling modules of ``transformers.models.<package>`` export (their ``__all__``).
    Importing a modeling module imports torch: done only when a type's full list of heads is asked for."""
    root = importlib.import_module(f"transformers.models.{package}")
    found: list[type] = []
    for info in pkgutil.iter_modules(root.__path__):
        if not info.name.startswith("modeling_"):
            continue
        try:
            module = importlib.import_module(f"{root.__name__}.{info.name}")
        except ImportError:  # needs an absent optional package: its classes cannot be built here either
            continue
        found += [c for n in getattr(module, "__all__", ()) if isinstance(c := getattr(module, n, None), type)]
    return tuple(dict.fromkeys(found))


def _builds_from_config(cls) -> bool:
    """``cls(config)`` is a whole call: config first, every other parameter optional."""
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    return bool(params) and params[0].name == "config" and all(
        p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params[1:])


def _is_abstract_base(cls) -> bool:
    """A PreTrainedModel base by another name (BartPretrainedModel, DPRPretrainedReader, …): no forward
    below PreTrainedModel. (A VQ-VAE without a forward but not named so is a model: it encodes, decodes.)"""
    base = _transformers().PreTrainedModel
    own = any("forward" in vars(k) for k in cls.__mro__ if issubclass(k, base) and k is not base)
    return not own and re.search("pretrained", cls.__name__, re.I) is not None


_SUFFIX = re.compile(r"(For[A-Z]\w*|LMHeadModel)$")


@functools.cache
def _suffix_tasks() -> dict[str, str]:
    """"ForSequenceClassification" → the task the Auto mappings most often give a class so named."""
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for task, mapping in _head_mappings():
        if task in ("base", "backbone"):
            continue
        for value in mapping.values():
            for name in _class_names(value):
                if m := _SUFFIX.search(name):
                    counts[m.group()][task] += 1
    return {suffix: c.most_common(1)[0][0] for suffix, c in counts.items()}


def _kebab(words: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", words).lower()


def _guessed_task(name: str, model_type: str, has_base: bool) -> str:
    """The task of a class no Auto mapping lists, from its name: a known "For…" suffix takes the task the
    mappings give it; the type's own ``…Model`` (or the class named as its config) is its base model when
    it has none; else the words between the type's prefix and "Model" (GPT2DoubleHeadsModel →
    "double-heads")."""
    if (m := _SUFFIX.search(name)) and m.group() in _suffix_tasks():
        return _suffix_tasks()[m.group()]
    prefix = config_class(model_type).__name__.removesuffix("Config")
    rest = name[len(os.path.commonprefix([prefix, name])):]
    rest = rest[next((i for i, ch in enumerate(rest) if ch.isupper()), 0):]  # Step3p5Config, Step3p7TextModel
    if rest in ("", "Model") and not has_base:  # AltCLIPTextModel, ChameleonVQVAE
        return "base"
    if m:
        return _kebab(m.group().removeprefix("For"))
    return _kebab(rest.replace("Model", "", 1)) or "model"


def _head_rows(found: tuple[Head, ...]) -> list[list]:
    return [[h.name, h.task, h.mapped] for h in found]


def _from_head_rows(rows: list[list]) -> tuple[Head, ...]:
    return tuple(Head(*row) for row in rows)


@remembered(encode=_head_rows, decode=_from_head_rows)
def heads(model_type: str) -> tuple[Head, ...]:
    """Every model class of the type that transformers exports: the mapped heads (base model first),
    then those no Auto class maps (GPT2DoubleHeadsModel), marked and with a guessed task. Left out: the
    PreTrainedModel bases, classes of another config (a CLIP package also holds CLIPTextModel), backbones
    (chosen as a model's backbone) and classes a config alone cannot build."""
    mapped = mapped_heads(model_type)
    cls = config_class(model_type)
    has_base = any(h.task == "base" for h in mapped)
    tf = _transformers()
    extra = []
    for klass in _package_model_classes(_package(model_type)):
        if (klass.__name__ in {h.name for h in mapped} or klass.__name__ not in _exported()
                or not issubclass(klass, tf.PreTrainedModel) or getattr(klass, "config_class", None) is not cls
                or issubclass(klass, tf.BackboneMixin) or not _builds_from_config(klass)
                or _is_abstract_base(klass)):
            continue
        task = _guessed_task(klass.__name__, model_type, has_base)
        has_base = has_base or task == "base"
        extra.append(Head(klass.__name__, task, mapped=False))
    return tuple(sorted((*mapped, *extra), key=lambda h: (h.task != "base", not h.mapped, h.name)))


def fields_read(model_type: str, architecture: str | None) -> tuple[str, ...]:
    """The HEAD_FIELDS ``architecture`` reads; None, or a name the type does not have (being typed), reads
    what the base model reads."""
    options = heads(model_type)
    chosen = next((h for h in options if h.name == architecture), None) or \
        next((h for h in options if h.task == "base"), None)
    return chosen.fields if chosen else ()


def _no_model_reason(model_type: str) -> str:
    """Why a model type cannot be composed; most such types are sub-configs of a larger model
    (``clip_text_model`` of ``clip``), so name the composable types of the same family."""
    if model_type in backbone_types():
        return (f"{shown(model_type)} is only a backbone (AutoBackbone): choose it as the backbone of a model "
                "that takes one")
    kin = [t for t in model_types() if t != model_type and _package(t) == _package(model_type) and heads(t)]
    reason = f"{shown(model_type)} has no model class in transformers"
    return f"{reason}; it is a part of a larger model: compose {' or '.join(kin[:3])}" if kin else reason


def resolve_architecture(model_type: str, architecture: str | None, where: str = "architecture") -> Head:
    """The Head for ``architecture`` (None = the base model), or a SpecError listing the choices. A mapped
    head answers from the Auto mappings alone; only another name imports the type's modeling code."""
    for head in mapped_heads(model_type):
        if head.name == architecture or (architecture is None and head.task == "base"):
            return head
    options = heads(model_type)
    if not options:
        raise SpecError("model_type", _no_model_reason(model_type))
    for head in options:
        if head.name == architecture or (architecture is None and head.task == "base"):
            return head
    if architecture is None:
        raise SpecError(where, f"{shown(model_type)} has no base model; choose one of "
                        f"{', '.join(h.name for h in options)}")
    raise SpecError(where, f"{shown(architecture)} is not a {model_type} architecture; allowed: "
                    f"{', '.join(h.name for h in options)}")


# ----- backbones -------------------------------------------------------------------------------


@remembered(decode=tuple)
def backbone_types() -> tuple[str, ...]:
    """Model types usable as a backbone through AutoBackbone (transformers' own backbone mapping)."""
    return tuple(sorted(t for t in _auto("modeling_auto").MODEL_FOR_BACKBONE_MAPPING_NAMES if t != "timm_backbone"))


@remembered(decode=tuple, depends=("timm",))
def timm_models(pattern: str = "*") -> tuple[str, ...]:
    """timm architectures that can be built offline (no weights needed)."""
    import timm  # imports torch and torchvision: only when a backbone picker or a timm design asks

    return tuple(timm.list_models(pattern))


@remembered()
def takes_backbone(model_type: str) -> bool:
    """Whether this model type's config has a ``backbone_config`` (MaskFormer, DETR, UperNet, …)."""
    cls = config_class(model_type)
    return dataclasses.is_dataclass(cls) and any(f.name == "backbone_config" for f in dataclasses.fields(cls))


@functools.cache
def _default_backbone_config(model_type: str):
    return getattr(config_class(model_type)(), "backbone_config", None) if takes_backbone(model_type) else None


@remembered()
def default_backbone(model_type: str) -> str:
    """What the config builds when no backbone is chosen, e.g. "swin" or "timm resnet50" ("" if none)."""
    default = _default_backbone_config(model_type)
    if default is None:
        return ""
    return f"timm {default.backbone}" if default.model_type == "timm_backbone" else default.model_type


def default_stage_count(model_type: str) -> int | None:
    """How many feature maps the model's own default backbone hands on (MaskFormer: 4), so that a chosen
    backbone feeds the same number; ResNet's default of ["stage4"] alone breaks the forward pass."""
    default = _default_backbone_config(model_type)
    outs = getattr(default, "out_indices", None) or getattr(default, "out_features", None)
    return len(outs) if outs else None


@remembered(decode=tuple)
def stage_names(backbone_type: str) -> tuple[str, ...]:
    """The stages a transformers backbone type's default config offers (stem, stage1, …)."""
    return tuple(getattr(config_class(backbone_type)(), "stage_names", ()) or ())


# ----- processor classes -----------------------------------------------------------------------

def _processor_mapping(kind: str) -> dict[str, Any]:
    module, name = {"tokenizer": ("tokenization_auto", "TOKENIZER"),
                    "image_processor": ("image_processing_auto", "IMAGE_PROCESSOR"),
                    "video_processor": ("video_processing_auto", "VIDEO_PROCESSOR"),
                    "feature_extractor": ("feature_extraction_auto", "FEATURE_EXTRACTOR"),
                    "processor": ("processing_auto", "PROCESSOR")}[kind]
    return getattr(_auto(module), f"{name}_MAPPING_NAMES")


def _is_tokenizer_class(name: str) -> bool:
    tf = _transformers()
    cls = getattr(tf, name, None)  # a class that needs an absent package is a placeholder
    return isinstance(cls, type) and issubclass(cls, tf.PreTrainedTokenizerBase)


@functools.cache
def default_class(kind: str, model_type: str) -> str | None:
    """The class transformers pairs with a model type for ``kind`` ("tokenizer", "image_processor",
    "feature_extractor" or "processor"): vit →
    ViTImageProcessor; None if it pairs none. A type the 5.x tokenizer mapping leaves out although its
    class exists (llama → LlamaTokenizer) gets the tokenizer named like its config; a tokenizer that needs
    an absent package (gpt-sw3 and plbart need sentencepiece) is none: nothing could build it here."""
    mapping = _processor_mapping(kind)
    names = _class_names(mapping.get(model_type))
    if kind != "tokenizer":
        return names[0] if names else None
    if not names and model_type not in mapping:
        names = [config_class(model_type).__name__.removesuffix("Config") + "Tokenizer"]
    return names[0] if names and _is_tokenizer_class(names[0]) else None


@functools.cache
def known_classes(kind: str) -> tuple[str, ...]:
    """Every class transformers maps to some model type for ``kind``, sorted: the choices of a class field."""
    return tuple(sorted({n for value in _processor_mapping(kind).values() for n in _class_names(value)}))


# ----- modality, used to group types in pickers and to make forward-pass inputs ---------------

_MODALITY_TASKS = {
    "audio": re.compile(r"audio|ctc|speech|xvector|text-to-waveform|text-to-spectrogram"),
    "vision": re.compile(r"image|vision|visual|document|depth|object-detection|segmentation|video|keypoint"),
    # Heads that read text: language models, and those answering about an image (image-text-to-text, VQA).
    # Not text-recognition (OCR): its text is the output, as a speech recogniser's is.
    "text": re.compile(r"-lm$|text-encoding|image-text|question-answering|multiple-choice|next-sentence"),
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
def modalities(model_type: str) -> frozenset[str]:
    """What a model type reads, some of "text", "vision" and "audio", from the heads and processors
    transformers maps (the mappings alone: the model type picker asks this of every type); empty when
    nothing mapped tells."""
    kinds = set()
    if model_type in _processor_mapping("tokenizer"):
        kinds.add("text")
    if model_type in _processor_mapping("image_processor") or model_type in _processor_mapping("video_processor"):
        kinds.add("vision")
    if model_type in _processor_mapping("feature_extractor"):
        kinds.add("audio" if "vision" not in kinds else "vision")
    tasks = {head.task for head in mapped_heads(model_type)}
    for task in tasks:
        for kind, pattern in _MODALITY_TASKS.items():
            if pattern.search(task):
                kinds.add(kind)
    # A speech recogniser's tokenizer only decodes its output (Wav2Vec2's CTC, Whisper): an audio model
    # reads text only if a head does (text-to-speech, audio LMs) or it is a dual encoder (CLAP).
    if "audio" in kinds and tasks != {"base"} and not any(_READS_TEXT.search(t) for t in tasks):
        kinds.discard("text")
    return frozenset(kinds)


@remembered()  # read by a first render's panel headings
def modality(model_type: str) -> str:
    """"text", "vision", "audio" or "multimodal" (several of them); a type whose mappings tell nothing
    goes by its name."""
    kinds = modalities(model_type)
    if not kinds:
        return next((kind for kind, pattern in _MODALITY_NAMES.items() if pattern.search(model_type)), "text")
    return next(iter(kinds)) if len(kinds) == 1 else "multimodal"


# What a model of each modality reads, and which preprocessing section makes it: token ids (a tokenizer),
# pixel values (an image processor), features of a waveform (a feature extractor).
_MODALITY_SECTION = {"text": "tokenizer", "vision": "image_processor", "audio": "feature_extractor"}
_SECTION_KINDS = {"tokenizer": ("tokenizer",), "image_processor": ("image_processor", "video_processor"),
                  "feature_extractor": ("feature_extractor",), "processor": ("processor",)}


@remembered()  # read by a first render's panel headings
def uses(model_type: str, section: str) -> bool:
    """Whether a model type reads what a preprocessing section ("tokenizer", "image_processor",
    "feature_extractor", "processor") makes: transformers pairs a class of that kind with it (Wav2Vec2's
    CTC tokenizer, CLIP's processor, even one that needs an absent package), or it makes what one of its
    modalities reads (Llama 4 reads text, though transformers maps it no tokenizer class)."""
    reads = modalities(model_type) or {modality(model_type)}
    return any(model_type in _processor_mapping(kind) for kind in _SECTION_KINDS[section]) or \
        section in {_MODALITY_SECTION[kind] for kind in reads}


MODALITIES = ("text", "vision", "audio", "multimodal")  # how a model type picker groups the types, in order


@remembered()
def types_by_modality() -> dict[str, list[str]]:
    """{modality: [model types]}, every type in one group (~0.1 s for all 800+ types once the mappings
    are imported; kept, as the model type picker of a first render reads it)."""
    groups: dict[str, list[str]] = {m: [] for m in MODALITIES}
    for model_type in model_types():
        groups.setdefault(modality(model_type), []).append(model_type)
    return groups
