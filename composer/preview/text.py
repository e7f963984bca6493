"""What a tokenizer does to a text: tokens placed over the text by their offsets, a padded batch,
and the two backends side by side.

Everything returned is plain JSON. Long pastes are cut at ``MAX_TEXT_CHARS`` (documented, with a
warning) so that a megabyte of text never freezes the kernel, and tokens are placed over the first
``MAX_DRAWN_CHARS`` only (the count covers the whole text), so the page never draws tens of
thousands of spans on every keystroke.
"""

from __future__ import annotations

import difflib
import itertools
import re
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

from composer.classes import python_tokenizer_class
from composer.limits import MAX_COMPARED_CHARS
from composer.preview._common import failed

MAX_TEXT_CHARS = 100_000  # longer texts are cut here, with a warning
MAX_DRAWN_CHARS = 10_000  # tokens and segments are sent for this much of a longer text, with a warning
BATCH_CHARS = 200  # the batch view shows the text's first 200 characters and the first half of those
VISIBLE = str.maketrans({" ": "·", "\t": "→", "\n": "↵\n", "\r": "␍", "\u00a0": "⍽", "\u200b": "␣"})
SUBWORD_MARKS = ("##", "Ġ", "▁", "Ċ")
WORD = re.compile(r"\S+")


def visible(text: str) -> str:
    """Whitespace as glyphs (· → ↵), so a person sees which token holds the space."""
    return text.translate(VISIBLE)


def is_fast(tokenizer) -> bool:
    """True for the Rust ``tokenizers`` backend, which reports character offsets."""
    return bool(getattr(tokenizer, "is_fast", False))


# ----- placing tokens over the text ------------------------------------------------------------


def _folded(text: str) -> tuple[str, list[int]]:
    """Lowercased text without accents, with the index of the original character of each char:
    what most normalisers do, so pure-Python tokens can be found in the original text."""
    chars, where = [], []
    for i, c in enumerate(text):
        for d in unicodedata.normalize("NFD", c).lower():
            if not unicodedata.combining(d):
                chars.append(d)
                where.append(i)
    return "".join(chars), where


def _aligned_offsets(text: str, tokens: list[str], special: list[bool], unk: str | None
                     ) -> list[tuple[int, int] | None]:
    """Offsets for a tokenizer that reports none (the pure-Python backend): each token is searched
    for in the folded text after the previous one (an unknown token covers the next word); a token
    that is not found stays unplaced."""
    folded, where = _folded(text)
    cursor, out = 0, []
    for tok, is_special in zip(tokens, special):
        if tok == unk:
            word = WORD.search(folded, cursor)
            at, piece = (word.start(), word.group()) if word else (-1, "")
        else:
            piece = tok
            for mark in SUBWORD_MARKS:
                piece = piece.removeprefix(mark)
            piece = "".join(_folded(piece)[0].split())
            at = folded.find(piece, cursor, cursor + len(piece) + 64) if piece and not is_special else -1
        if at < 0:
            out.append(None)
            continue
        cursor = at + len(piece)
        out.append((where[at], where[cursor - 1] + 1))
    return out


