"""A processor from its parts: the model type's processor class built from the Spec, both halves
previewed on one input, and the proof that it saves and reloads with AutoProcessor unchanged."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from composer.build import build_processors
from composer.catalog import default_class
from composer.classes import processor_attributes
from composer.paths import checked_path
from composer.preview._common import PreviewError, failed, on_one_torch_thread
from composer.preview.audio import audio_preview, sample_speech
from composer.preview.audio import resample as to_rate
from composer.preview.image import image_preview, load_image, sample_image_path
from composer.preview.text import token_preview
from composer.spec import as_spec
from composer.validation import validate

SAMPLE_TEXT = "The quick brown fox jumps over the lazy dog."  # what the shipped speech sample says


def build_processor(spec):
    """The Spec's processor, built by the engine (the same steps the exported code runs)."""
    spec = validate(as_spec(spec), deep=False)
    if spec.processor is None:
        hint = default_class("processor", spec.model_type)
        raise PreviewError("the spec has no processor; " + (f"{spec.model_type} uses {hint}" if hint else
                           f"transformers pairs no processor class with {spec.model_type}"))
    return build_processors(spec)["processor"]


def _inputs(processor, text: str | None, image: Any, audio: tuple[np.ndarray, int] | None) -> dict[str, Any]:
    """Keyword arguments for ``processor(...)``: one input for each part it combines."""
    attributes = set(_attributes(processor))
    kwargs: dict[str, Any] = {}
    if "tokenizer" in attributes:
        kwargs["text"] = SAMPLE_TEXT if text is None else text
    if "image_processor" in attributes:
        kwargs["images"] = load_image(sample_image_path() if image is None else image)[0]
    if "feature_extractor" in attributes:
        waveform, rate = sample_speech() if audio is None else audio
        kwargs["audio"], kwargs["sampling_rate"] = waveform, rate
    return kwargs


def _attributes(processor) -> list[str]:
    return processor_attributes(type(processor))


def _shapes(output) -> dict[str, dict[str, Any]]:
    return {k: {"shape": list(np.shape(v)), "dtype": str(np.asarray(v).dtype)} for k, v in output.items()}


@on_one_torch_thread
def processor_preview(spec, text: str | None = None, image: Any = None,
                      audio: tuple[np.ndarray, int] | None = None, resample: bool = False) -> dict:
    """Both halves on one input (the tokenizer on ``text``; the image processor on ``image`` or the
    feature extractor on ``audio`` = (waveform, sampling_rate)), what the whole processor returns,
    and the save → AutoProcessor round trip. Samples stand in for missing inputs."""

    processor = build_processor(spec)
    kwargs = _inputs(processor, text, image, audio)
    halves: dict[str, Any] = {}
    if "text" in kwargs:
        halves["tokenizer"] = token_preview(processor.tokenizer, kwargs["text"])
    if "images" in kwargs:
        halves["image_processor"] = image_preview(processor.image_processor, kwargs["images"])
    if "audio" in kwargs:
        fe = processor.feature_extractor
        halves["feature_extractor"] = audio_preview(fe, kwargs["audio"], kwargs["sampling_rate"], resample)
        if resample and kwargs["sampling_rate"] != fe.sampling_rate:
            kwargs["audio"] = to_rate(kwargs["audio"], kwargs["sampling_rate"], fe.sampling_rate)
            kwargs["sampling_rate"] = fe.sampling_rate
    output = _call(processor, kwargs)
    return {"class": type(processor).__name__, "parts": {a: type(getattr(processor, a)).__name__
                                                         for a in _attributes(processor)},
            "halves": halves, "outputs": _shapes(output), "round_trip": round_trip(processor, kwargs, output)}


def _call(processor, kwargs: dict[str, Any]):
    try:
        return processor(**kwargs, return_tensors="np")
    except Exception as err:
        raise failed(processor, "input", err) from None


def round_trip(processor, kwargs: dict[str, Any], expected=None, folder: str | Path | None = None) -> dict:
    """save_pretrained, reload with AutoProcessor alone, and compare outputs on the same input:
    what a person gets back from the checkpoint folder is what they previewed."""
    from transformers import AutoProcessor

    expected = _call(processor, kwargs) if expected is None else expected
    with tempfile.TemporaryDirectory() as scratch:
        target = Path(folder or scratch)
        processor.save_pretrained(target)
        files = sorted(p.name for p in target.iterdir())
        reloaded = AutoProcessor.from_pretrained(target, trust_remote_code=False)
        again = _call(reloaded, kwargs)
    differ = sorted(k for k in set(expected) | set(again)
                    if k not in expected or k not in again or not np.array_equal(expected[k], again[k]))
    return {"class": type(reloaded).__name__, "parts": {a: type(getattr(reloaded, a)).__name__
                                                        for a in _attributes(reloaded)},
            "files": files, "identical": not differ, "differ": differ}


def save_processor(spec, folder: str | Path, text: str | None = None) -> dict:
    """Save the Spec's processor to ``folder`` and prove it: AutoProcessor reloads it from there and
    gives identical outputs on the preview's input (``text``, and the sample photo or speech)."""
    target = checked_path(folder, "folder").resolve()
    processor = build_processor(spec)
    return {**round_trip(processor, _inputs(processor, text, None, None), folder=target), "folder": str(target)}
