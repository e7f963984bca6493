"""Hypothesis strategies for what a careless or hostile user hands the composer: Specs over many
model types (fields read from the real config classes), raw spec file bytes, and damaged folders.

Huge or deep values are small objects with a short repr (``Long``, ``Deep``), so that a failing
example prints in one line; they are a ``str`` and a ``list`` to the engine.
"""

from __future__ import annotations

import functools
import json
import string

from hypothesis import strategies as st

# Decoders, encoders, encoder-decoders, vision, audio, designs with a backbone, mixtures of experts
# and a state-space model: every family the composer serves, 42 types in all.
MODEL_TYPES = {
    "decoder": ("gpt2", "llama", "mistral", "qwen2", "gemma", "phi", "falcon", "gpt_neox", "opt", "bloom"),
    "encoder": ("bert", "distilbert", "roberta", "albert", "electra", "deberta-v2", "xlm-roberta", "longformer"),
    "encoder-decoder": ("t5", "bart", "marian", "pegasus", "mbart"),
    "vision": ("vit", "deit", "convnext", "resnet", "swin", "beit", "segformer"),
    "audio": ("wav2vec2", "whisper", "hubert", "wavlm"),
    "backbone": ("maskformer", "detr", "upernet", "dpt"),
    "moe": ("mixtral", "qwen2_moe", "switch_transformers", "olmoe"),
    "other": ("clip", "mamba"),
}
ALL_TYPES = tuple(t for family in MODEL_TYPES.values() for t in family)

