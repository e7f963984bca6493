"""Tokenizer, image processor, feature extractor and processor: checked, then planned as steps.

The guide's silent 5.x traps live here: a tokenizer's ``vocab_file=`` that loads nothing, a
``resample`` given as the string "PIL.Image.BOX" (silently BILINEAR), a pure-Python tokenizer
asked for where none exists.
"""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import Any

from composer.errors import ComposerWarning, SpecError
from composer.plan import Expr, Ref, Step
from composer.spec import Spec

PART_KINDS = {
    "image_processor": ("ImageProcessingMixin", "image processor", "ViTImageProcessor"),
    "feature_extractor": ("FeatureExtractionMixin", "feature extractor", "Wav2Vec2FeatureExtractor"),
}


def _transformers_class(name: str, base: str, where: str, example: str):
    import transformers

    try:
        cls = getattr(transformers, name)
    except (AttributeError, ImportError, ModuleNotFoundError):
        raise SpecError(where, f"{name!r} is not a transformers class; e.g. {example}") from None
    if not isinstance(cls, type) or base not in {k.__name__ for k in cls.__mro__}:
        raise SpecError(where, f"{name!r} is not a {base} class; e.g. {example}")
    return cls


# ----- tokenizer -------------------------------------------------------------------------------


def _default_tokenizer_name(model_type: str) -> str | None:
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING_NAMES

    name = TOKENIZER_MAPPING_NAMES.get(model_type)
    return name if isinstance(name, str) else None


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


def tokenizer_class(spec: Spec):
    tok = spec.tokenizer
    name = tok.get("class") or _default_tokenizer_name(spec.model_type)
    if name is None:
        if "pretrained" in tok:
            return None  # AutoTokenizer decides from the folder
        raise SpecError("tokenizer.class", f"{spec.model_type} has no default tokenizer class; name one, "
                        "e.g. PreTrainedTokenizerFast")
    cls = _transformers_class(name, "PreTrainedTokenizerBase", "tokenizer.class", "BertTokenizer")
    if not tok.get("fast", True):
        twin = python_tokenizer_class(cls)
        if twin is None:
            raise SpecError("tokenizer.fast", f"{name} has no pure-Python class in this transformers; "
                            "use fast: true (the tokenizers-backed class)")
        cls = twin
    return cls


def _vocab_kwargs(cls) -> tuple[str, str]:
    """The argument names that really load a vocabulary (5.x ignores ``vocab_file=`` on
    tokenizers-backed classes)."""
    if _is_python_backend(cls):
        return "vocab_file", "merges_file"
    return "vocab", "merges"


def _vocab_entries(path: Path) -> int:
    if path.suffix == ".json":
        return len(json.loads(path.read_text(encoding="utf-8")))
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def validate_tokenizer(spec: Spec) -> dict[str, Any] | None:
    tok = spec.tokenizer
    if tok is None:
        return None
    if not any(k in tok for k in ("vocab_file", "pretrained", "train")):
        raise SpecError("tokenizer", 'give a source: "vocab_file", "pretrained" or "train"')
    cls = tokenizer_class(spec)
    out = dict(tok)
    if "vocab_file" in tok:
        for key in ("vocab_file", "merges_file"):
            if key in tok:
                path = Path(tok[key]).expanduser()
                if not path.is_file():
                    raise SpecError(f"tokenizer.{key}", f"file {tok[key]!r} does not exist")
                out[key] = str(path.resolve())
        vocab_arg, _ = _vocab_kwargs(cls)
        if vocab_arg not in inspect.signature(cls.__init__).parameters:
            raise SpecError("tokenizer.vocab_file", f"{cls.__name__} does not load a vocabulary file; "
                            "use tokenizer.pretrained or tokenizer.train")
    if "pretrained" in tok:
        from composer import hub

        hub.resolve(tok["pretrained"], "tokenizer.pretrained", needs="")
    if "train" in tok:
        if _is_python_backend(cls):
            raise SpecError("tokenizer.train", f"{cls.__name__} is pure Python; training needs a "
                            "tokenizers-backed class (fast: true)")
        for i, f in enumerate(tok["train"].get("files", [])):
            if not Path(f).expanduser().is_file():
                raise SpecError(f"tokenizer.train.files[{i}]", f"file {f!r} does not exist")
    return out


