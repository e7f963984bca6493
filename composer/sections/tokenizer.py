"""The ``tokenizer`` section: a tokenizer from a vocabulary file, from a pretrained folder or hub id,
or trained on text. 5.x's silent traps are refused here: a ``vocab_file=`` that loads nothing, a
pure-Python tokenizer asked for where none exists, an option transformers stores and never uses."""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import warnings
from pathlib import Path
from typing import Any

from composer import catalog, hub
from composer.sections import trained
from composer.classes import init_defaults, is_python_backend, python_tokenizer_class, tokenizer_class_name, \
    transformers_class
from composer.errors import ComposerWarning, SpecError, one_line, shown
from composer.fields import Field, docstring_help
from composer.folder_check import read_config_file
from composer.limits import MAX_FOLDER_JSON_BYTES
from composer.paths import checked_path, is_dir, is_file, read_json_object, stamp
from composer.plan import Expr, Ref, Step
from composer.sections.options import check_option_types, named_option
from composer.sections.section import Section
from composer.spec import Spec

SOURCES = ("vocab_file", "pretrained", "train")
# Options every tokenizer understands (PreTrainedTokenizerBase pops them from **kwargs); any
# ``*_token`` is accepted too, as transformers registers it as a model-specific special token.
COMMON_TOKENIZER_OPTIONS = {
    "model_max_length", "padding_side", "truncation_side", "model_input_names", "clean_up_tokenization_spaces",
    "split_special_tokens", "extra_special_tokens", "additional_special_tokens", "add_bos_token", "add_eos_token",
}
VOCAB_ARGS = {"vocab", "merges", "vocab_file", "merges_file"}
# A trained tokenizer whose class the Spec leaves open, where the model type's own is not BPE: byte-level
# BPE (RoBERTa, GPT-2, BART) trains reproducibly, never meets an unknown character and takes any special
# tokens, so it is given the model type's own ([CLS] [SEP] [PAD] [UNK] [MASK] for a BERT: the same ids).
BPE_CLASS = "RobertaTokenizer"
SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def _trained_default(model_type: str) -> tuple[str, dict[str, str]]:
    """(the class, its special tokens) of a trained tokenizer without a class: the model type's own if
    it is BPE, else BPE_CLASS with the model type's special tokens (a class start and end token each
    standing in for the other, as in RoBERTa)."""
    import transformers

    name = catalog.default_class("tokenizer", model_type)
    try:
        own = getattr(transformers, name) if name else None
        model = getattr(own, "model", None)
    except ImportError:  # a class that needs sentencepiece, which is not installed
        own = model = None
    if model is not None and model.__name__ in trained.REPRODUCIBLE:
        return name, {}
    tokens = {k: v for k, v in (init_defaults(own) if own else {}).items() if k in SPECIAL_TOKENS and isinstance(v, str)}
    for first, second in (("cls_token", "bos_token"), ("sep_token", "eos_token")):
        if first in tokens or second in tokens:
            tokens.setdefault(first, tokens.get(second))
            tokens.setdefault(second, tokens[first])
    return BPE_CLASS, tokens


@functools.lru_cache(maxsize=64)
def trained_class(model_type: str) -> str:
    """The class a trained tokenizer without a class is (the form shows it as the default)."""
    return _trained_default(model_type)[0]


@functools.lru_cache(maxsize=64)
def trainer(name: str) -> str | None:
    """What training class ``name`` makes: "WordPiece", "byte-level BPE", "Unigram"; None if it cannot
    be trained from scratch (pure Python, needs a vocabulary, not a tokenizer class)."""
    try:
        tokenizer = transformers_class(name, "PreTrainedTokenizerBase", "tokenizer.class", "BertTokenizer")()
        model = trained.backend_model(tokenizer)
    except Exception:  # whatever keeps the class from being built empty: it is not offered for training
        return None
    return f"byte-level {model}" if trained.byte_level(tokenizer) else model


