"""Sizes past this machine's memory or time are refused with the figure and the limit, before anything
is allocated (issue 8, "Hangs and memory blowups"). Cases that hung or took gigabytes on the old code
run as the command line in a subprocess with a memory cap and a generous timeout, so that a
regression fails the test instead of the machine."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from composer import Spec, SpecError, limits, save
from composer.fields import check_value, fields_by_name
from composer.preview._common import PreviewError
from composer.build import check_fits
from composer.validation import validate

MEMORY_CAP = 6 * 2**30  # address space of a guarded subprocess: the old code's 13-16 GB fails fast under it


def _capped():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def composer_cli(tmp_path, *args: str) -> subprocess.CompletedProcess:
    """`python -m composer ARGS` with its memory capped and a timeout that catches a hang."""
    return subprocess.run([sys.executable, "-m", "composer", *args], capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=180, preexec_fn=_capped)


def summary_of(tmp_path, spec: dict) -> subprocess.CompletedProcess:
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return composer_cli(tmp_path, "summary", str(path))


def refused(result: subprocess.CompletedProcess) -> str:
    """The one line a refusal prints (exit 2, no traceback)."""
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# ----- config sizes ----------------------------------------------------------------------------


@pytest.mark.parametrize("layers", [10**12, 100_000])
def test_a_huge_layer_count_is_refused_with_the_figure(tmp_path, layers):
    line = refused(summary_of(tmp_path, {"model_type": "bert", "config": {"num_hidden_layers": layers}}))
    assert line.endswith(f"config.num_hidden_layers: {layers:,} layers is over the limit of 1,000 "
                         "(composer.limits.MAX_LAYERS)")


def test_two_to_the_forty_labels_are_refused_before_id2label_is_built(tmp_path):
    line = refused(summary_of(tmp_path, {"model_type": "bert", "architecture": "BertForSequenceClassification",
                                         "config": {"num_labels": 2**40}}))
    assert line.endswith("config.num_labels: 1,099,511,627,776 labels is over the limit of 100,000 "
                         "(composer.limits.MAX_LABELS)")


@pytest.mark.parametrize("model_type, config, where, message", [
    ("gpt2", {"n_layer": 5000}, "config.n_layer", "5,000 layers is over the limit of 1,000"),  # an alias
    ("bart", {"encoder_layers": 2000}, "config.encoder_layers", "2,000 layers"),
    ("swin", {"depths": [2, 2, 10**6, 2]}, "config.depths[2]", "1,000,000 layers"),
    ("vits", {"prior_encoder_num_flows": 10**6}, "config.prior_encoder_num_flows", "1,000,000 is over the limit of 1,000"),
    ("mimi", {"num_quantizers": 10**6}, "config.num_quantizers", "1,000,000 is over the limit of 1,000"),
    ("albert", {"num_hidden_groups": 10**6}, "config.num_hidden_groups", "1,000,000 is over the limit of 1,000"),
    ("mixtral", {"num_local_experts": 10**6}, "config.num_local_experts", "1,000,000 experts is over the limit of 65,536"),
    ("bert", {"vocab_size": 10**9}, "config.vocab_size", "1,000,000,000 tokens is over the limit of 67,108,864"),
    ("bert", {"hidden_size": 2**40}, "config.hidden_size", "1,099,511,627,776 is over the limit of 2,147,483,647"),
    ("bert", {"id2label": {str(i): str(i) for i in range(100_001)}}, "config.id2label",
     "100,001 labels is over the limit of 100,000"),
])
def test_every_size_of_a_config_is_bounded(model_type, config, where, message):
    with pytest.raises(SpecError) as err:
        validate(Spec(model_type=model_type, config=config))
    assert err.value.field == where and message in err.value.message and "composer.limits." in err.value.message


def test_a_backbone_config_is_bounded_too():
    with pytest.raises(SpecError) as err:
        validate(Spec(model_type="upernet", architecture="UperNetForSemanticSegmentation", backbone={"model_type": "convnext", "config": {"depths": [3, 3, 5000, 3]}}))
    assert err.value.field == "backbone.config.depths[2]"


def test_a_build_stops_at_max_modules(monkeypatch):
    """Each field is bounded alone; their product (layers x experts x ...) is bounded by what the build makes."""
    from composer.build import build_meta_model

    monkeypatch.setattr(limits, "MAX_MODULES", 100)  # BERT with 11 layers makes over 200
    with pytest.raises(SpecError) as err:
        build_meta_model(validate(Spec(model_type="bert", config={"num_hidden_layers": 11}), deep=False))
    assert str(err.value) == ("config: the design has more than 100 modules, the limit (composer.limits.MAX_MODULES); "
                              "use fewer layers, experts or blocks")


def test_the_limit_itself_is_allowed():
    fields = fields_by_name("bert")
    check_value(fields["num_hidden_layers"], limits.MAX_LAYERS, "config.num_hidden_layers")
    check_value(fields["num_labels"], limits.MAX_LABELS, "config.num_labels")


# ----- memory of a save ------------------------------------------------------------------------

HUGE = {"model_type": "llama", "config": {"hidden_size": 16384, "intermediate_size": 65536, "num_hidden_layers": 580,
                                          "num_attention_heads": 128, "num_key_value_heads": 128}}


def test_a_save_that_cannot_fit_in_memory_is_refused_before_anything_is_written(tmp_path):
    target = tmp_path / "out" / "ck"
    with pytest.raises(SpecError) as err:
        save(HUGE, target)
    assert err.value.field == "config"
    assert err.value.message.startswith("the weights are 9,966,497,366,528 bytes (9.1 TiB); building them on CPU")
    assert "composer.limits.MEMORY_MARGIN" in err.value.message and "available" in err.value.message
    assert list(tmp_path.iterdir()) == []  # not even the parent folder


def test_the_memory_bound_counts_margin_and_reserve():
    tiny = {"model_type": "bert", "config": {"hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2,
                                             "intermediate_size": 37, "vocab_size": 99}}
    check_fits(tiny)  # this machine has room for a tiny model
    with pytest.raises(SpecError, match=r"more than the 1,073,741,824 bytes \(1.0 GiB\) this machine has available"):
        check_fits(tiny, available=limits.MEMORY_RESERVE)  # the reserve alone is taken: nothing left for weights


# ----- image processors ------------------------------------------------------------------------


def test_an_image_processor_size_of_30000_squared_is_refused_by_summary(tmp_path):
    line = refused(summary_of(tmp_path, {"model_type": "vit", "image_processor": {
        "class": "ViTImageProcessor", "options": {"size": {"height": 30000, "width": 30000}}}}))
    assert "image_processor.options.size: resizing the 37x29 test image" in line
    assert line.endswith("gives 30,000x30,000: 900,000,000 pixels is over the limit of 25,000,000 "
                         "(composer.limits.MAX_RESIZED_PIXELS)")


def test_a_huge_crop_is_refused_too():
    with pytest.raises(SpecError) as err:
        validate(Spec(model_type="clip", image_processor={"class": "CLIPImageProcessor",
                                                          "options": {"crop_size": {"height": 9000, "width": 9000}}}),
                 deep=False)
    assert err.value.field == "image_processor.options.crop_size"
    assert "cropping the 37x29 test image" in err.value.message and "81,000,000 pixels" in err.value.message


def test_a_pixel_count_option_is_bounded():
    with pytest.raises(SpecError) as err:
        validate(Spec(model_type="qwen2_vl", image_processor={"class": "Qwen2VLImageProcessor",
                                                              "options": {"max_pixels": 10**12}}), deep=False)
    assert err.value.field == "image_processor.options.max_pixels"
    assert "1,000,000,000,000 pixels is over the limit of 25,000,000" in err.value.message


_STRIP_PREVIEW = """
import io, sys
from PIL import Image
from transformers import CLIPImageProcessor
from composer.preview.image import image_preview
from composer.preview._common import PreviewError
try:
    image_preview(CLIPImageProcessor(), open(sys.argv[1], "rb").read())
