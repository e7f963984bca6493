"""A tokenizer trained on text typed or uploaded in the notebook: WordPiece, byte-level BPE or
Unigram with the ``tokenizers`` trainers, wrapped in a transformers class that saves and reloads
with ``AutoTokenizer``."""

from __future__ import annotations

from composer.preview._common import PreviewError

DEFAULT_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _roles(special_tokens: list[str]) -> dict[str, str]:
    """unk/pad/cls/sep/mask/bos/eos by the usual names, so the wrapper knows each token's job."""
    roles: dict[str, str] = {}
    names = {"unk": ("unk",), "pad": ("pad",), "cls": ("cls",), "sep": ("sep",), "mask": ("mask",),
             "bos": ("<s>", "bos"), "eos": ("</s>", "eos")}
    for tok in special_tokens:
        low = tok.lower()
        for role, keys in names.items():
            if role not in roles and any(k in low for k in keys) and not (role == "bos" and "</s>" in low):
                roles[role] = tok
                break
    return roles


def _backend(model: str, lowercase: bool, unk: str | None):
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    if model == "wordpiece":
        tok = Tokenizer(models.WordPiece(unk_token=unk or "[UNK]"))
        tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        tok.decoder = decoders.WordPiece()
    elif model == "bpe":
        tok = Tokenizer(models.BPE())  # byte-level: every byte is in the alphabet, nothing is unknown
        tok.normalizer = normalizers.Sequence([normalizers.NFC(), normalizers.Lowercase()] if lowercase
                                              else [normalizers.NFC()])
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
    else:
        tok = Tokenizer(models.Unigram())
        tok.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()] if lowercase
                                              else [normalizers.NFKC()])
        tok.pre_tokenizer = pre_tokenizers.Metaspace()
        tok.decoder = decoders.Metaspace()
    return tok


def _trainer(model: str, vocab_size: int, min_frequency: int, special_tokens: list[str], unk: str | None):
    from tokenizers import pre_tokenizers, trainers

    common = {"vocab_size": vocab_size, "special_tokens": special_tokens, "show_progress": False}
    if model == "wordpiece":
        return trainers.WordPieceTrainer(min_frequency=min_frequency, **common)
    if model == "bpe":
        return trainers.BpeTrainer(min_frequency=min_frequency, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                   **common)
    return trainers.UnigramTrainer(unk_token=unk, **common)


def _post_processor(tok, model: str, roles: dict[str, str]):
    from tokenizers import processors

    first, last = roles.get("cls") or roles.get("bos"), roles.get("sep") or roles.get("eos")
    steps = [processors.ByteLevel(trim_offsets=True)] if model == "bpe" else []
    if first and last:
        pairs = [(first, tok.token_to_id(first)), (last, tok.token_to_id(last))]
        steps.append(processors.TemplateProcessing(single=f"{first} $A {last}",
                                                   pair=f"{first} $A {last} $B:1 {last}:1", special_tokens=pairs))
    return processors.Sequence(steps) if steps else None


def train_tokenizer(texts: list[str] | str, model: str = "wordpiece", vocab_size: int = 1000,
                    special_tokens: list[str] | None = None, lowercase: bool = True, min_frequency: int = 0,
                    tokenizer_class: str = "PreTrainedTokenizerFast"):
    """Train a WordPiece, byte-level BPE or Unigram vocabulary with the ``tokenizers`` trainers on the
    given text (a string is split into lines) and wrap it in a transformers class, ready to
    ``save_pretrained`` and reload with ``AutoTokenizer``."""
    import transformers

    if model not in ("wordpiece", "bpe", "unigram"):
        raise PreviewError(f"unknown tokenizer model {model!r}; choose wordpiece, bpe or unigram")
    lines = texts.splitlines() if isinstance(texts, str) else list(texts)
    lines = [line for line in lines if line.strip()]
    if not lines:
        raise PreviewError("there is no text to train on: type or upload some text first")
    if vocab_size < 1:
        raise PreviewError(f"vocab_size must be positive, got {vocab_size}")
    special_tokens = list(DEFAULT_SPECIAL if special_tokens is None else special_tokens)
    if model == "bpe" and vocab_size < 256 + len(special_tokens):
        need = 256 + len(special_tokens)
        raise PreviewError(f"byte-level BPE starts from all 256 bytes: vocab_size must be at least {need} "
                           f"(256 + {len(special_tokens)} special tokens), got {vocab_size}")
    roles = _roles(special_tokens)
    tok = _backend(model, lowercase, roles.get("unk"))
    tok.train_from_iterator(lines, trainer=_trainer(model, vocab_size, min_frequency, special_tokens,
                                                    roles.get("unk")))
    processor = _post_processor(tok, model, roles)
    if processor is not None:
        tok.post_processor = processor
    cls = getattr(transformers, tokenizer_class)
    extra = [t for t in special_tokens if t not in roles.values()]
    kwargs = {f"{role}_token": token for role, token in roles.items()}
    if extra:
        kwargs["extra_special_tokens"] = extra
    return cls(tokenizer_object=tok, **kwargs)
