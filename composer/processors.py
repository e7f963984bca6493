"""Tokenizer, image processor, feature extractor and processor: checked, then planned as steps.

The guide's silent 5.x traps live here: a tokenizer's ``vocab_file=`` that loads nothing, a
``resample`` given as the string "PIL.Image.BOX" (silently BILINEAR under PIL, an error on the first
image under torchvision, which cannot use BOX at all), a pure-Python tokenizer asked for where none
exists, an option name transformers stores and never uses, a trained vocabulary that differs run to run.
"""

from __future__ import annotations

import functools
import inspect
import json
import re
import warnings
from pathlib import Path
from typing import Any

from composer import domains, sizes
from composer.errors import ComposerWarning, SpecError, one_line, shown
from composer.limits import MAX_FOLDER_JSON_BYTES
from composer.paths import checked_path, is_dir, is_file, read_json_object
from composer.plan import Expr, Ref, Step
from composer.spec import Spec

PART_KINDS = {
    "image_processor": ("ImageProcessingMixin", "image processor", "ViTImageProcessor"),
    "feature_extractor": ("FeatureExtractionMixin", "feature extractor", "Wav2Vec2FeatureExtractor"),
}
SOURCES = ("vocab_file", "pretrained", "train")
# Options every tokenizer understands (PreTrainedTokenizerBase pops them from **kwargs); any
# ``*_token`` is accepted too, as transformers registers it as a model-specific special token.
COMMON_TOKENIZER_OPTIONS = {
    "model_max_length", "padding_side", "truncation_side", "model_input_names", "clean_up_tokenization_spaces",
    "split_special_tokens", "extra_special_tokens", "additional_special_tokens", "add_bos_token", "add_eos_token",
}
VOCAB_ARGS = {"vocab", "merges", "vocab_file", "merges_file"}


def transformers_class(name: str, base: str, where: str, example: str):
    """The transformers class ``name`` if it derives from ``base``; else a SpecError at ``where``."""
    import transformers

    try:
        cls = getattr(transformers, name)
    except (AttributeError, ImportError, ModuleNotFoundError, TypeError):  # TypeError: not a string
        raise SpecError(where, f"{shown(name)} is not a transformers class; e.g. {example}") from None
    if not isinstance(cls, type) or base not in {k.__name__ for k in cls.__mro__}:
        raise SpecError(where, f"{shown(name)} is not a {base} class; e.g. {example}")
    return cls