except PreviewError as err:
    print(err)
"""


def test_a_1x20000_png_is_refused_for_what_resizing_makes_of_it(tmp_path):
    png = tmp_path / "strip.png"
    Image.new("RGB", (1, 20_000), (200, 30, 30)).save(png)
    assert png.stat().st_size < 2_000  # a few hundred bytes on disk, 20,000 pixels: well under MAX_PIXELS
    result = subprocess.run([sys.executable, "-c", _STRIP_PREVIEW, str(png)], capture_output=True, text=True,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"}, timeout=180, preexec_fn=_capped)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == (
        "CLIPImageProcessor: resizing the 1x20,000 image with size {'shortest_edge': 224} gives 224x4,480,000: "
        "1,003,520,000 pixels is over the limit of 25,000,000 (composer.limits.MAX_RESIZED_PIXELS)")


def test_an_ordinary_photo_still_previews():
    from transformers import CLIPImageProcessor

    from composer.preview.image import image_preview, sample_image_path

    assert image_preview(CLIPImageProcessor(), sample_image_path())["shape"] == [1, 3, 224, 224]


# ----- feature extractors and audio ------------------------------------------------------------


@pytest.mark.parametrize("option, value, message", [
    ("sampling_rate", 10**9, "1,000,000,000 Hz is over the limit of 384,000 (composer.limits.MAX_SAMPLING_RATE)"),
    ("feature_size", 10**6, "1,000,000 bins is over the limit of 1,024 (composer.limits.MAX_MEL_BINS)"),
    ("n_fft", 10**8, "100,000,000 is over the limit of 65,536 (composer.limits.MAX_AUDIO_WINDOW)"),
    ("hop_length", 10**8, "100,000,000 is over the limit of 65,536 (composer.limits.MAX_AUDIO_WINDOW)"),
    ("chunk_length", 10**6, "1,000,000 s is over the limit of 600.0 (composer.limits.MAX_AUDIO_SECONDS)"),
])
def test_feature_extractor_sizes_are_bounded_before_it_is_built(option, value, message):
    with pytest.raises(SpecError) as err:
        validate(Spec(model_type="whisper", feature_extractor={"class": "WhisperFeatureExtractor",
                                                               "options": {option: value}}), deep=False)
    assert err.value.field == f"feature_extractor.options.{option}" and err.value.message == message


def test_a_clip_at_999983_hz_is_refused_not_resampled():
    from transformers import WhisperFeatureExtractor

    from composer.preview.audio import audio_preview

    with pytest.raises(PreviewError, match=r"the clip's sampling rate of 999,983 Hz is over the limit of 384,000 "
                                           r"\(composer.limits.MAX_SAMPLING_RATE\)"):
        audio_preview(WhisperFeatureExtractor(), np.zeros(999_983, np.float32), 999_983, resample=True)


def test_a_resample_with_a_huge_polyphase_factor_is_refused():
    from transformers import WhisperFeatureExtractor

    from composer.preview.audio import audio_preview

    with pytest.raises(PreviewError, match=r"resampling from 44,101 Hz to 16,000 Hz is a factor of 16,000/44,101: "
                                           r"44,101 is over the limit of 10,000 \(composer.limits.MAX_RESAMPLE_FACTOR\)"):
        audio_preview(WhisperFeatureExtractor(), np.zeros(44_101, np.float32), 44_101, resample=True)
    # a usual rate still resamples
    assert audio_preview(WhisperFeatureExtractor(), np.zeros(44_100, np.float32), 44_100,
                         resample=True)["input"]["samples"] == 16_000


# ----- tokenizer backends ----------------------------------------------------------------------


def test_the_backend_comparison_runs_on_the_first_characters_only(minilm_dir):
    from transformers import AutoTokenizer

    from composer.preview.text import compare_backends

    text = "The quick brown fox jumps over the lazy dog. " * 2300  # 103,500 characters
    result = compare_backends(AutoTokenizer.from_pretrained(minilm_dir), text)
    assert result["available"] and result["same_ids"]
    assert result["note"] == f"compared on the first {limits.MAX_COMPARED_CHARS:,} characters"
    assert max(t["end"] for t in result["fast"]["tokens"] if t["end"] is not None) <= limits.MAX_COMPARED_CHARS
    assert "note" not in compare_backends(AutoTokenizer.from_pretrained(minilm_dir), "short text")

