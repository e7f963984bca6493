"""Trained tokenizers do not change by themselves (issue 9, item 6): trained once per training input,
option changes applied on top, BPE by default, WordPiece / Unigram kept so the next session, the saved
checkpoint and the exported code give the same ids; a vocab_size training cannot reach is explained."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import pytest
import transformers

from composer import ComposerWarning, SpecError, build_processors, save, to_code
from composer.limits import MAX_VOCAB
from composer.validation import ready
from tests.conftest import ROOT

# The corpus: "Hello" cut h ##el ##l ##o in one build and h ##e ##l ##l ##o in the next.
CORPUS = ["Hello world", "hello there", "help me", "held the line", "the hello world program",
          "a cat sat on the mat", "the dogs and the cats"]
WORDPIECE = {"model_type": "bert", "tokenizer": {"class": "BertTokenizer", "train": {"text": CORPUS, "vocab_size": 50}}}


def tokenizer_of(spec: dict):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComposerWarning)
        return build_processors(ready(spec))["tokenizer"]


def with_options(spec: dict, **options) -> dict:
    return {**spec, "tokenizer": {**spec["tokenizer"], "options": options}}


def cut(tokenizer) -> tuple:
    return tuple(tokenizer.tokenize("Hello hello help")), tuple(tokenizer("Hello world, the cat")["input_ids"])


def in_a_new_session(spec: dict) -> list:
    """The ids a fresh interpreter builds for ``spec`` (the cache of kept vocabularies is the session's)."""
    code = ("import json, sys, warnings; warnings.simplefilter('ignore')\n"
            "from composer import build_processors\n"
            "t = build_processors(json.loads(sys.argv[1]))['tokenizer']\n"
            "print(json.dumps([t.tokenize('Hello hello help'), t('Hello world, the cat')['input_ids']]))")
    done = subprocess.run([sys.executable, "-c", code, json.dumps(spec)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_option_changes_and_rebuilds_keep_the_trained_vocabulary():
    """Switching padding_side retrained the WordPiece vocabulary, and four builds gave two cuttings."""
    first = tokenizer_of(WORDPIECE)
    cuts = {cut(first)}
    for side in ("left", "right", "left", None):
        tokenizer = tokenizer_of(with_options(WORDPIECE, padding_side=side) if side else WORDPIECE)
        assert tokenizer.padding_side == (side or "right")  # the option applies, on top of the same vocabulary
        cuts.add(cut(tokenizer))
        assert tokenizer.get_vocab() == first.get_vocab()
    assert len(cuts) == 1


def test_the_next_session_gives_the_same_wordpiece_and_unigram_ids():
    for cls in ("BertTokenizer", "AlbertTokenizer"):
        spec = {**WORDPIECE, "tokenizer": {**WORDPIECE["tokenizer"], "class": cls}}
        here = cut(tokenizer_of(spec))
        assert in_a_new_session(spec) == in_a_new_session(spec) == [list(here[0]), list(here[1])], cls


def test_saved_checkpoint_and_exported_code_give_the_kept_ids(tmp_path):
    spec = with_options(WORDPIECE, padding_side="left", model_max_length=16)
    engine = tokenizer_of(spec)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ComposerWarning)
        save(spec, tmp_path / "saved")
        code = to_code(spec, output_dir=str(tmp_path / "exported"))
    assert "train_new_from_iterator" not in code and "BertTokenizer.from_pretrained(" in code
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True, capture_output=True, timeout=300)
    for where in ("saved", "exported"):
        reloaded = transformers.AutoTokenizer.from_pretrained(tmp_path / where, local_files_only=True)
        assert cut(reloaded) == cut(engine) and reloaded.padding_side == "left", where


def test_a_changed_training_file_is_trained_again(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat\n", encoding="utf-8")
    spec = {"model_type": "bert", "tokenizer": {"class": "BertTokenizer", "train": {"files": [str(text)]}}}
    assert "zebra" not in tokenizer_of(spec).get_vocab()
    text.write_text("the zebra sat on the zebra mat\n", encoding="utf-8")
    assert "zebra" in tokenizer_of(spec).get_vocab()  # the kept vocabulary is keyed by the file's content


def test_default_trainer_is_byte_level_bpe_with_the_models_special_tokens():
    """A BERT design trained without a class was BertTokenizer's WordPiece, not reproducible."""
    spec = {"model_type": "bert", "tokenizer": {"train": {"text": CORPUS, "vocab_size": 300}}}
    tokenizer = tokenizer_of(spec)
    assert type(tokenizer).__name__ == "RobertaTokenizer"
    assert type(tokenizer.backend_tokenizer.model).__name__ == "BPE"
    # BERT's own special tokens at BERT's own ids, so config.pad_token_id (0) is the padding token.
    assert {t: tokenizer.convert_tokens_to_ids(t) for t in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")} == \
        {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4} and transformers.BertConfig().pad_token_id == 0
    ids = tokenizer("Hello world")["input_ids"]
    assert ids[0] == tokenizer.cls_token_id and ids[-1] == tokenizer.sep_token_id
    assert tokenizer.unk_token_id not in tokenizer("Zürich 東京")["input_ids"]  # byte-level: nothing is unknown
    code = to_code(spec, output_dir=None)  # reproducible, so the exported code trains it again itself
    assert "RobertaTokenizer(" in code and "train_new_from_iterator" in code
    assert in_a_new_session(spec) == [list(x) for x in cut(tokenizer)]


def test_a_bpe_model_types_own_class_stays_the_default():
    tokenizer = tokenizer_of({"model_type": "gpt2", "tokenizer": {"train": {"text": CORPUS, "vocab_size": 300}}})
    assert type(tokenizer).__name__ == "GPT2Tokenizer"


@pytest.mark.parametrize("size", [0, -3, MAX_VOCAB + 1])
def test_an_invalid_vocab_size_is_refused_at_the_field(size):
    """0 silently became a vocabulary of the text's characters; -3 the same."""
    spec = {"model_type": "bert", "tokenizer": {"train": {"text": CORPUS, "vocab_size": size}}}
    with pytest.raises(SpecError) as caught:
        ready(spec)
    assert caught.value.field == "tokenizer.train.vocab_size" and f"{size} is not a vocabulary size" in caught.value.message


def test_a_negative_min_frequency_is_refused_at_the_field():
    with pytest.raises(SpecError) as caught:
        ready({"model_type": "gpt2", "tokenizer": {"train": {"text": CORPUS, "min_frequency": -1}}})
    assert caught.value.field == "tokenizer.train.min_frequency"


def test_a_vocab_size_the_text_cannot_reach_is_explained_at_the_field():
    """Asking for 300 gave 129 with no word why."""
    spec = {"model_type": "llama", "tokenizer": {"train": {"text": CORPUS, "vocab_size": 300}}}
    with pytest.warns(ComposerWarning) as caught:
        tokenizer = build_processors(ready(spec))["tokenizer"]
    (said,) = [str(w.message) for w in caught if "vocab_size" in str(w.message)]
    assert said.startswith(f"tokenizer.train.vocab_size: asked for 300, training reached {len(tokenizer)}: ")
    assert "nothing more to merge" in said and f"a vocab_size of at most {len(tokenizer)}" in said


def test_a_vocab_size_below_the_alphabet_is_explained_at_the_field():
    spec = {"model_type": "bert", "tokenizer": {"train": {"text": CORPUS, "vocab_size": 100}}}
    with pytest.warns(ComposerWarning, match=r"tokenizer\.train\.vocab_size: asked for 100, training made \d+: the 5 "
                                              r"special tokens and every character .*all 256 bytes"):
        build_processors(ready(spec))


def test_a_unigram_vocab_size_below_the_texts_characters_is_refused_at_the_field():
    spec = {"model_type": "albert", "tokenizer": {"class": "AlbertTokenizer", "train": {"text": CORPUS, "vocab_size": 5}}}
    with pytest.raises(SpecError) as caught:
        build_processors(ready(spec))
    assert caught.value.field == "tokenizer.train.vocab_size"
    assert "is too small for AlbertTokenizer (Unigram): the text has" in caught.value.message
