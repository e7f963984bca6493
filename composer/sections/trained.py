"""Trained tokenizers that do not change by themselves.

A tokenizer is trained once per training input (its class, the options training reads, the text, the
files' content, vocab_size, min_frequency) and that result is reused: options that only change how text
is encoded (padding_side, model_max_length, ...) go on top of it, never into a new training.

BPE training is deterministic (the same input gives the same ids in every process), so the exported
code trains it again itself and the engine only remembers the result for the process. WordPiece and
Unigram are not: tokenizers numbers tied tokens in hash-map order (huggingface/tokenizers#1794). Their
result is kept as a save_pretrained folder in the user's cache, named by the training input's digest:
the Spec stays what the person wrote, a changed text or file is a new digest (never a stale vocabulary),
and the engine, the next session, the saved checkpoint and the exported code all load that folder."""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import warnings
from pathlib import Path
from typing import Any

from composer.errors import ComposerWarning, SpecError, one_line
from composer.limits import MAX_VOCAB, MIN_TRAINED_VOCAB, MIN_TRAINING_FREQUENCY
from composer.user_cache import cache_root

DEFAULT_VOCAB = 1000  # tokenizer.train.vocab_size when the Spec gives none
REPRODUCIBLE = ("BPE",)  # tokenizers' models whose training gives the same ids on every run
# Options that only change how text is encoded: applied on top of the trained vocabulary.
ENCODING_OPTIONS = {"model_max_length", "padding_side", "truncation_side", "model_input_names",
                    "clean_up_tokenization_spaces", "split_special_tokens", "add_bos_token", "add_eos_token"}
# What the engine adds to a training call: tokenizers' progress bar writes blank lines to a stdout that
# is not a terminal (the command line's output). The exported code keeps its progress bar.
QUIET = {"show_progress": False}


def check_train(train: dict[str, Any]) -> None:
    """vocab_size and min_frequency in their domains (what the text lets training reach is said after)."""
    size = train.get("vocab_size", DEFAULT_VOCAB)
    if not MIN_TRAINED_VOCAB <= size <= MAX_VOCAB:
        raise SpecError("tokenizer.train.vocab_size", f"{size} is not a vocabulary size: give {MIN_TRAINED_VOCAB:,} "
                        f"to {MAX_VOCAB:,} (training stops earlier if the text has no more to merge)")
    if train.get("min_frequency", MIN_TRAINING_FREQUENCY) < MIN_TRAINING_FREQUENCY:
        raise SpecError("tokenizer.train.min_frequency", f"{train['min_frequency']} is negative: give a count of "
                        f"at least {MIN_TRAINING_FREQUENCY} (how often a pair must occur to be merged)")


def backend_model(tokenizer) -> str:
    """The tokenizers model a tokenizer encodes with: BPE, WordPiece, Unigram, WordLevel."""
    return type(tokenizer.backend_tokenizer.model).__name__


def training_options(options: dict[str, Any]) -> dict[str, Any]:
    """The options training reads (special tokens, lowercasing, ...): part of the training input."""
    return {k: v for k, v in options.items() if k not in ENCODING_OPTIONS}


def trainer_kwargs(train: dict[str, Any]) -> dict[str, Any]:
    kwargs = {"vocab_size": train.get("vocab_size", DEFAULT_VOCAB)}
    if train.get("min_frequency"):
        kwargs["min_frequency"] = train["min_frequency"]
    return kwargs


def text_of(train: dict[str, Any]) -> list[str]:
    """The training text as the exported code reads it: the lines given, then each file's lines."""
    lines = list(train.get("text", []))
    for f in train.get("files", []):
        lines += Path(f).read_text(encoding="utf-8").splitlines()
    return lines


def training_key(class_name: str, options: dict[str, Any], train: dict[str, Any]) -> str:
    """The digest of everything training reads; files by content, so a moved file keeps its key."""
    files = [hashlib.sha256(Path(f).read_bytes()).hexdigest() for f in train.get("files", [])]
    data = {"class": class_name, "options": training_options(options), "text": list(train.get("text", [])),
            "files": files, **trainer_kwargs(train)}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def cache_dir() -> Path:
    """Where the folders of trained WordPiece / Unigram tokenizers are kept."""
    return cache_root() / "trained-tokenizers"