@functools.lru_cache(maxsize=64)
def offered(name: str) -> dict[str, Any]:
    """The options a tokenizer class offers on a form, with its defaults: lowercasing, its special
    tokens, padding side ({} for a name that is not a class)."""
    import transformers

    cls = getattr(transformers, name, None)
    if not isinstance(cls, type):
        return {}
    defaults = init_defaults(cls)
    out = {k: v for k, v in defaults.items() if k == "do_lower_case" or (k.endswith("_token") and
                                                                          (v is None or isinstance(v, str)))}
    out["padding_side"] = getattr(cls, "padding_side", "right")
    return out


PADDING_SIDES = ("right", "left")  # the sides transformers pads a batch on


@functools.lru_cache(maxsize=64)
def option_fields(name: str) -> tuple[Field, ...]:
    """The options of ``offered(name)`` as form fields: lowercasing a checkbox, the padding side a choice,
    each special token its text (none: the class has no such token); help from the class's docstring.
    For a name that is not a class (yet), the padding side alone."""
    import inspect

    import transformers

    cls = getattr(transformers, name, None)
    helps = docstring_help(inspect.cleandoc(cls.__doc__ or "")) if isinstance(cls, type) else {}
    out = []
    for option, default in (offered(name) or {"padding_side": "right"}).items():
        if option == "do_lower_case":
            field = Field(option, "bool", bool(default), kinds=("bool",))
        elif option == "padding_side":
            field = Field(option, "choice", default, kinds=("str",), choices=PADDING_SIDES)
        else:
            field = Field(option, "str", default, nullable=True, kinds=("str",))
        out.append(dataclasses.replace(field, help=helps.get(option, "")))
    return tuple(out)


def _pretrained_folder(tok: dict[str, Any]) -> Path | None:
    path = checked_path(tok["pretrained"], "tokenizer.pretrained")
    return path if is_dir(path) else None


def _folder_tokenizer_name(folder: Path | None) -> str | None:
    """The class a saved tokenizer names in its tokenizer_config.json."""
    if folder is None or not (folder / "tokenizer_config.json").is_file():
        return None
    name = read_config_file(folder / "tokenizer_config.json", "tokenizer_config.json").get("tokenizer_class")
    return tokenizer_class_name(name) if isinstance(name, str) else None


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
    if name is None and "train" in tok:
        name = _trained_default(spec.model_type)[0]
    name = name or catalog.default_class("tokenizer", spec.model_type)
    if name is None:
        raise SpecError("tokenizer.class", f"{spec.model_type} has no default tokenizer class; name one, "
                        "e.g. BertTokenizer or TokenizersBackend")
    cls = transformers_class(name, "PreTrainedTokenizerBase", "tokenizer.class", "BertTokenizer")
    if not fast:
        if "train" in tok:
            raise SpecError("tokenizer.train", "training needs a tokenizers-backed class (fast: true); the "
                            "pure-Python classes cannot train")
        twin = python_tokenizer_class(cls)
        if twin is None:
            raise SpecError("tokenizer.fast", f"{name} has no pure-Python class in this transformers "
                            "(5.x keeps only a few, e.g. BertTokenizerLegacy); use fast: true")
        cls = twin
    return cls


def _options(spec: Spec) -> dict[str, Any]:
    """The tokenizer's options: the Spec's, over the special tokens a default trained class is given."""
    tok = spec.tokenizer
    given = tok.get("options", {})
    if "train" in tok and "class" not in tok:
        return {**_trained_default(spec.model_type)[1], **given}
    return dict(given)


def _vocab_kwargs(cls) -> tuple[str, str]:
    """The argument names that really load a vocabulary (5.x ignores ``vocab_file=`` on
    tokenizers-backed classes)."""
    if is_python_backend(cls):
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


@functools.lru_cache(maxsize=64)
def _trained_model(cls, options: str) -> str:
    """The tokenizers model ``cls`` trains (BPE, WordPiece, Unigram), from the empty tokenizer training
    starts from; that it builds is also the check that the class can be trained from scratch."""
    try:
        return trained.backend_model(cls(**trained.training_options(json.loads(options))))
    except Exception as err:
        raise SpecError("tokenizer.class", f"{cls.__name__} cannot be trained from scratch: {one_line(err)}") from None


@functools.lru_cache(maxsize=64)
def _encoding_problem(cls, options: str) -> str | None:
    """Why the empty tokenizer does not take the options that go on top of the trained vocabulary
    (padding_side "middle"), or None: said now, not when the first text is tokenized."""
    try:
        cls(**json.loads(options))
    except Exception as err:
        return one_line(err)
    return None


