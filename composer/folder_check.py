"""A checkpoint folder read whole before anything trusts it (``check`` and ``pretrained``).

transformers, given a damaged folder, raises deep in its loader, asks to run the folder's own Python
code, or builds whatever config.json says (200,000 layers beside a 12-byte weights file). Here every
JSON file, every safetensors header and every weight name is read and checked first, without reading a
weight or building anything but a meta model; each problem is one SpecError naming the file and the key.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from composer import catalog, limits
from composer.classes import tokenizer_class_name, transformers_class
from composer.errors import SpecError, one_line, shown
from composer.fields import MANAGED, check_value, class_fields
from composer.paths import checked_path, json_kind, read_json_object, read_regular, stamp

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
INDEX = "model.safetensors.index.json"
PICKLES = ("pytorch_model.bin", "pytorch_model.bin.index.json")
# The processor configs, and the keys in them that name a class with the transformers base it must derive from.
PROCESSOR_FILES = ("tokenizer_config.json", "preprocessor_config.json", "processor_config.json")
CLASS_KEYS = {"tokenizer_class": "PreTrainedTokenizerBase", "image_processor_type": "ImageProcessingMixin",
              "feature_extractor_type": "FeatureExtractionMixin", "processor_class": "ProcessorMixin"}
# A processor's save_pretrained (5.x) keeps its image processor / feature extractor inside
# processor_config.json, each with its own *_type key.
NESTED = ("image_processor", "feature_extractor")
JSON_FILES = (CONFIG, *PROCESSOR_FILES)


@dataclass(frozen=True)
class Header:
    """One tensor as its safetensors header describes it."""

    file: str
    dtype: str
    shape: tuple[int, ...]


@dataclass(frozen=True)
class Folder:
    """What a folder holds, read and checked; no weight read."""

    path: Path
    json: dict[str, dict[str, Any]]  # config.json and each processor config present, as parsed
    model_type: str
    architecture: str  # the class config.json names (else the base model)
    tensors: dict[str, Header]  # checkpoint name -> header

    @property
    def weights_file(self) -> str:
        return WEIGHTS if (self.path / WEIGHTS).is_file() else INDEX


@dataclass(frozen=True)
class Weight:
    """Where one tensor of a model comes from when it loads the folder (issue 12's weight provenance).

    status: "loaded" (from ``source``), "tied" (shares the model's tensor ``tied_to``), "new" (not in the
    checkpoint: initialised afresh), "resized" (the checkpoint's tensor has another shape, ``checkpoint_shape``)
    or "unused" (a checkpoint tensor the model has no place for; ``name`` as transformers reports it)."""

    name: str
    status: str
    shape: tuple[int, ...]
    source: str | None = None  # the checkpoint's own name (several, joined by ", ", for a converted tensor)
    checkpoint_shape: tuple[int, ...] | None = None
    file: str | None = None  # the weights file holding ``source``
    tied_to: str | None = None


@dataclass(frozen=True)
class Provenance:
    """How a folder's weights fill a model: each tensor's Weight, and what is left over."""

    architecture: str
    # Every tensor of the model's state_dict, except those transformers itself ignores on load (e.g. position_ids).
    weights: dict[str, Weight]
    unused: dict[str, Weight]  # checkpoint tensors the model has no place for, by the name transformers reports

    def named(self, status: str) -> list[str]:
        found = self.unused if status == "unused" else self.weights
        return sorted(w.name for w in found.values() if w.status == status)


# ----- JSON files ------------------------------------------------------------------------------


def read_config_file(path: str | Path, name: str) -> dict[str, Any]:
    """A folder's (or a cached hub repo's) JSON config, refused if it asks for its own code (auto_map):
    transformers would then import Python shipped with it, or ask whether it may."""
    settings = read_json_object(Path(path), name, limits.MAX_FOLDER_JSON_BYTES)
    if "auto_map" in settings:
        raise SpecError(name, "has an auto_map: loading it would run Python code shipped in the folder "
                        "or on the hub; the composer never runs remote code")
    return settings


def read_configs(folder: Path) -> dict[str, dict[str, Any]]:
    """The folder's JSON configs, parsed; none asks for its own code, and each processor class they name
    is a transformers class (config.json's own checks are ``read``'s)."""
    found = {name: read_config_file(folder / name, name) for name in JSON_FILES if (folder / name).is_file()}
    _check_processors(found)
    return found


def _check_values(cls, values: dict[str, Any], where: str) -> None:
    """config.json's values pass the checks a Spec's config does (composer.fields.check_value), sub-configs
    included: a value no Spec could hold is refused here too (e.g. a layer count past limits.MAX_LAYERS)."""
    if not dataclasses.is_dataclass(cls):  # no typed fields to check against (nor a form for a Spec)
        return
    by_name = {f.name: f for f in class_fields(cls)}
    aliases = getattr(cls, "attribute_map", {})
    sub_configs = getattr(cls, "sub_configs", {}) or {}
    for key, value in values.items():
        name = aliases.get(key, key)
        f = by_name.get(name)
        if f is None or name in MANAGED:
            continue  # transformers keeps unknown keys as plain attributes; they build nothing
        try:
            check_value(f, value, key)
        except SpecError as err:
            raise SpecError(CONFIG, f"{where}{err}") from None
        sub = sub_configs.get(name)
        if isinstance(value, dict) and sub is not None:
            sub_type = value.get("model_type")
            if isinstance(sub_type, str) and sub_type in catalog.model_types():
                sub = catalog.config_class(sub_type)
            _check_values(sub, value, f"{where}{key}.")


def check_config(config: dict[str, Any]) -> tuple[str, str]:
    """(model_type, architecture) of a parsed config.json, every value checked."""
    model_type = config.get("model_type")
    if not isinstance(model_type, str):
        raise SpecError(CONFIG, "has no model_type string; not a transformers config")
    if model_type not in catalog.model_types():
        raise SpecError(CONFIG, f"model_type {shown(model_type)} is not a transformers model type")
    names = config.get("architectures")
    if names is not None and (not isinstance(names, list) or not all(isinstance(n, str) for n in names)):
        raise SpecError(CONFIG, f"architectures must be a list of class names, got {shown(names)}")
    known = [h.name for h in catalog.heads(model_type)]
    if not known:
        try:
            catalog.resolve_architecture(model_type, None)  # raises why the type has no model class
        except SpecError as err:
            raise SpecError(CONFIG, f"model_type: {err.message}") from None
    for name in names or ():
        if name not in known:
            raise SpecError(CONFIG, f"architectures: {shown(name)} is not a {model_type} class; known: "
                            f"{', '.join(known[:8])}{', ...' if len(known) > 8 else ''}")
    base = [h.name for h in catalog.heads(model_type) if h.task == "base"]
    if not names and not base:
        raise SpecError(CONFIG, f"architectures is empty and {model_type} has no base model to load instead; "
                        f"name one of {', '.join(known[:8])}")
    architecture = names[0] if names else base[0]
    _check_values(catalog.config_class(model_type), config, "")
    return model_type, architecture


def _check_processors(found: dict[str, dict[str, Any]]) -> None:
    """Each class a processor config names is a transformers class of the right kind."""
    for name in PROCESSOR_FILES:
        settings = found.get(name)
        if settings is None:
            continue
        sections = [("", settings)] + [(f"{part}.", settings[part]) for part in NESTED
                                       if isinstance(settings.get(part), dict)]
        for where, section in sections:
            for key, base in CLASS_KEYS.items():
                value = section.get(key)
                if value is None:
                    continue
                if key == "tokenizer_class" and isinstance(value, str):
                    value = tokenizer_class_name(value)
                try:
                    transformers_class(value, base, name, base)
                except SpecError:
                    raise SpecError(name, f"{where}{key}: {shown(value)} is not a transformers {base} "
                                    "class") from None


# ----- safetensors headers ---------------------------------------------------------------------


def read_header(path: Path, name: str) -> dict[str, Header]:
    """The tensors a safetensors file declares, checked against the file's size: its 8-byte header
    length, the JSON header, and each tensor's dtype, shape and data_offsets. No weight is read."""
    from safetensors.torch import _TYPES  # safetensors' own dtype names

    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SpecError(name, f"truncated: {size} bytes, not even the 8-byte header length")
        (length,) = struct.unpack("<Q", head)
        if length > limits.MAX_SAFETENSORS_HEADER_BYTES:
            raise SpecError(name, f"header length {length:,} bytes; safetensors allows at most "
                            f"{limits.MAX_SAFETENSORS_HEADER_BYTES:,}")
        if 8 + length > size:
            raise SpecError(name, f"truncated: header says {length:,} bytes of header, the file has {size - 8:,}")
        raw = f.read(length)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SpecError(name, "the header is not a UTF-8 JSON object") from None
    if not isinstance(header, dict):
        raise SpecError(name, f"the header is {json_kind(header)}, not a JSON object")
    header.pop("__metadata__", None)
    data = size - 8 - length
    tensors, spans = {}, []
    for key, entry in header.items():
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            raise SpecError(name, f"{shown(key)}: expected dtype, shape and data_offsets")
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if dtype not in _TYPES:
            raise SpecError(name, f"{shown(key)}: unknown dtype {shown(dtype)}")
        if not isinstance(shape, list) or not all(type(n) is int and n >= 0 for n in shape):
            raise SpecError(name, f"{shown(key)}: shape {shown(shape)} is not a list of sizes")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(type(n) is int for n in offsets) \
                or not 0 <= offsets[0] <= offsets[1]:
            raise SpecError(name, f"{shown(key)}: data_offsets {shown(offsets)} is not [begin, end]")
        numel = 1
        for n in shape:
            numel *= n
        needed = numel * _TYPES[dtype].itemsize
        if offsets[1] - offsets[0] != needed:
            raise SpecError(name, f"{shown(key)}: {dtype} {shown(shape)} needs {needed:,} bytes, its data_offsets span "
                            f"{offsets[1] - offsets[0]:,}")
        spans.append((offsets[0], offsets[1], key))
        tensors[key] = Header(name, dtype, tuple(shape))
    end = 0
    for begin, stop, key in sorted(spans):
        if begin != end:
            raise SpecError(name, f"{shown(key)}: data_offsets start at {begin:,}, the tensor before ends at {end:,}")
        end = stop
    if end != data:
        raise SpecError(name, f"header says {end:,} bytes of data, the file has {data:,}")
    return tensors


def _read_weights(folder: Path) -> dict[str, Header]:
    """Every tensor of the weights transformers would load with use_safetensors=True."""
    if (folder / WEIGHTS).is_file():
        return read_header(folder / WEIGHTS, WEIGHTS)
    if (folder / INDEX).is_file():
        index = read_json_object(folder / INDEX, INDEX, limits.MAX_FOLDER_JSON_BYTES)
        weight_map = index.get("weight_map")
        if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
            raise SpecError(INDEX, "weight_map must be an object of tensor name -> file name")
        tensors: dict[str, Header] = {}
        root = folder.resolve()
        for shard in sorted(set(weight_map.values())):
            try:
                checked_path(shard, INDEX)  # a NUL or an over-long name makes every filesystem call raise
            except SpecError as err:
                raise SpecError(INDEX, f"weight_map: {err.message}") from None
            path = (folder / shard).resolve()
            if path.parent != root:
                raise SpecError(INDEX, f"weight_map points at {shown(shard)}, outside the folder")
            if not path.is_file():
                raise SpecError(INDEX, f"weight_map points at {shown(shard)}, which is not in the folder")
            tensors.update(read_header(path, shard))
        for key, shard in weight_map.items():
            if tensors.get(key) is None or tensors[key].file != Path(shard).name:
                raise SpecError(INDEX, f"weight_map puts {shown(key)} in {shown(shard)}, whose header has no such tensor")
        return tensors
    pickles = [name for name in PICKLES if (folder / name).is_file()]
    if pickles:
        raise SpecError(pickles[0], "weights as a pickle, which the composer never opens (unpickling can run "
                        "code); save them as model.safetensors")
    raise SpecError(WEIGHTS, "missing: the folder has a config.json but no weights (model.safetensors or "
                    "model.safetensors.index.json)")


# ----- the folder ------------------------------------------------------------------------------

_CACHE: OrderedDict[tuple, Folder] = OrderedDict()


def read(folder: str | Path) -> Folder:
    """The folder read whole and checked; cached per folder while no file in it changes."""
    path = Path(folder).expanduser()
    if not (path / CONFIG).is_file():
        raise SpecError("DIR", f"{path} has no config.json; not a save_pretrained folder")
    key = (str(path.resolve()), stamp(path))  # a cached read is kept while the folder holds
    if key not in _CACHE:
        found = read_configs(path)
        model_type, architecture = check_config(found[CONFIG])
        _CACHE[key] = Folder(path, found, model_type, architecture, _read_weights(path))
        while len(_CACHE) > 16:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    return _CACHE[key]


# ----- the weights against a model -------------------------------------------------------------


def match(folder: Folder, model) -> Provenance:
    """Where each tensor of ``model`` (a meta model) would come from if it loaded the folder, decided as
    transformers' own loader decides it (core_model_loading.convert_and_load_state_dict_in_model, then
    PreTrainedModel._finalize_model_loading): checkpoint names renamed by its conversion mapping, the
    base-model prefix added or removed, converters (e.g. experts merged) run on meta tensors of the header's
    shapes, tied weights taken from whichever side the checkpoint has, the model's own ignore rules."""
    from transformers.conversion_mapping import get_model_conversion_mapping
    from transformers.core_model_loading import WeightConverter, WeightRenaming, dot_natural_key, rename_source_key

    expected = model.state_dict()
    mapping = get_model_conversion_mapping(model)
    renamings = [t for t in mapping if isinstance(t, WeightRenaming)]
    converters = [t for t in mapping if isinstance(t, WeightConverter)]
    by_pattern = {p: c for c in converters for p in c.source_patterns}
    prefix = model.base_model_prefix
    renamed: dict[str, tuple[str, Header]] = {}  # model name -> the first checkpoint tensor renamed to it
    grouped: dict[str, list[tuple[str, str, Header]]] = {}  # a converter's first target -> (pattern, key, header)
    unused: dict[str, Weight] = {}
    for key in sorted(folder.tensors, key=dot_natural_key):
        header = folder.tensors[key]
        name, pattern = rename_source_key(key, renamings, converters, prefix, expected)
        if name not in expected and key in expected:  # as transformers: the prefix alone, no renaming
            name, pattern = rename_source_key(key, [], [], prefix, expected)
        if name in expected:
            if pattern is None:
                renamed.setdefault(name, (key, header))
            else:
                grouped.setdefault(name, []).append((pattern, key, header))
            continue
        targets = by_pattern[pattern].target_patterns if pattern is not None else [None]
        for target in targets:  # an unmatched converter's every target is reported, as transformers does
            other = name if target is None else name.replace(targets[0], target)
            unused[other] = Weight(other, "unused", header.shape, key, header.shape, header.file)
    placed: dict[str, Weight] = {}
    modules = dict(model.named_modules(remove_duplicate=False))
    for name, (key, header) in renamed.items():
        _place(modules, Weight(name, "loaded", tuple(expected[name].shape), key, header.shape, header.file),
               placed, unused)
    for first, sources in grouped.items():
        for name, shape in _converted(model, by_pattern[sources[0][0]], first, sources).items():
            if name in expected:
                _place(modules, Weight(name, "loaded", tuple(expected[name].shape), ", ".join(k for _, k, _ in sources),
                                     shape, sources[0][2].file), placed, unused)
    missing = set(expected) - set(placed)
    for target, tied_to in _tied(model, missing).items():
        source = placed.get(tied_to)
        placed[target] = dataclasses.replace(source, name=target, status="tied", tied_to=tied_to)
        missing.discard(target)
    kept_missing, kept_unused = _not_ignored(model, missing, set(unused))
    for name in sorted(kept_missing):
        placed[name] = Weight(name, "new", tuple(expected[name].shape))
    order = {name: i for i, name in enumerate(expected)}
    weights = {name: placed[name] for name in sorted(placed, key=order.__getitem__)}
    return Provenance(type(model).__name__, weights, {k: unused[k] for k in sorted(kept_unused)})


def _place(modules: dict[str, Any], weight: Weight, placed: dict[str, Weight], unused: dict[str, Weight]) -> None:
    """A checkpoint tensor (``weight``, as if loaded) put where transformers' set_param_for_module puts it: a
    module attribute that is None takes nothing (unused), a shape that differs is resized, else it loads."""
    import torch

    path, _, attr = weight.name.rpartition(".")
    if attr != torch.nn.modules.module._EXTRA_STATE_KEY_SUFFIX and getattr(modules[path], attr) is None:
        unused[weight.name] = dataclasses.replace(weight, status="unused", shape=weight.checkpoint_shape)
    elif weight.checkpoint_shape != weight.shape:
        placed[weight.name] = dataclasses.replace(weight, status="resized")
    else:
        placed[weight.name] = weight


def _converted(model, converter, first: str, sources: list[tuple[str, str, Header]]) -> dict[str, tuple[int, ...]]:
    """The shapes a converter makes of its checkpoint tensors (fused, split, merged), from meta tensors of the
    header's shapes: its own operations run, nothing is read. A conversion that fails gives nothing, as
    transformers skips it (its targets stay new)."""
    import copy

    import torch
    from safetensors.torch import _TYPES
    from transformers.core_model_loading import SkipParameters
    from transformers.utils.loading_report import LoadStateDictInfo

    converter = copy.deepcopy(converter)
    for pattern, key, header in sources:
        converter.add_tensor(first, key, pattern,
                             lambda h=header: torch.empty(h.shape, dtype=_TYPES[h.dtype], device="meta"))
    info = LoadStateDictInfo(missing_keys=set(), unexpected_keys=set(), mismatched_keys=set(), error_msgs=[],
                             conversion_errors={}, skipped_pp_keys=set())
    try:
        with torch.device("meta"):
            made = converter.convert(first, model=model, config=model.config, hf_quantizer=None, loading_info=info)
    except SkipParameters:
        return {}
    return {name: tuple((value[0] if isinstance(value, list) else value).shape) for name, value in made.items()}


def _tied(model, missing: set[str]) -> dict[str, str]:
    """The tied weights the checkpoint fills (tied name -> the name it shares), as PreTrainedModel.tie_weights
    decides during from_pretrained: symmetric (a missing source takes the target's tensor), through another
    tie of the same source when both are missing. ``missing`` is read as it shrinks, as transformers does."""
    missing = set(missing)
    tied: dict[str, str] = {}
    pairs = list(getattr(model, "all_tied_weights_keys", {}).items())
    for i, (target, source) in enumerate(pairs):
        source_there, target_there = source not in missing, target not in missing
        if source_there and target_there:
            continue
        if target_there:
            target, source = source, target
        elif not source_there:
            backup = next((t for t, s in pairs[i + 1:] if s == source and t not in missing), None)
            if backup is None:
                continue  # both absent: transformers leaves them missing
            source = backup
        tied[target] = source
        missing.discard(target)
    return tied


def _not_ignored(model, missing: set[str], unused: set[str]) -> tuple[set[str], set[str]]:
    """The missing and unused names transformers reports: the model's own ignore rules applied
    (PreTrainedModel._adjust_missing_and_unexpected_keys: e.g. a legacy position_ids in the checkpoint)."""
    from transformers.utils.loading_report import LoadStateDictInfo

    info = LoadStateDictInfo(missing_keys=set(missing), unexpected_keys=set(unused), mismatched_keys=set(),
                             error_msgs=[], conversion_errors={}, skipped_pp_keys=set())
    model._adjust_missing_and_unexpected_keys(info)
    return info.missing_keys, info.unexpected_keys


def refuse_random(folder: Folder, found: Provenance) -> None:
    """No checkpoint name matches the model at all: the wrong folder, or names no rule of transformers renames;
    every weight would be random."""
    if not any(w.status in ("loaded", "resized") for w in found.weights.values()):
        example = f" (it holds e.g. {next(iter(folder.tensors))})" if folder.tensors else " (it holds none)"
        raise SpecError(folder.weights_file, f"no weight name matches {found.architecture}: every weight would be "
                        f"random{example}")


def trusted(folder: Folder, model) -> Provenance:
    """``match``, refusing what would load wrong: a resized tensor, no name matching at all (every weight
    random), or base-model weights missing. A new head's weights may be missing: they are its to learn."""
    found = match(folder, model)
    arch = found.architecture
    resized = [found.weights[name] for name in found.named("resized")]
    if resized:
        w = resized[0]
        more = f" (and {len(resized) - 1} more)" if len(resized) > 1 else ""
        raise SpecError(w.file, f"{w.source} is {list(w.checkpoint_shape)} but {arch} needs {list(w.shape)}{more}")
    refuse_random(folder, found)
    base = model.base_model_prefix
    inside = f"{base}." if base and getattr(model, base, model) is not model else ""
    missing = [n for n in found.named("new") if n.startswith(inside)]
    if missing:
        raise SpecError(folder.weights_file, f"{len(missing):,} weights of {arch}'s base model are not in it "
                        f"(e.g. {missing[0]}): they would be random")
    return found