def kept_folder(cls, options: dict[str, Any], train: dict[str, Any]) -> Path:
    """The folder holding ``cls`` trained on ``train``: trained now if no session trained it before
    (written whole, then renamed into place: a second process racing for the same key keeps the first)."""
    training = training_options(options)
    folder = cache_dir() / training_key(cls.__name__, training, train)
    if (folder / "tokenizer_config.json").is_file():
        return folder
    try:
        tokenizer = cls(**training).train_new_from_iterator(text_of(train), **trainer_kwargs(train), **QUIET)
    except Exception as err:
        raise unreachable(cls, err, options, train) or \
            SpecError("tokenizer.train", f"{cls.__name__} did not train: {one_line(err)}") from None
    folder.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".training-", dir=folder.parent))
    tokenizer.save_pretrained(scratch)
    try:
        scratch.rename(folder)
    except OSError:  # another process kept its result first: that one is the design's
        shutil.rmtree(scratch, ignore_errors=True)
    warnings.warn(f"tokenizer.train: {backend_model(tokenizer)} training is not reproducible in tokenizers; the "
                  f"vocabulary trained now is kept in {folder} and reused from there (a machine without that "
                  "folder trains other ids: copy it, or use the saved checkpoint as tokenizer.pretrained)",
                  ComposerWarning, stacklevel=2)
    return folder


def reached(tokenizer, train: dict[str, Any]) -> str | None:
    """Why the trained vocabulary is not the size asked for, or None when it is."""
    asked, got = train.get("vocab_size", DEFAULT_VOCAB), len(tokenizer)
    if got == asked:
        return None
    specials = len(set(tokenizer.all_special_tokens))
    if got > asked:
        return (f"asked for {asked:,}, training made {got:,}: the {specials} special tokens and every character "
                f"the text starts from{' (all 256 bytes: byte-level BPE)' if byte_level(tokenizer) else ''} "
                f"are always kept; ask for at least {got:,}")
    words = _words(tokenizer, text_of(train))
    least = train.get("min_frequency", 0)
    often = f" at least {least} times" if least > 1 else ""
    why = "no more pieces worth keeping" if backend_model(tokenizer) == "Unigram" else \
        f"nothing more to merge (every pair of adjacent pieces seen{often} is already a token)"
    return (f"asked for {asked:,}, training reached {got:,}: the text ({len(words):,} distinct words) has {why}; "
            f"give more text{', a lower min_frequency' if least > 1 else ''} or a vocab_size of at most {got:,}")


def byte_level(tokenizer) -> bool:
    """Whether its pre-tokenizer splits into bytes (every character is then in the vocabulary)."""
    return "ByteLevel" in (tokenizer.backend_tokenizer.pre_tokenizer.__repr__() or "")


def _words(tokenizer, lines: list[str]) -> set[str]:
    """The words training counted: each line normalized and split as the tokenizer does."""
    backend = tokenizer.backend_tokenizer
    words: set[str] = set()
    for line in lines:
        if backend.normalizer is not None:
            line = backend.normalizer.normalize_str(line)
        pieces = backend.pre_tokenizer.pre_tokenize_str(line) if backend.pre_tokenizer is not None else [(line, None)]
        words.update(word for word, _ in pieces)
    return words


def unreachable(cls, err: Exception, options: dict[str, Any], train: dict[str, Any]) -> SpecError | None:
    """Unigram's refusal of a vocab_size below the text's characters, at the field and with the figure."""
    if "not large enough to contain all chars" not in str(err):
        return None
    base = cls(**training_options(options))
    chars = {c for word in _words(base, text_of(train)) for c in word}
    return SpecError("tokenizer.train.vocab_size", f"{train.get('vocab_size', DEFAULT_VOCAB):,} is too small for "
                     f"{cls.__name__} ({backend_model(base)}): the text has {len(chars)} distinct characters and each "
                     f"needs a token, besides the special tokens; ask for more")