def tokenizer_steps(spec: Spec) -> list[Step]:
    tok = spec.tokenizer
    cls = tokenizer_class(spec)
    options = dict(tok.get("options", {}))
    if "pretrained" in tok:
        from composer import hub

        target, local_only = hub.resolve(tok["pretrained"], "tokenizer.pretrained", needs="")
        name = cls.__name__ if cls is not None else "AutoTokenizer"
        return [Step("tokenizer", f"{name}.from_pretrained", (target,), options,
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


def check_tokenizer(spec: Spec, tokenizer) -> None:
    """Refuse a vocabulary that did not load (every word would be [UNK])."""
    path = spec.tokenizer.get("vocab_file")
    if not path:
        return
    expected = _vocab_entries(Path(path))
    if len(tokenizer) < expected * 0.9:
        raise SpecError("tokenizer.vocab_file", f"the vocabulary did not load: {type(tokenizer).__name__} has "
                        f"{len(tokenizer)} tokens, {Path(path).name} lists {expected}")


# ----- image processor and feature extractor ---------------------------------------------------


def _resample(value: Any, where: str) -> Any:
    """Accept 4, "BOX", "PIL.Image.BOX" or "Resampling.BOX"; always store the integer."""
    if not isinstance(value, str):
        return value
    from PIL import Image

    name = value.rsplit(".", 1)[-1].upper()
    try:
        number = int(Image.Resampling[name])
    except KeyError:
        allowed = ", ".join(m.name for m in Image.Resampling)
        raise SpecError(where, f"unknown resampling filter {value!r}; allowed: {allowed} or their numbers") from None
    warnings.warn(
        f"{where}: {value!r} is a string, which transformers 5.x silently treats as BILINEAR; "
        f"using PIL.Image.Resampling.{name} ({number})",
        ComposerWarning,
        stacklevel=2,
    )
    return number


def _allowed_options(cls) -> set[str] | None:
    kwargs_type = getattr(cls, "valid_kwargs", None)
    names = set(getattr(kwargs_type, "__annotations__", {}))
    params = inspect.signature(cls.__init__).parameters
    names |= {n for n, p in params.items() if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and n != "self"}
    return names or None


def validate_part(spec: Spec, key: str) -> dict[str, Any] | None:
    part = getattr(spec, key)
    if part is None:
        return None
    base, _, example = PART_KINDS[key]
    cls = _transformers_class(part["class"], base, f"{key}.class", example)
    options = dict(part.get("options", {}))
    allowed = _allowed_options(cls)
    for name in options:
        if allowed is not None and name not in allowed:
            raise SpecError(f"{key}.options.{name}", f"{cls.__name__} has no option {name!r}; allowed: "
                            f"{', '.join(sorted(allowed))}")
    if "resample" in options:
        options["resample"] = _resample(options["resample"], f"{key}.options.resample")
    return {"class": part["class"], "options": options}


def part_steps(spec: Spec, key: str) -> list[Step]:
    part = getattr(spec, key)
    return [Step(key, part["class"], (), dict(part.get("options", {})))]


# ----- processor -------------------------------------------------------------------------------


def processor_attributes(cls) -> list[str]:
    getter = getattr(cls, "get_attributes", None)
    return list(getter() if callable(getter) else cls.attributes)


def validate_processor(spec: Spec) -> None:
    if spec.processor is None:
        return
    cls = _transformers_class(spec.processor, "ProcessorMixin", "processor", "Wav2Vec2Processor")
    for attr in processor_attributes(cls):
        if getattr(spec, attr, None) is None:
            raise SpecError("processor", f"{spec.processor} combines {', '.join(processor_attributes(cls))}; "
                            f"the spec has no {attr}")


def processor_steps(spec: Spec) -> list[Step]:
    import transformers

    cls = getattr(transformers, spec.processor)
    return [Step("processor", spec.processor, (), {a: Ref(a) for a in processor_attributes(cls)})]


def steps(spec: Spec) -> list[Step]:
    """Every preprocessing step of a (validated) Spec, in a fixed order."""
    out: list[Step] = []
    if spec.tokenizer is not None:
        out += tokenizer_steps(spec)
    for key in ("image_processor", "feature_extractor"):
        if getattr(spec, key) is not None:
            out += part_steps(spec, key)
    if spec.processor is not None:
        out += processor_steps(spec)
    return out