def _segments(text: str, tokens: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The whole text as consecutive pieces, each either a gap or the span of one or more tokens
    (byte-level tokens can share a character); unplaced tokens (specials) sit where they occur."""
    out: list[dict[str, Any]] = []
    cursor = 0
    for i, tok in enumerate(tokens):
        start, end = tok["start"], tok["end"]
        if start is None or start == end:
            out.append({"text": tok["token"], "tokens": [i], "special": tok["special"]})
            continue
        if start < cursor and out and out[-1]["tokens"]:  # overlaps the previous token
            out[-1]["tokens"].append(i)
            if end > cursor:
                out[-1]["text"] += visible(text[cursor:end])
                cursor = end
            continue
        if start > cursor:
            out.append({"text": visible(text[cursor:start]), "tokens": [], "special": False})
        out.append({"text": visible(text[start:end]), "tokens": [i], "special": tok["special"]})
        cursor = max(cursor, end)
    if cursor < len(text):
        out.append({"text": visible(text[cursor:]), "tokens": [], "special": False})
    return out


# ----- checks ----------------------------------------------------------------------------------


def vocab_loaded(tokenizer) -> bool:
    """False when the tokenizer holds nothing but its special tokens: the 5.x ``vocab_file=`` trap
    (``BertTokenizer(vocab_file=...)`` is ignored, every word becomes ``[UNK]``)."""
    return len(tokenizer) > len(set(tokenizer.all_special_tokens))


def _max_positions(config: Any) -> int | None:
    if config is None:
        return None
    value = config.get("max_position_embeddings") if isinstance(config, dict) else \
        getattr(config, "max_position_embeddings", None)
    return value if isinstance(value, int) else None


def _warnings(tokenizer, tokens, count, max_length, config, cut) -> list[str]:
    name = type(tokenizer).__name__
    out = []
    if cut:
        out.append(f"the text is {cut:,} characters; the preview shows its first {MAX_TEXT_CHARS:,}")
    if not vocab_loaded(tokenizer):
        out.append(f"the vocabulary did not load: {name} holds only its {len(tokenizer)} special tokens, so "
                   f"every word becomes {tokenizer.unk_token}. In transformers 5.x {name}(vocab_file=...) is "
                   f"ignored: use {name}(vocab=...) or {name}.from_pretrained(folder)")
    else:
        words = [t for t in tokens if not t["special"]]
        unknown = sum(t["unknown"] for t in words)
        if len(words) >= 4 and unknown * 2 > len(words):
            out.append(f"{unknown} of {len(words)} tokens are {tokenizer.unk_token}: the vocabulary does not "
                       "cover this text (wrong vocabulary file, or lowercasing that does not match it)")
    limit = _max_positions(config)
    if limit is not None:
        if max_length is not None and max_length > limit:
            out.append(f"max_length {max_length} exceeds the model's max_position_embeddings ({limit}): longer "
                       f"inputs fail or index past the position table; use max_length <= {limit}")
        elif max_length is None and count > limit:
            out.append(f"this text is {count} tokens but the model reads at most {limit} "
                       f"(max_position_embeddings): set max_length <= {limit} with truncation")
        model_max = getattr(tokenizer, "model_max_length", None)
        if max_length is None and isinstance(model_max, int) and limit < model_max < 10**9:
            out.append(f"the tokenizer's model_max_length ({model_max}) exceeds max_position_embeddings "
                       f"({limit}): truncation without max_length would still pass {model_max} tokens")
    return out


# ----- the previews ----------------------------------------------------------------------------


def _tokens(tokenizer, text: str, encoding: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    ids = list(encoding["input_ids"])
    strings = tokenizer.convert_ids_to_tokens(ids)
    special = [bool(s) for s in encoding.get("special_tokens_mask") or [0] * len(ids)]
    if "offset_mapping" in encoding:
        offsets, how = [tuple(o) for o in encoding["offset_mapping"]], "tokenizer"
    else:
        offsets, how = _aligned_offsets(text, strings, special, tokenizer.unk_token), "aligned"
    unk = tokenizer.unk_token_id
    special_ids = set(tokenizer.all_special_ids) - {unk}  # also a [MASK] typed in the text
    tokens = []
    for i, (tid, tok, sp, off) in enumerate(zip(ids, strings, special, offsets)):
        placed = off is not None and off[1] > off[0]
        tokens.append({"index": i, "id": tid, "token": tok, "special": sp or tid in special_ids,
                       "unknown": unk is not None and tid == unk and not sp,
                       "start": off[0] if placed else None, "end": off[1] if placed else None})
    return tokens, how


def token_preview(tokenizer, text: str, max_length: int | None = None, truncation: bool | None = None,
                  padding_side: str | None = None, batch: list[str] | None = None, config: Any = None) -> dict:
    """Each token with its id, char span into ``text``, special/unknown flags; the text as
    whitespace-visible segments; a padded batch; and warnings (vocabulary not loaded, max_length
    beyond the model's ``max_position_embeddings`` given its ``config``, text cut at MAX_TEXT_CHARS)."""
    cut = len(text) if len(text) > MAX_TEXT_CHARS else 0
    text = text[:MAX_TEXT_CHARS]
    truncation = max_length is not None if truncation is None else truncation
    kwargs = {"return_special_tokens_mask": True, "verbose": False, "truncation": truncation}
    if max_length is not None:
        kwargs["max_length"] = max_length
    try:
        encoding = tokenizer(text, return_offsets_mapping=is_fast(tokenizer), **kwargs)
    except Exception as err:  # e.g. a WordPiece vocabulary that lacks its unknown token
        raise failed(tokenizer, "text", err) from None
    tokens, how = _tokens(tokenizer, text, encoding)
    full = len(tokenizer(text, verbose=False)["input_ids"]) if truncation else len(tokens)
    placed_ends = [t["end"] for t in tokens if t["end"] is not None]
    drawn, drawn_chars = _drawn(tokens, len(text))
    if batch is None:
        head = text[:BATCH_CHARS].rsplit(" ", 1)[0] if len(text) > BATCH_CHARS else text
        batch = [head, head[: len(head) // 2]] if head.strip() else []
    return {
        "class": type(tokenizer).__name__,
        "backend": "tokenizers" if is_fast(tokenizer) else "python",
        "offsets": how,
        "text": text,
        "count": len(tokens),
        "count_untruncated": full,
        "kept_chars": max(placed_ends, default=0) if full > len(tokens) else len(text),
        "tokens": drawn,
        "segments": _segments(text[:drawn_chars], drawn),
        "drawn_chars": drawn_chars,
        "vocab_size": len(tokenizer),
        "batch": batch_preview(tokenizer, batch, max_length, truncation, padding_side) if batch else None,
        "warnings": _warnings(tokenizer, tokens, full, max_length, config, cut) + (
            [] if len(drawn) == len(tokens) else
            [f"tokens are drawn over the first {drawn_chars:,} characters ({len(drawn):,} of {len(tokens):,}); "
             f"the count covers all {len(text):,}"]),
    }


def _drawn(tokens: list[dict[str, Any]], length: int) -> tuple[list[dict[str, Any]], int]:
    """The tokens to draw (those starting within MAX_DRAWN_CHARS, and the unplaced ones among them)
    and how much of the text they cover."""
    if length <= MAX_DRAWN_CHARS:
        return tokens, length
    drawn = list(itertools.takewhile(lambda t: t["start"] is None or t["start"] < MAX_DRAWN_CHARS, tokens))
    return drawn, max((t["end"] for t in drawn if t["end"] is not None), default=0)


def batch_preview(tokenizer, texts: list[str], max_length: int | None = None, truncation: bool = False,
                  padding_side: str | None = None, padding: str = "longest") -> dict:
    """Two or three texts padded together (to the longest row, or to max_length with
    ``padding="max_length"``): ids, tokens and attention mask per row, as the model gets them."""
    side = padding_side or tokenizer.padding_side
    texts = [t[:MAX_TEXT_CHARS] for t in texts]
    kwargs: dict[str, Any] = {"truncation": truncation, "verbose": False, "padding_side": side}
    if max_length is not None:
        kwargs["max_length"] = max_length
    note = None
    if tokenizer.pad_token is None:
        note = (f"{type(tokenizer).__name__} has no pad token, so a batch cannot be padded; set pad_token "
                "(e.g. to the eos_token) in the tokenizer's options")
        encoding = tokenizer(texts, **kwargs)
    else:
        encoding = tokenizer(texts, padding=padding, **kwargs)
    full = [len(ids) for ids in tokenizer(texts, verbose=False)["input_ids"]]
    rows = []
    for i, ids in enumerate(encoding["input_ids"]):
        mask = list(encoding["attention_mask"][i]) if "attention_mask" in encoding else [1] * len(ids)
        rows.append({"text": texts[i], "input_ids": list(ids), "tokens": tokenizer.convert_ids_to_tokens(ids),
                     "attention_mask": mask, "length": sum(mask), "truncated": full[i] > sum(mask)})
    return {"padding": padding, "padding_side": side, "truncation": truncation, "max_length": max_length,
            "pad_token": tokenizer.pad_token, "pad_token_id": tokenizer.pad_token_id, "rows": rows, "note": note}


# ----- the two backends side by side -----------------------------------------------------------


def _twin(tokenizer):
    """The other backend's class for the same tokenizer, or None."""
    import transformers


    if is_fast(tokenizer):
        return python_tokenizer_class(type(tokenizer))
    name = type(tokenizer).__name__
    return getattr(transformers, name.removesuffix("Legacy"), None) if name.endswith("Legacy") else None


def _write_vocab_txt(tokenizer, twin_cls, folder: Path) -> None:
    """A tokenizers-backed class saves only tokenizer.json; the pure-Python WordPiece twin reads
    vocab.txt (one token a line, in id order), so write it when it is missing."""
    name = getattr(twin_cls, "vocab_files_names", {}).get("vocab_file", "")
    if name.endswith(".txt") and not (folder / name).exists():
        vocab = sorted(tokenizer.get_vocab().items(), key=lambda item: item[1])
        (folder / name).write_text("".join(f"{tok}\n" for tok, _ in vocab), encoding="utf-8")


def _run(tokenizer, text: str) -> dict[str, Any]:
    """One side of the comparison: its tokens placed over the text, the keys it returns, its time."""
    start = time.perf_counter()
    encoding = tokenizer(text, return_special_tokens_mask=True, return_offsets_mapping=is_fast(tokenizer),
                         verbose=False)
    ms = (time.perf_counter() - start) * 1000
    tokens, how = _tokens(tokenizer, text, encoding)
    keys = sorted(k for k in encoding if k not in ("special_tokens_mask", "offset_mapping"))
    return {"class": type(tokenizer).__name__, "ids": [t["id"] for t in tokens], "tokens": tokens,
            "offsets": how, "keys": keys, "ms": round(ms, 3)}


def load_twin(tokenizer) -> tuple[Any, str | None]:
    """(the same tokenizer in the other backend, None), or (None, why there is none). Loading it
    costs a save and a reload, so a view that compares on every keystroke loads it once."""
    twin_cls = _twin(tokenizer)
    name = type(tokenizer).__name__
    if twin_cls is None:
        kind = "pure-Python" if is_fast(tokenizer) else "tokenizers-backed"
        return None, (f"{name} has no {kind} twin in this transformers (5.x keeps a few, e.g. "
                      "BertTokenizerLegacy)")
    with tempfile.TemporaryDirectory() as folder:  # the twin reads the same vocabulary files
        tokenizer.save_pretrained(folder)
        _write_vocab_txt(tokenizer, twin_cls, Path(folder))
        try:
            return twin_cls.from_pretrained(folder, trust_remote_code=False), None
        except Exception as err:
            return None, f"{twin_cls.__name__} cannot load {name}'s files: {err}"


def compare_backends(tokenizer, text: str, twin=None) -> dict:
    """The tokenizers-backed class and its pure-Python twin (``BertTokenizer`` / ``BertTokenizerLegacy``)
    on one text, token by token (each side placed over the text), with a short explanation of what
    differs and why. ``twin``: one already loaded with ``load_twin``. A longer text is compared on its
    first MAX_COMPARED_CHARS (the pure-Python side and the diff grow faster than the text), with a note."""
    if twin is None:
        twin, reason = load_twin(tokenizer)
        if twin is None:
            return {"available": False, "reason": reason}
    fast, slow = (tokenizer, twin) if is_fast(tokenizer) else (twin, tokenizer)
    note = f"compared on the first {MAX_COMPARED_CHARS:,} characters" if len(text) > MAX_COMPARED_CHARS else None
    text = text[:MAX_COMPARED_CHARS]
    a, b = _run(fast, text), _run(slow, text)
    diffs = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a["ids"], b["ids"], autojunk=False).get_opcodes():
        if op != "equal":
            diffs.append({"fast": [i1, i2], "python": [j1, j2],
                          "fast_tokens": [t["token"] for t in a["tokens"][i1:i2]],
                          "python_tokens": [t["token"] for t in b["tokens"][j1:j2]]})
    return {"available": True, "fast": a, "python": b, "same_ids": a["ids"] == b["ids"], "differences": diffs,
            "explanation": _explain(a, b, diffs, text), **({"note": note} if note else {})}


def _explain(a: dict, b: dict, diffs: list[dict], text: str) -> list[str]:
    out = [f"{a['class']} runs the Rust `tokenizers` pipeline and reports character offsets; {b['class']} is "
           f"pure Python and reports none (its tokens are placed by searching the text)."]
    if a["ms"] > 0 and b["ms"] > 0:
        out.append(f"On this text: {a['ms']:.2f} ms against {b['ms']:.2f} ms.")
    if a["ids"] == b["ids"]:
        out.append(f"Both give the same {len(a['ids'])} tokens and ids.")
    else:
        first = diffs[0]
        out.append(f"They differ in {len(diffs)} place(s), first at token {first['fast'][0]}: "
                   f"{first['fast_tokens']} against {first['python_tokens']}.")
        spans = [(t["start"], t["end"]) for d in diffs for t in a["tokens"][d["fast"][0]:d["fast"][1]]
                 if t["start"] is not None]
        odd = sorted({c for start, end in spans for c in text[start:end] if ord(c) > 127})
        if odd:
            names = ", ".join(f"U+{ord(c):04X} ({unicodedata.category(c)})" for c in odd[:5])
            out.append(f"The differences hold {names}: the pure-Python class cleans and splits text with Python's "
                       f"Unicode {unicodedata.unidata_version} tables, the Rust library with its own, so a character "
                       "one of them classes as unassigned, a mark or punctuation is dropped, split off or kept "
                       "as an unknown word by the other.")
    missing = sorted(set(a["keys"]) - set(b["keys"]))
    if missing:
        out.append(f"{b['class']} does not return {', '.join(missing)}, so the model falls back to its default"
                   + (" (token_type_ids all zeros: right for one sentence, wrong for sentence pairs)."
                      if "token_type_ids" in missing else "."))
    return out
