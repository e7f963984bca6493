"""TokenizerPreview: make a tokenizer (from a vocab file, a pretrained folder or hub id, or trained on
text typed or uploaded here) and watch it cut text: each token a coloured span over the text placed
by its offsets, its id on hover, special and unknown tokens marked, whitespace visible, the count; a
padded batch with its attention mask; and the tokenizers-backed and pure-Python classes side by side."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import traitlets

from composer.catalog import default_class, known_classes
from composer.preview.text import compare_backends, load_twin, token_preview
from composer.sections import tokenizer as tokenizer_section
from composer.spec import Spec
from widgets._base import bundle, in_section
from widgets._design import Coalesce, Design
from widgets._preview import PreviewView, one_line, save_upload

# Offered for training, one per algorithm (the class fixes it; the engine says which, tokenizer.trainer).
TRAINABLE = ("BertTokenizer", "RobertaTokenizer", "AlbertTokenizer")
INLINE_TRAIN_CHARS = 100_000  # longer training text is kept as a file beside the notebook, not in the Spec
COMPARED_TOKENS = 300  # tokens of each side sent to the browser
SAMPLE_TEXT = "Hello world!  Tokenizers split words into pieces: unbelievable, naïve café, 東京.\nA new line."


def _given(section: dict[str, Any]) -> dict[str, Any]:
    """The keys of a Spec section that were given (not None, empty or 0): the rest are defaults."""
    return {key: value for key, value in section.items() if value}


@functools.lru_cache(maxsize=4)
def _twin(tokenizer) -> tuple[Any, str | None]:
    return load_twin(tokenizer)


@functools.lru_cache(maxsize=64)
def _option_dicts(name: str) -> list[dict[str, Any]]:
    """The option fields of tokenizer class ``name`` as the form gets them (cached: offered on every edit)."""
    return [field.to_dict() for field in tokenizer_section.option_fields(name)]


@functools.lru_cache(maxsize=4)
def _config(key: str):
    """The model's config (for its max_position_embeddings), or None if it does not build."""
    from composer.build import build_config

    try:
        return build_config(Spec(**json.loads(key)))
    except Exception:
        return None