def validate(spec: Spec) -> dict[str, Any]:
    return {"tokenizer": _validated(spec)}


def _validated(spec: Spec) -> dict[str, Any] | None:
    """The tokenizer section with its files made absolute (the exported code runs anywhere)."""
    tok = spec.tokenizer
    if tok is None:
        return None
    if not any(k in tok for k in SOURCES):
        raise SpecError("tokenizer", 'give a source: "vocab_file", "pretrained" or "train"')
    if "pretrained" in tok:
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
        if is_python_backend(cls):
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
        check_option_types(checked, options, "tokenizer")
    if "train" in tok:
        trained.check_train(tok["train"])
        _trained_model(cls, json.dumps(_options(spec), sort_keys=True))
        problem = _encoding_problem(cls, json.dumps(_options(spec), sort_keys=True))
        if problem:
            raise SpecError(named_option(problem, options, "tokenizer"), problem)
    if not options:
        out.pop("options", None)  # {} is every default: the Spec says nothing
    return out


def steps(spec: Spec) -> list[Step]:
    tok = spec.tokenizer
    if tok is None:
        return []
    cls = tokenizer_class(spec)
    options = _options(spec)
    if "pretrained" in tok:
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
    return _trained_steps(cls, options, tok["train"])


def _trained_steps(cls, options: dict[str, Any], train: dict[str, Any]) -> list[Step]:
    """BPE: trained from the text with the options training reads (once per process in the engine),
    the other options on top. WordPiece / Unigram: loaded from the folder kept when it was trained."""
    if _trained_model(cls, json.dumps(options, sort_keys=True)) not in trained.REPRODUCIBLE:
        folder = trained.kept_folder(cls, options, train)
        return [Step("tokenizer", f"{cls.__name__}.from_pretrained", (str(folder),), {**options, **hub.NO_REMOTE_CODE})]
    text: Any = list(train.get("text", []))
    if train.get("files"):
        reads = " + ".join(f"open({f!r}, encoding='utf-8').read().splitlines()" for f in train["files"])
        text = Expr(f"{text!r} + {reads}" if text else reads)
    return [
        Step("training_text", "", (text,)),
        Step("base_tokenizer", cls.__name__, (), trained.training_options(options)),
        Step("trained", "base_tokenizer.train_new_from_iterator", (Ref("training_text"),), trained.trainer_kwargs(train),
             run_kwargs=trained.QUIET, memo=trained.training_key(cls.__name__, options, train)),
        Step("tokenizer", cls.__name__, (), {"tokenizer_object": Ref("trained.backend_tokenizer"), **options}),
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
    why = trained.reached(tokenizer, tok["train"]) if "train" in tok else None
    if why:
        warnings.warn(f"tokenizer.train.vocab_size: {why}", ComposerWarning, stacklevel=3)




def failed(spec: Spec, target: str, err: Exception) -> SpecError:
    """A tokenizer that did not build, at the field it is about: an option it names, the merges file,
    else the tokenizer's source."""
    text = one_line(err)
    tok = spec.tokenizer
    named = named_option(text, tok.get("options", {}), "tokenizer")
    if named == "tokenizer":
        named = "tokenizer.merges_file" if "merges_file" in tok and re.search(r"merge", text, re.I) else \
            "tokenizer." + next(k for k in SOURCES if k in tok)
    return SpecError(named, text)


def file_stamps(tok: Any) -> tuple:
    """What the files a tokenizer section names look like now (composer.paths.stamp): a check or a
    build cached by them is redone when one changes. Any value is taken, as a draft may hold it."""
    tok = tok if isinstance(tok, dict) else {}
    train = tok.get("train") if isinstance(tok.get("train"), dict) else {}
    files = train.get("files") if isinstance(train.get("files"), list) else []
    return tuple(stamp(name) for name in [tok.get("vocab_file"), tok.get("merges_file"), tok.get("pretrained"), *files])


SECTION = Section(keys=("tokenizer",), validate=validate, steps=steps, failed=failed, reads=("model_type",),
                  files=lambda spec: file_stamps(spec.tokenizer))