def _named_option(message: str, options: dict[str, Any], prefix: str) -> str:
    """``prefix.options.NAME`` for the first option the message names, else ``prefix``."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
    return next((f"{prefix}.options.{n}" for n in options if n in words), prefix)


# ----- tokenizer -------------------------------------------------------------------------------


def _default_tokenizer_name(model_type: str) -> str | None:
    """transformers' tokenizer for a model type; else the one named like its config (some types,
    e.g. llama, are missing from the 5.x mapping although ``LlamaTokenizer`` exists)."""
    import transformers
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

    from composer import catalog

    name = TOKENIZER_MAPPING_NAMES.get(model_type)
    if isinstance(name, str):
        return name
    guess = catalog.config_class(model_type).__name__.removesuffix("Config") + "Tokenizer"
    return guess if hasattr(transformers, guess) else None


def _is_python_backend(cls) -> bool:
    return "PythonBackend" in {k.__name__ for k in cls.__mro__}


def python_tokenizer_class(cls):
    """The pure-Python twin of a tokenizers-backed class (``BertTokenizerLegacy``), or None."""
    import transformers

    if _is_python_backend(cls):
        return cls
    for klass in cls.__mro__:
        twin = getattr(transformers, f"{klass.__name__}Legacy", None)
        if twin is not None:
            return twin
    return None


def _pretrained_folder(tok: dict[str, Any]) -> Path | None:
    path = checked_path(tok["pretrained"], "tokenizer.pretrained")
    return path if is_dir(path) else None


def _folder_tokenizer_name(folder: Path | None) -> str | None:
    """The class a saved tokenizer names in its tokenizer_config.json."""
    if folder is None or not (folder / "tokenizer_config.json").is_file():
        return None
    from composer.folder_check import read_config_file  # bounded, one line per problem (not at import: a cycle)

    name = read_config_file(folder / "tokenizer_config.json", "tokenizer_config.json").get("tokenizer_class")
    return tokenizer_class_name(name) if isinstance(name, str) else None


def tokenizer_class_name(name: str) -> str:
    """The class AutoTokenizer loads for a saved ``tokenizer_class``: 5.x keeps most "…Fast" names as
    aliases; one it lacks falls back to the name without "Fast"."""
    import transformers

    return name if hasattr(transformers, name) else name.removesuffix("Fast")


def tokenizer_class(spec: Spec):
    """The class to build, or None for a pretrained tokenizer that AutoTokenizer picks by itself;
    ``fast: false`` swaps in the pure-Python twin or refuses."""
    tok = spec.tokenizer
    fast = tok.get("fast", True)
    name = tok.get("class")
    if name is None and "pretrained" in tok:
        folder = _pretrained_folder(tok)
        name = _folder_tokenizer_name(folder)
        if fast and (name or folder is None):
            return None  # a hub id, or a folder whose tokenizer_config.json names its class: AutoTokenizer
        # else a bare vocab folder (AutoTokenizer cannot read it): the model type's class
    name = name or _default_tokenizer_name(spec.model_type)
    if name is None:
        raise SpecError("tokenizer.class", f"{spec.model_type} has no default tokenizer class; name one, "
                        "e.g. BertTokenizer or TokenizersBackend")
    cls = transformers_class(name, "PreTrainedTokenizerBase", "tokenizer.class", "BertTokenizer")
    if not fast:
        twin = python_tokenizer_class(cls)
        if twin is None:
            raise SpecError("tokenizer.fast", f"{name} has no pure-Python class in this transformers "
                            "(5.x keeps only a few, e.g. BertTokenizerLegacy); use fast: true")
        cls = twin
    return cls


def _vocab_kwargs(cls) -> tuple[str, str]:
    """The argument names that really load a vocabulary (5.x ignores ``vocab_file=`` on
    tokenizers-backed classes)."""
    if _is_python_backend(cls):
        return "vocab_file", "merges_file"
    return "vocab", "merges"


@functools.lru_cache(maxsize=16)
def _json_problem(path: str, mtime: int) -> str | None:
    """Why the file is not a JSON object, or None (cached per version of the file: checked per edit).
    Read as any JSON the composer reads: bounded, never a FIFO, no RecursionError."""
    try:
        read_json_object(Path(path), "tokenizer.vocab_file", MAX_FOLDER_JSON_BYTES)
    except SpecError as err:
        return err.message
    return None


def init_defaults(cls) -> dict[str, Any]:
    """Named ``__init__`` parameters along the class hierarchy, with the default the most derived
    class gives (subclasses pass **kwargs upwards, so all of them are accepted)."""
    out: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self":
                out[p.name] = p.default
    return out


def _check_option_types(cls, options: dict[str, Any], where: str) -> None:
    """A value must have the JSON type of the parameter's default (``sampling_rate: "16k"`` builds
    fine and fails far later)."""
    defaults = init_defaults(cls)
    for name, value in options.items():
        default = defaults.get(name)
        kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}.get(type(default))
        if kinds and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
            raise SpecError(f"{where}.options.{name}", f"expected {type(default).__name__} like the default "
                            f"{shown(default)}, got {shown(value)}")


def _check_tokenizer_options(cls, options: dict[str, Any]) -> None:
    """Tokenizers keep any unknown keyword and never use it: a misspelt option must not pass."""
    for name in options:
        if name == "trust_remote_code":
            raise SpecError("tokenizer.options.trust_remote_code", "the composer never runs a folder's or the "
                            "hub's own code; it always passes trust_remote_code=False")
        if name in VOCAB_ARGS:
            raise SpecError(f"tokenizer.options.{name}", "give the vocabulary as tokenizer.vocab_file "
                            "(and tokenizer.merges_file), which the composer passes the way 5.x reads it")
        if cls is None or name.endswith("_token"):
            continue
        allowed = (set(init_defaults(cls)) | COMMON_TOKENIZER_OPTIONS) - VOCAB_ARGS
        if name not in allowed:
            raise SpecError(f"tokenizer.options.{name}", f"{cls.__name__} has no option {shown(name)}; allowed: "
                            f"{', '.join(sorted(allowed))} or any *_token")


def _pretrained_class(tok: dict[str, Any]):
    """The class a local pretrained folder will load as, if transformers knows it (for option checks)."""
    import transformers

    name = _folder_tokenizer_name(_pretrained_folder(tok))
    return getattr(transformers, name, None) if name else None


def _check_trainable(cls, options: dict[str, Any]) -> None:
    """Build the empty tokenizer that training starts from. Its model also tells whether training is
    reproducible: tokenizers' WordPiece and Unigram trainers number tied tokens in hash-map order
    (huggingface/tokenizers#1794), so the same text gives other ids on every run; BPE is stable."""
    try:
        model = type(cls(**options).backend_tokenizer.model).__name__
    except Exception as err:
        raise SpecError("tokenizer.class", f"{cls.__name__} cannot be trained from scratch: {one_line(err)}") from None
    if model in ("WordPiece", "Unigram"):
        warnings.warn(
            f"tokenizer.train: training a {model} tokenizer ({cls.__name__}) is not reproducible in tokenizers: "
            "the same text can give other token ids on every run; keep the saved tokenizer, or train a BPE one "
            "(e.g. GPT2Tokenizer, LlamaTokenizer)",
            ComposerWarning,
            stacklevel=3,
        )


def validate_tokenizer(spec: Spec) -> dict[str, Any] | None:
    """The tokenizer section with its files made absolute (the exported code runs anywhere)."""
    tok = spec.tokenizer
    if tok is None:
        return None
    if not any(k in tok for k in SOURCES):
        raise SpecError("tokenizer", 'give a source: "vocab_file", "pretrained" or "train"')
    if "pretrained" in tok:
        from composer import hub

        hub.resolve(tok["pretrained"], "tokenizer.pretrained", needs="")
    cls = tokenizer_class(spec)
    out = dict(tok)
    if "vocab_file" in tok:
        for key in ("vocab_file", "merges_file"):
            if key in tok:
                path = checked_path(tok[key], f"tokenizer.{key}")
                if not is_file(path):
                    raise SpecError(f"tokenizer.{key}", f"file {shown(tok[key])} does not exist")
                out[key] = str(path.resolve())
        vocab_arg, merges_arg = _vocab_kwargs(cls)
        params = init_defaults(cls)
        if vocab_arg not in params:
            raise SpecError("tokenizer.vocab_file", f"{cls.__name__} does not load a vocabulary file; "
                            "use tokenizer.pretrained or tokenizer.train")
        if "merges_file" in tok and merges_arg not in params:
            raise SpecError("tokenizer.merges_file", f"{cls.__name__} takes no merges file (it is not a BPE "
                            "tokenizer)")
        if getattr(cls, "vocab_files_names", {}).get("vocab_file", "").endswith(".json"):
            path = Path(out["vocab_file"])
            problem = _json_problem(str(path), path.stat().st_mtime_ns)
            if problem:
                raise SpecError("tokenizer.vocab_file", f"{cls.__name__} reads a JSON vocabulary "
                                f'({{"token": id, ...}}); {path.name} is not one: {problem}')
    if "train" in tok:
        if _is_python_backend(cls):
            raise SpecError("tokenizer.train", f"{cls.__name__} is pure Python; training needs a "
                            "tokenizers-backed class (fast: true)")
        files = []
        for i, f in enumerate(tok["train"].get("files", [])):
            path = checked_path(f, f"tokenizer.train.files[{i}]")
            if not is_file(path):
                raise SpecError(f"tokenizer.train.files[{i}]", f"file {shown(f)} does not exist")
            files.append(str(path.resolve()))
        if files:
            out["train"] = {**tok["train"], "files": files}
    options = tok.get("options", {})
    checked = cls if cls is not None else _pretrained_class(tok)
    _check_tokenizer_options(checked, options)
    if checked is not None:
        _check_option_types(checked, options, "tokenizer")
    if "train" in tok:
        _check_trainable(cls, options)
    if not options:
        out.pop("options", None)  # {} is every default: the Spec says nothing
    return out


def tokenizer_steps(spec: Spec) -> list[Step]:
    tok = spec.tokenizer
    cls = tokenizer_class(spec)
    options = dict(tok.get("options", {}))
    if "pretrained" in tok:
        from composer import hub

        target, local_only = hub.resolve(tok["pretrained"], "tokenizer.pretrained", needs="")
        name = cls.__name__ if cls is not None else "AutoTokenizer"
        return [Step("tokenizer", f"{name}.from_pretrained", (target,), {**options, **hub.NO_REMOTE_CODE},
                     run_kwargs={"local_files_only": True} if local_only else {})]
    if "vocab_file" in tok:
        vocab_arg, merges_arg = _vocab_kwargs(cls)
        kwargs = {vocab_arg: tok["vocab_file"]}
        if "merges_file" in tok:
            kwargs[merges_arg] = tok["merges_file"]
        return [Step("tokenizer", cls.__name__, (), {**kwargs, **options})]
    train = tok["train"]
    text: Any = list(train.get("text", []))
    if train.get("files"):
        reads = " + ".join(f"open({f!r}, encoding='utf-8').read().splitlines()" for f in train["files"])
        text = Expr(f"{text!r} + {reads}" if text else reads)
    kwargs = {"vocab_size": train.get("vocab_size", 1000)}
    if train.get("min_frequency"):
        kwargs["min_frequency"] = train["min_frequency"]
    return [
        Step("base_tokenizer", cls.__name__, (), options),
        Step("tokenizer", "base_tokenizer.train_new_from_iterator", (text,), kwargs),
    ]


def _vocab_entries(path: Path) -> int | None:
    """Entries of a vocab.txt / vocab.json; None for formats we cannot count (e.g. a .model file)."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            return len(json.loads(text))
        return sum(1 for line in text.splitlines() if line.strip())
    except (UnicodeDecodeError, ValueError, RecursionError, TypeError):  # ValueError: JSONDecodeError, huge ints
        return None


def _vocab_path(tok: dict[str, Any]) -> Path | None:
    if "vocab_file" in tok:
        return Path(tok["vocab_file"])
    folder = _pretrained_folder(tok) if "pretrained" in tok else None
    if folder is not None:
        return next((folder / n for n in ("vocab.txt", "vocab.json") if (folder / n).is_file()), None)
    return None


def check_tokenizer(spec: Spec, tokenizer) -> None:
    """Refuse a vocabulary that did not load: every word would silently become the unknown token."""
    tok = spec.tokenizer
    where = "tokenizer." + next(k for k in SOURCES if k in tok)
    name = type(tokenizer).__name__
    if not set(tokenizer.get_vocab()) - set(tokenizer.all_special_tokens):
        raise SpecError(where, f"the vocabulary did not load: {name} holds only its {len(tokenizer)} special "
                        f"tokens, so every word would become {tokenizer.unk_token}")
    path = _vocab_path(tok)
    expected = _vocab_entries(path) if path is not None else None
    if expected and len(tokenizer) < expected * 0.9:
        raise SpecError(where, f"the vocabulary did not load: {name} has {len(tokenizer)} tokens, "
                        f"{path.name} lists {expected}")


# ----- image processor and feature extractor ---------------------------------------------------


def _resample(value: Any, where: str) -> Any:
    """Accept 4, "BOX", "PIL.Image.BOX" or "Resampling.BOX"; always store the integer."""
    from PIL import Image

    allowed = ", ".join(f"{m.name} ({int(m)})" for m in Image.Resampling)
    if not isinstance(value, str):
        if type(value) is not int or value not in {int(m) for m in Image.Resampling}:  # a list is unhashable
            raise SpecError(where, f"unknown resampling filter {shown(value)}; allowed: {allowed}")
        return value
    name = value.rsplit(".", 1)[-1].upper()
    try:
        number = int(Image.Resampling[name])
    except KeyError:
        raise SpecError(where, f"unknown resampling filter {shown(value)}; allowed: {allowed}") from None
    warnings.warn(
        f"{where}: {shown(value)} is a string, which transformers 5.x does not read as a filter (the PIL backend "
        f"silently uses BILINEAR, torchvision fails on the first image); using PIL.Image.Resampling.{name} "
        f"({number})",
        ComposerWarning,
        stacklevel=2,
    )
    return number


def _allowed_options(cls) -> set[str]:
    kwargs_type = getattr(cls, "valid_kwargs", None)
    return set(getattr(kwargs_type, "__annotations__", {})) | set(init_defaults(cls))


PROBE_IMAGE = (29, 37, 3)  # an odd size: resizing really runs


def _probe(cls, options: dict[str, Any], key: str) -> str | None:
    """Build the part and run it on a tiny input; the error text, or None if it works. Some values
    fail only on use (BOX resampling under the torchvision backend), so building is not enough.
    What the resize would make of the input is checked first (a size of 30000x30000 is 10 GB)."""
    import numpy as np

    try:
        part = cls(**options)
        if key == "image_processor":
            height, width, _ = PROBE_IMAGE
            sizes.check_image_sizes(part, height, width, f"{key}.options", f"the {width}x{height} test image")
            part(np.zeros(PROBE_IMAGE, dtype=np.uint8))
        else:
            part(np.zeros(1600, dtype=np.float32), sampling_rate=getattr(part, "sampling_rate", 16000))
    except SpecError:
        raise
    except Exception as err:
        return one_line(err)
    return None


def _check_part_values(cls, options: dict[str, Any], key: str) -> None:
    """Report a value that breaks the part, naming its option: the one the error names, else the
    one without which the part works. If the defaults fail too, the probe input does not suit this
    class, and nothing is blamed on the user."""
    text = _probe(cls, options, key)
    if text is None:
        return
    where = _named_option(text, options, key)
    if where == key:
        if _probe(cls, {}, key) is not None:
            return
        culprit = next((n for n in options if _probe(cls, {k: v for k, v in options.items() if k != n}, key)
                        is None), None)
        where = f"{key}.options.{culprit}" if culprit else key
    if where.endswith(".resample") and "TorchvisionBackend" in {k.__name__ for k in cls.__mro__}:
        import transformers

        pil = f"{cls.__name__}Pil"
        other = f", or the PIL class {pil}" if hasattr(transformers, pil) else ""
        text = (f"{cls.__name__} resizes with torchvision, which cannot use this filter; use NEAREST, "
                f"BILINEAR, BICUBIC or LANCZOS{other} ({text})")
    raise SpecError(where, text)


def validate_part(spec: Spec, key: str) -> dict[str, Any] | None:
    """Check option names, correct ``resample``, and try the part on a tiny input so that a bad
    value is reported now, naming its option, not when the first image or clip arrives."""
    part = getattr(spec, key)
    if part is None:
        return None
    base, _, example = PART_KINDS[key]
    cls = transformers_class(part["class"], base, f"{key}.class", example)
    options = dict(part.get("options", {}))
    allowed = _allowed_options(cls)
    for name in options:
        if name not in allowed:
            raise SpecError(f"{key}.options.{name}", f"{cls.__name__} has no option {shown(name)}; allowed: "
                            f"{', '.join(sorted(allowed))}")
    if "resample" in options:
        options["resample"] = _resample(options["resample"], f"{key}.options.resample")
    _check_option_types(cls, options, key)
    if key == "image_processor":
        domains.check_image_option_values(cls, options, key)
        sizes.check_image_options(options, key)
    else:
        sizes.check_audio_options(options, key)
    _check_part_values(cls, options, key)
    if "PilBackend" in {k.__name__ for k in cls.__mro__}:
        warnings.warn(
            f"{key}.class: {cls.__name__} saves itself as {cls.__name__.removesuffix('Pil')}, which "
            "AutoImageProcessor.from_pretrained reloads with the torchvision backend (other pixels; no BOX or "
            'HAMMING) unless given backend="pil"',
            ComposerWarning,
            stacklevel=2,
        )
    return {"class": part["class"], **({"options": options} if options else {})}  # no options: no key


def part_steps(spec: Spec, key: str) -> list[Step]:
    part = getattr(spec, key)
    return [Step(key, part["class"], (), dict(part.get("options", {})))]


# ----- processor -------------------------------------------------------------------------------


def processor_attributes(cls) -> list[str]:
    getter = getattr(cls, "get_attributes", None)
    return list(getter() if callable(getter) else cls.attributes)


def validate_processor(spec: Spec) -> None:
    """The processor's parts must all be in the Spec, and no part may be left out of it: only the
    processor is saved, so a part it does not combine would silently vanish from the checkpoint."""
    if spec.processor is None:
        return
    cls = transformers_class(spec.processor, "ProcessorMixin", "processor", "Wav2Vec2Processor")
    parts = processor_attributes(cls)
    for attr in parts:
        if getattr(spec, attr, None) is None:
            raise SpecError("processor", f"{spec.processor} combines {', '.join(parts)}; the spec has no {attr}")
    for attr in ("tokenizer", *PART_KINDS):
        if attr not in parts and getattr(spec, attr) is not None:
            raise SpecError(attr, f"{spec.processor} combines only {', '.join(parts)}; remove {attr} or "
                            "choose a processor that uses it")


def processor_steps(spec: Spec) -> list[Step]:
    import transformers

    cls = getattr(transformers, spec.processor)
    return [Step("processor", spec.processor, (), {a: Ref(a) for a in processor_attributes(cls)})]


def steps(spec: Spec) -> list[Step]:
    """Every preprocessing step of a (validated) Spec, in a fixed order."""
    out: list[Step] = []
    if spec.tokenizer is not None:
        out += tokenizer_steps(spec)
    for key in PART_KINDS:
        if getattr(spec, key) is not None:
            out += part_steps(spec, key)
    if spec.processor is not None:
        out += processor_steps(spec)
    return out


def error_field(spec: Spec, target: str, err: Exception) -> str:
    """The Spec field a failed preprocessing step is about (a tokenizer file, an option, …)."""
    text = one_line(err)
    if target in ("tokenizer", "base_tokenizer"):
        tok = spec.tokenizer
        named = _named_option(text, tok.get("options", {}), "tokenizer")
        if named != "tokenizer":
            return named
        if "merges_file" in tok and re.search(r"merge", text, re.I):
            return "tokenizer.merges_file"
        return "tokenizer." + next(k for k in SOURCES if k in tok)
    if target in PART_KINDS:
        return _named_option(text, getattr(spec, target).get("options", {}), target)
    return target