# Tiny designs that build on CPU in well under a second: the ones saved, run and exported for real.
TINY = {
    "distilbert": {"architecture": "DistilBertForSequenceClassification",
                   "config": {"n_layers": 1, "dim": 32, "n_heads": 2, "hidden_dim": 64, "vocab_size": 100,
                              "max_position_embeddings": 64, "num_labels": 3}},
    "bert": {"config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                        "intermediate_size": 64, "vocab_size": 100, "max_position_embeddings": 64}},
    "gpt2": {"architecture": "GPT2LMHeadModel",
             "config": {"n_layer": 1, "n_embd": 32, "n_head": 2, "vocab_size": 100, "n_positions": 64}},
    "llama": {"architecture": "LlamaForCausalLM",
              "config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                         "num_key_value_heads": 1, "intermediate_size": 64, "vocab_size": 100}},
    "t5": {"config": {"num_layers": 1, "num_decoder_layers": 1, "d_model": 32, "d_kv": 8, "num_heads": 2,
                      "d_ff": 64, "vocab_size": 100}},
    "vit": {"architecture": "ViTForImageClassification",
            "config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                       "intermediate_size": 64, "image_size": 32, "patch_size": 8, "num_labels": 2}},
    "wav2vec2": {"config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                            "intermediate_size": 64, "conv_dim": [32, 32], "conv_stride": [5, 4],
                            "conv_kernel": [10, 8], "num_conv_pos_embeddings": 16,
                            "num_conv_pos_embedding_groups": 2, "vocab_size": 32}},
    "mixtral": {"config": {"num_hidden_layers": 1, "hidden_size": 32, "num_attention_heads": 2,
                           "num_key_value_heads": 1, "intermediate_size": 64, "vocab_size": 100,
                           "num_local_experts": 2, "num_experts_per_tok": 1}},
}


class Long(str):
    """A long string whose repr says only how long it is."""

    def __repr__(self) -> str:
        return f"Long({self[:8]!r}*{len(self)})"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


class Deep(list):
    """A list nested ``depth`` levels deep, with a repr that says only that."""

    def __init__(self, depth: int):
        inner: list = []
        for _ in range(depth - 2):
            inner = [inner]
        super().__init__([inner] if depth > 1 else [])
        self.depth = depth

    def __repr__(self) -> str:
        return f"Deep({self.depth})"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


class Huge(int):
    """An integer with more digits than Python turns into text by default (4,300)."""

    def __repr__(self) -> str:
        return f"Huge({len(str(self // 10**4000))}+4000 digits)"

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


class Blob(bytes):
    """Bytes that print as their start and length."""

    def __repr__(self) -> str:
        return f"Blob({bytes(self[:12])!r}..., {len(self)} bytes)" if len(self) > 60 else repr(bytes(self))

    def _repr_pretty_(self, p, cycle):
        p.text(repr(self))


# ----- values ---------------------------------------------------------------------------------

HUGE_INTS = (2**40, 10**12, 2**53 + 1, 2**63, 2**64, -(2**63), 10**30, 200_000)
EDGE_INTS = (-1, 0, 1, -(2**31), 2**31 - 1)
EDGE_FLOATS = (float("nan"), float("inf"), float("-inf"), -0.0, 1e308, -1e308, 5e-324, 1e-300, 0.5, 2.0)
EDGE_STRINGS = ("", " ", "a\nb", "x\x00y", "\ud800", "\udfff lone", "é" * 3, "../../etc/passwd", "BertModel",
                "PIL.Image.BOX", "null", "1e400", "NaN", "${HOME}", "%s%s%n")


def long_strings() -> st.SearchStrategy:
    return st.sampled_from((300, 5_000, 1_000_001, 2_000_000)).map(lambda n: Long("v" * n))


def hostile_scalars() -> st.SearchStrategy:
    return st.one_of(
        st.sampled_from(HUGE_INTS + EDGE_INTS),
        st.integers(),
        st.sampled_from(EDGE_FLOATS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(EDGE_STRINGS),
        st.text(max_size=20),
        long_strings(),
        st.none(),
        st.booleans(),
        st.just(Huge(10**5000)),
    )


def json_values(max_leaves: int = 6) -> st.SearchStrategy:
    """Any JSON value (what a spec file can hold), hostile scalars at the leaves."""
    return st.one_of(
        hostile_scalars(),
        st.sampled_from((33, 64, 2000, 10_000)).map(Deep),
        st.recursive(hostile_scalars(), lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
            max_leaves=max_leaves),
    )


class Opaque:
    """An object that is no JSON value at all."""

    def __repr__(self) -> str:
        return "Opaque()"


def python_values() -> st.SearchStrategy:
    """Values only the Python API can receive: tuples, sets, bytes, non-string keys, objects."""
    return st.one_of(
        st.tuples(st.integers(0, 4), st.integers(0, 4)),
        st.frozensets(st.integers(0, 4), max_size=3),
        st.sets(st.integers(0, 4), max_size=3),
        st.binary(max_size=8),
        st.dictionaries(st.one_of(st.integers(), st.none(), st.tuples(st.integers())), st.integers(),
                        min_size=1, max_size=2),
        st.just(Opaque()),
        st.just(b"\xff\xfe"),
        st.complex_numbers(max_magnitude=10),
    )


def right_kind(f) -> st.SearchStrategy:
    """A plausible value of the kind a field takes (so that designs get past the type checks)."""
    if f.choices:
        return st.sampled_from(f.choices)
    kinds = f.kinds or (f.type,)
    options = []
    if "bool" in kinds:
        options.append(st.booleans())
    if "int" in kinds:
        options.append(st.integers(1, 8) if not isinstance(f.default, int) or f.default <= 0 else
                       st.sampled_from((1, 2, max(1, f.default // 2), f.default)))
    if "float" in kinds:
        options.append(st.floats(0.0, 1.0, allow_nan=False))
    if "str" in kinds:
        options.append(st.sampled_from((f.default,) if isinstance(f.default, str) else ("gelu", "relu")))
    if "list" in kinds:
        options.append(st.just(f.default) if isinstance(f.default, list) else st.lists(st.integers(1, 4), max_size=3))
    if "dict" in kinds or "config" in kinds:
        options.append(st.just({}))
    return st.one_of(options) if options else st.just(f.default)


def field_value(f, python: bool = False) -> st.SearchStrategy:
    """Mostly the right kind (to reach deep code), often hostile, now and then a Python-only value."""
    parts = [right_kind(f), right_kind(f), json_values()]
    if python:
        parts.append(python_values())
    return st.one_of(parts)


@functools.cache
def editable_fields(model_type: str) -> tuple:
    from composer.fields import config_fields

    return tuple(f for f in config_fields(model_type) if f.type != "config")


@functools.cache
def layer_fields(model_type: str) -> tuple[str, ...]:
    """Repeated-block counts, set to 1 in a generated design so that meta builds stay quick."""
    return tuple(f.name for f in editable_fields(model_type) if f.type == "int" and "layers" in f.name
                 and isinstance(f.default, int) and f.default > 1)


@functools.cache
def head_names(model_type: str) -> tuple[str, ...]:
    from composer.catalog import heads

    return tuple(h.name for h in heads(model_type))


# ----- sections --------------------------------------------------------------------------------

HUB_IDS = ("org/", "/name", "bad name!!", "~nouser/x", "a" * 300, "org/" + "n" * 300, "x\x00y", "org//x",
           "..", ".", "", " ", "org/name", "bert-base-uncased", "a/b/c", "/nonexistent/folder", "./missing",
           "~/missing", "org/name\n", "C:\\models\\x", "\ud800/x", "http://example.invalid/x")


def pretrained_names() -> st.SearchStrategy:
    return st.one_of(st.sampled_from(HUB_IDS), st.text(max_size=40),
                     st.text(string.ascii_letters + "/._-~", max_size=30))


def options(keys: tuple[str, ...], values: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """An ``options`` object: known option names and random ones, any values."""
    values = values or json_values(3)
    return st.dictionaries(st.one_of(st.sampled_from(keys), st.text(max_size=10)), values, max_size=3)


def sizes() -> st.SearchStrategy:
    side = st.one_of(st.sampled_from((1, 16, 224, 30_000, 2**40, 0, -5)), st.integers())
    return st.one_of(st.fixed_dictionaries({"height": side, "width": side}),
                     st.fixed_dictionaries({"shortest_edge": side}), side, json_values(2))


IMAGE_CLASSES = ("ViTImageProcessor", "CLIPImageProcessor", "ConvNextImageProcessor", "DetrImageProcessor",
                 "ViTImageProcessorPil", "BertModel", "Wav2Vec2FeatureExtractor", "NoSuchProcessor", "")
AUDIO_CLASSES = ("Wav2Vec2FeatureExtractor", "WhisperFeatureExtractor", "ASTFeatureExtractor",
                 "ViTImageProcessor", "NoSuchExtractor", "")
TOKENIZER_CLASSES = ("BertTokenizer", "GPT2Tokenizer", "DistilBertTokenizer", "T5Tokenizer", "Wav2Vec2CTCTokenizer",
                     "ViTImageProcessor", "NoSuchTokenizer", "")


def image_processor() -> st.SearchStrategy:
    opts = st.dictionaries(
        st.sampled_from(("size", "crop_size", "resample", "do_resize", "image_mean", "rescale_factor",
                         "do_center_crop", "zzz")),
        st.one_of(sizes(), json_values(3)), max_size=3)
    return st.fixed_dictionaries({"class": st.sampled_from(IMAGE_CLASSES)}, optional={"options": opts})


def feature_extractor() -> st.SearchStrategy:
    value = st.one_of(st.sampled_from((999_983, 16_000, 0, -1, 2**40, 10**12, 400, 80)), json_values(3))
    opts = st.dictionaries(st.sampled_from(("sampling_rate", "feature_size", "n_fft", "hop_length", "chunk_length",
                                            "padding_value", "do_normalize", "num_mel_bins", "zzz")), value,
                           max_size=3)
    return st.fixed_dictionaries({"class": st.sampled_from(AUDIO_CLASSES)}, optional={"options": opts})


def tokenizer() -> st.SearchStrategy:
    text = st.one_of(st.lists(st.sampled_from(("the cat sat", "a dog ran", "é\ud800", "")), min_size=1, max_size=4),
                     st.sampled_from((20_000, 100_000)).map(lambda n: [Long("the cat sat on the mat " * (n // 23))]),
                     json_values(3))
    train = st.fixed_dictionaries({"text": text}, optional={
        "vocab_size": st.one_of(st.sampled_from((30, 1000, 2**40, 10**12, 0, -1)), json_values(2)),
        "min_frequency": st.one_of(st.integers(-2, 3), json_values(2)),
        "files": st.one_of(st.lists(pretrained_names(), max_size=2), json_values(2))})
    source = st.one_of(st.fixed_dictionaries({"train": train}),
                       st.fixed_dictionaries({"pretrained": pretrained_names()}),
                       st.fixed_dictionaries({"vocab_file": pretrained_names()}),
                       st.just({}))
    extra = st.fixed_dictionaries({}, optional={
        "class": st.sampled_from(TOKENIZER_CLASSES),
        "options": options(("model_max_length", "padding_side", "unk_token", "do_lower_case", "vocab")),
        "fast": st.one_of(st.booleans(), json_values(1))})
    return st.builds(lambda a, b: {**a, **b}, source, extra)


def backbone() -> st.SearchStrategy:
    from composer.catalog import backbone_types

    types = st.one_of(st.sampled_from(("resnet", "convnext", "swin", "dinov2", "bit")),
                      st.sampled_from(backbone_types()), st.sampled_from(("bert", "nosuch", "")))

    @st.composite
    def transformers_backbone(draw):
        model_type = draw(types)
        out = {"model_type": model_type}
        if model_type in backbone_types() and draw(st.booleans()):
            fields = editable_fields(model_type)
            picked = draw(st.lists(st.sampled_from(fields), max_size=2, unique_by=lambda f: f.name))
            out["config"] = {f.name: draw(field_value(f)) for f in picked}
        return out

    timm = st.fixed_dictionaries({"timm": st.one_of(st.sampled_from(("resnet18", "convnext_atto", "nosuch_net",
                                                                     "")), st.text(max_size=12))},
                                 optional={"pretrained": st.one_of(st.booleans(), json_values(1))})
    stages = st.fixed_dictionaries({}, optional={
        "out_indices": st.one_of(st.lists(st.integers(-6, 6), max_size=4), json_values(2)),
        "out_features": st.one_of(st.lists(st.sampled_from(("stage1", "stage2", "stage4", "nope")), max_size=3),
                                  json_values(2))})
    return st.builds(lambda a, b: {**a, **b}, st.one_of(transformers_backbone(), timm), stages)


@st.composite
def specs(draw, types: tuple[str, ...] = ALL_TYPES, python: bool = False, tiny: bool = False) -> dict:
    """A Spec as a user writes it: a real model type, a few fields changed (right and wrong kinds),
    sometimes unknown keys, a wrong architecture, processor sections, a backbone or a pretrained name."""
    model_type = draw(st.sampled_from(types))
    base = TINY[model_type] if tiny else {"config": {name: 1 for name in layer_fields(model_type)}}
    spec = {"model_type": model_type, **{k: (dict(v) if isinstance(v, dict) else v) for k, v in base.items()}}
    spec.setdefault("config", {})
    fields = editable_fields(model_type)
    for f in draw(st.lists(st.sampled_from(fields), max_size=3, unique_by=lambda f: f.name)):
        name = draw(st.sampled_from((f.name, *f.aliases)))
        spec["config"][name] = draw(field_value(f, python))
    sometimes = functools.partial(_sometimes, draw)
    if sometimes(8):
        spec["config"][draw(st.text(max_size=12))] = draw(json_values(2))
    if sometimes(5):
        heads = head_names(model_type)
        spec["architecture"] = draw(st.one_of(st.sampled_from(heads), st.sampled_from(("BertModel", "", "nn.Module")),
                                              st.text(max_size=20), json_values(1)))
    for key, strategy, odds in (("tokenizer", tokenizer, 6), ("image_processor", image_processor, 8),
                                ("feature_extractor", feature_extractor, 8), ("backbone", backbone, 8)):
        if sometimes(odds):
            spec[key] = draw(st.one_of(strategy(), strategy(), json_values(2)))
    if sometimes(10):
        spec["processor"] = draw(st.one_of(st.sampled_from(("Wav2Vec2Processor", "CLIPProcessor", "BertModel")),
                                           json_values(1)))
    if sometimes(5):
        spec["pretrained"] = draw(st.one_of(pretrained_names(), json_values(1)))
    if sometimes(12):
        spec["seed"] = draw(st.one_of(st.integers(), json_values(1)))
    if sometimes(20):
        spec[draw(st.sampled_from(("format", "extra", "", "Model_type")))] = draw(json_values(1))
    if python and sometimes(6):
        spec["config"] = draw(st.one_of(python_values(), json_values(2)))
    if python and sometimes(10):
        spec[draw(st.one_of(st.integers(), st.none()))] = 1
    return spec


def _sometimes(draw, odds: int) -> bool:
    """True about once in ``odds`` draws (shrinks towards False)."""
    return draw(st.integers(0, odds - 1)) == odds - 1


# ----- spec files ------------------------------------------------------------------------------


def dump(value) -> str:
    """JSON text of a generated value: NaN and Infinity written as Python's json does, deep lists
    without recursion."""
    if isinstance(value, Deep):
        return "[" * value.depth + "]" * value.depth
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    if isinstance(value, Huge):
        return "9" * len(str(value // 10**4000)) + "0" * 4000  # json.dumps refuses it; a file need not
    return json.dumps(value)


def spec_file_bytes() -> st.SearchStrategy:
    """What a spec file can hold: a generated Spec as JSON (valid or not), random text, bytes that
    are not UTF-8, huge numbers, deep arrays, a byte-order mark, a truncated document."""
    as_text = specs().map(dump)
    return st.one_of(
        as_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
        as_text.flatmap(lambda t: st.integers(0, len(t)).map(lambda n: t[:n].encode("utf-8", "surrogatepass"))),
        as_text.map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-8", "surrogatepass")),
        st.binary(max_size=64),
        st.text(max_size=64).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.sampled_from(tuple(map(Blob, (b"\xff\xfe{}", b'{"model_type": "bert\xff"}', b"[" * 100_000 + b"]" * 100_000,
                         b'{"model_type": "bert", "seed": ' + b"9" * 5_000 + b"}",
                         b'{"model_type": "bert", "config": {"layer_norm_eps": 1e999}}',
                         b'{"model_type": "bert", "config": {"layer_norm_eps": NaN}}',
                         b'{"model_type": "bert", "model_type": "gpt2"}', b"", b"null", b"[]", b'"bert"',
                         b'{"model_type": "bert", "config": {"hidden_size": 1' + b"0" * 400 + b"}}",
                         b'{"model_type": "\\ud800"}', b" " * (5 * 2**20))))),
    ).map(Blob)


# ----- damaged folders -------------------------------------------------------------------------

EVIL_CODE = ("import pathlib\npathlib.Path(__file__).with_name('REMOTE_CODE_RAN').write_text('yes')\n"
             "from transformers import PretrainedConfig as EvilConfig, PreTrainedModel as EvilModel\n")


@st.composite
def config_edits(draw) -> tuple:
    """One change to config.json: a key set to a value, a key removed, or the whole file replaced."""
    key = draw(st.sampled_from(("model_type", "architectures", "num_hidden_layers", "n_layers", "vocab_size",
                                "dim", "hidden_size", "num_attention_heads", "max_position_embeddings",
                                "id2label", "num_labels", "auto_map", "torch_dtype", "dtype", "zzz")))
    value = draw(st.one_of(
        st.sampled_from((200_000, 10**12, -1, 0, 3, 7, "BertModel", ["NoSuchModel"], [], [1], "nosuch_type",
                         "gpt2", {"AutoModel": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}, "float64")),
        json_values(2)))
    return draw(st.sampled_from((("set", key, value), ("del", key))))


FILE_BYTES = tuple(map(Blob, (b"", b"{", b"[]", b"null", b'"x"', b"\xff\xfe\x00", b'{"a": 1', b"{}",
                             b'{"model_type": 5}', b"[" * 50_000 + b"]" * 50_000)))


@st.composite
def damages(draw) -> list[tuple]:
    """One to three damages to a checkpoint folder, as (operation, arguments...) tuples that
    ``apply_damage`` carries out (so that a failing example prints as a short recipe)."""
    one = st.one_of(
        config_edits(),
        st.tuples(st.just("config_bytes"), st.one_of(st.sampled_from(FILE_BYTES), st.binary(max_size=32))),
        st.tuples(st.just("truncate"), st.sampled_from(("model.safetensors", "config.json", "tokenizer.json",
                                                        "preprocessor_config.json", "tokenizer_config.json")),
                  st.floats(0, 1)),
        st.tuples(st.just("flip"), st.sampled_from(("header_length", "header", "data")), st.floats(0, 1),
                  st.integers(1, 255)),
        st.tuples(st.just("header_length"), st.sampled_from((0, 1, 2**63, 2**40, 10**9, 7))),
        st.tuples(st.just("lie"), st.sampled_from(("shape", "offsets", "dtype", "names", "drop", "extra"))),
        st.tuples(st.just("delete"), st.sampled_from(("model.safetensors", "config.json", "tokenizer.json",
                                                      "tokenizer_config.json", "vocab.txt", "composer.spec.json",
                                                      "preprocessor_config.json", "special_tokens_map.json"))),
        st.tuples(st.just("pickle_only")),
        st.tuples(st.just("shard_index"), st.sampled_from(("../outside.safetensors", "/etc/passwd",
                                                           "sub/../../outside.safetensors", "missing.safetensors",
                                                           "model.safetensors", "\x00"))),
        st.tuples(st.just("json_file"), st.sampled_from(("preprocessor_config.json", "tokenizer_config.json",
                                                         "processor_config.json", "generation_config.json")),
                  st.one_of(st.sampled_from(FILE_BYTES),
                            st.sampled_from(({"image_processor_type": "NoSuchProcessor"},
                                             {"image_processor_type": "ViTImageProcessor",
                                              "size": {"height": 30_000, "width": 30_000}},
                                             {"feature_extractor_type": "Wav2Vec2FeatureExtractor",
                                              "sampling_rate": -1},
                                             {"tokenizer_class": "NoSuchTokenizer"},
                                             {"tokenizer_class": "BertTokenizer", "model_max_length": 10**30},
                                             {"processor_class": "Wav2Vec2Processor"},
                                             {"auto_map": {"AutoTokenizer": ["evil.EvilTok", None]}})))),
        st.tuples(st.just("remote"), st.sampled_from(("keep_type", "unknown_type", "no_type"))),
        st.tuples(st.just("config_dir")),
        st.tuples(st.just("symlink_config"), st.sampled_from(("/dev/zero", "/etc/hostname", "../outside.json",
                                                              "config.json"))),
    )
    return draw(st.lists(one, min_size=1, max_size=3))