class TokenizerPreview(PreviewView):
    """Make a tokenizer and type text to see its tokens. ``TokenizerPreview(spec=...)`` restores a design,
    ``.spec`` returns it (its ``tokenizer`` section is what this edits; a trained one is
    ``tokenizer.class`` + ``tokenizer.train``); set ``.text`` to preview other text."""

    _esm = bundle("tokenizer_preview.js")
    key = "tokenizer"
    by_path = ': preview.load("vocab_file", path) or preview.train(files=[path])'

    # Input
    text = traitlets.Unicode(SAMPLE_TEXT).tag(sync=True)
    max_length = traitlets.Int(None, allow_none=True).tag(sync=True)
    truncation = traitlets.Bool(True).tag(sync=True)  # applies when max_length is set

    # Making a tokenizer
    classes = traitlets.List(traitlets.Unicode()).tag(sync=True)  # tokenizer classes transformers maps
    trainable = traitlets.Dict().tag(sync=True)  # class -> what training it makes
    default_class = traitlets.Unicode("").tag(sync=True)  # the model type's own class ("" if none)
    train_class = traitlets.Unicode("").tag(sync=True)  # what a trained tokenizer without a class is
    class_options = traitlets.Dict().tag(sync=True)  # class → its option fields ("": a class not known yet)
    upload_dir = traitlets.Unicode("composer_uploads").tag(sync=True)
    uploaded = traitlets.Dict().tag(sync=True)  # {"train": path} / {"vocab_file": path}: the last upload kept
    status = traitlets.Unicode("").tag(sync=True)

    # The two backends
    comparison = traitlets.Dict().tag(sync=True)

    def __init__(self, spec: Spec | dict | str | Path | None = None, *, design: Design | None = None,
                 **kwargs: Any):
        design = design or Design(spec)
        self._tokenizer = None  # the one the preview shows; the comparison follows it
        self._compare = Coalesce(self._run_compare, design.clock)
        super().__init__(design=design, **kwargs)

    def owns(self, path: str) -> bool:
        return in_section(path, "tokenizer")

    @property
    def tokenizer(self):
        """The tokenizer the preview shows (None when the design has none, or it failed)."""
        return self._tokenizer

    def compare_now(self) -> dict[str, Any]:
        """Run a scheduled comparison of the two backends now (from Python: before reading ``comparison``)."""
        self._compare.flush()
        return self.comparison

    def _state(self, design: Design) -> dict[str, Any]:
        own = default_class("tokenizer", design.model_type) or ""
        return {**super()._state(design), "default_class": own, "train_class": tokenizer_section.trained_class(
            design.model_type), "class_options": self._offered(design, own)}

    @traitlets.default("trainable")
    def _trainable(self) -> dict[str, str]:  # fixed by the installed transformers: set once
        return {n: tokenizer_section.trainer(n) for n in TRAINABLE}

    @traitlets.default("classes")
    def _all_classes(self) -> list[str]:  # fixed by the installed transformers: set once, not per edit
        return list(known_classes("tokenizer"))

    def _offered(self, design: Design, own: str) -> dict[str, dict[str, Any]]:
        """Options of the classes the person can pick or has: the trainable ones, the model type's,
        the one typed and the one built."""
        typed = design.section("tokenizer").get("class")
        typed = typed if isinstance(typed, str) else ""  # anything else is flagged at tokenizer.class
        built = type(self._tokenizer).__name__ if self._tokenizer is not None else ""
        return {n: _option_dicts(n) for n in sorted({*TRAINABLE, own, typed, built, ""})}

    @traitlets.observe("text", "max_length", "truncation")
    def _input_changed(self, change) -> None:
        self.request()

    def _inputs(self) -> Any:
        spec = self._design.spec
        model = json.dumps({"model_type": spec.model_type, "config": spec.config, "backbone": spec.backbone,
                            "pretrained": spec.pretrained}, sort_keys=True)
        return (*super()._inputs(), model, self.text, self.max_length, self.truncation)

    def _compute(self) -> dict[str, Any]:
        section = self.section()
        self._tokenizer = None
        try:
            if not section:
                return {}
            tokenizer, notes = self.part()
            self._tokenizer = tokenizer
            self.class_options = self._offered(self._design, self.default_class)
            truncation = self.truncation if self.max_length is not None else None
            result = token_preview(tokenizer, self.text, self.max_length, truncation,
                                   config=_config(self._inputs()[2]))
            result["warnings"] = [*notes, *result["warnings"]]
            return result
        finally:  # also when this failed: the comparison follows the same text and tokenizer, or clears
            self._compare()

    def _run_compare(self) -> None:
        if self._refresh.pending:  # the preview is about to be redrawn, and asks for the comparison again
            return
        tokenizer, text = self._tokenizer, self.text
        if tokenizer is None:
            self.comparison = {}
            return
        try:
            twin, reason = _twin(tokenizer)
            result = compare_backends(tokenizer, text, twin=twin) if twin is not None else \
                {"available": False, "reason": reason}
        except Exception as err:  # the comparison is an aside: its failure is said, never raised
            result = {"available": False, "reason": one_line(err)}
        for side in ("fast", "python"):
            if side in result:
                result[side]["shown"] = len(result[side]["tokens"])
                result[side]["tokens"] = result[side]["tokens"][:COMPARED_TOKENS]
        self.comparison = result

    # ----- making a tokenizer --------------------------------------------------------------------

    def load(self, source: str, path: str, tokenizer_class: str | None = None, merges_file: str | None = None,
             options: dict[str, Any] | None = None) -> None:
        """Use the vocabulary file (``source="vocab_file"``) or the pretrained folder / hub id
        (``source="pretrained"``) at ``path``; a wrong one is reported at its field."""
        self._design.edits({"tokenizer": _given({source: path, "merges_file": merges_file,
                                                 "class": tokenizer_class, "options": options})})

    def train(self, text: str | list[str] = "", tokenizer_class: str | None = None, vocab_size: int = 1000,
              min_frequency: int = 0, files: list[str] | None = None, options: dict[str, Any] | None = None) -> None:
        """Train ``tokenizer_class``'s pipeline (BertTokenizer: WordPiece, RobertaTokenizer: byte-level
        BPE, AlbertTokenizer: Unigram; by default the engine's reproducible BPE one) on ``text`` and ``files``. Text longer than INLINE_TRAIN_CHARS
        is kept in a file under ``upload_dir`` so the Spec and the exported code stay small."""
        joined = text if isinstance(text, str) else "\n".join(text)
        files = list(files or [])
        if len(joined) > INLINE_TRAIN_CHARS:
            path = save_upload(self.upload_dir, "training_text.txt", joined.encode("utf-8"))
            files.append(str(path))
            self.status = f"The training text ({len(joined):,} characters) is kept in {path} for the Spec to read."
            joined = ""
        lines = [line for line in joined.splitlines() if line.strip()]
        train = {"vocab_size": vocab_size, **_given({"text": lines, "files": files, "min_frequency": min_frequency})}
        self._design.edits({"tokenizer": _given({"class": tokenizer_class, "train": train, "options": options})})

    def upload(self, kind: str, name: str, data: bytes) -> None:
        """A training text or vocabulary file from the browser, kept under ``upload_dir``."""
        path = save_upload(self.upload_dir, name, data)
        self.uploaded = {kind: str(path)}
        self.status = f"Kept {name} as {path}; " + ("press Train." if kind == "train" else "press Load.")

    def _action(self, name: str, content: dict[str, Any]) -> None:
        args = {k: v for k, v in content.items() if k != "action"}
        if name == "load":
            self.load(**args)
        elif name == "train":
            self.train(**args)
