"""The ``image_processor`` and ``feature_extractor`` sections: a transformers class and its options,
each option checked by name and type and the part tried on a tiny input, so that a bad value is
reported now, at its option, not when the first image or clip arrives. The 5.x trap of ``resample``
given as the string "PIL.Image.BOX" (silently BILINEAR under PIL, an error on the first image under
torchvision, which cannot use BOX at all) is corrected here."""

from __future__ import annotations

import warnings
from typing import Any

from composer import domains, sizes
from composer.classes import bases, init_defaults, transformers_class
from composer.errors import ComposerWarning, SpecError, one_line, shown
from composer.plan import Step
from composer.sections.options import check_option_types, named_option
from composer.sections.section import Section
from composer.spec import Spec

PART_KINDS = {
    "image_processor": ("ImageProcessingMixin", "image processor", "ViTImageProcessor"),
    "feature_extractor": ("FeatureExtractionMixin", "feature extractor", "Wav2Vec2FeatureExtractor"),
}


def _resample(value: Any, where: str) -> Any:
    """Accept 4, "BOX", "PIL.Image.BOX" or "Resampling.BOX"; always store the integer."""
    from PIL import Image

    allowed = ", ".join(f"{m.name} ({int(m)})" for m in Image.Resampling)
    if not isinstance(value, str):
        if type(value) is not int or value not in {int(m) for m in Image.Resampling}:  # a list is unhashable
            raise SpecError(where, f"unknown resampling filter {shown(value)}; allowed: {allowed}")
        return value
    name = value.rsplit(".", 1)[-1].upper()
    try:
        number = int(Image.Resampling[name])
    except KeyError:
        raise SpecError(where, f"unknown resampling filter {shown(value)}; allowed: {allowed}") from None
    warnings.warn(
        f"{where}: {shown(value)} is a string, which transformers 5.x does not read as a filter (the PIL backend "
        f"silently uses BILINEAR, torchvision fails on the first image); using PIL.Image.Resampling.{name} "
        f"({number})",
        ComposerWarning,
        stacklevel=2,
    )
    return number


def _allowed_options(cls) -> set[str]:
    kwargs_type = getattr(cls, "valid_kwargs", None)
    return set(getattr(kwargs_type, "__annotations__", {})) | set(init_defaults(cls))


PROBE_IMAGE = (29, 37, 3)  # an odd size: resizing really runs


def _probe(cls, options: dict[str, Any], key: str) -> str | None:
    """Build the part and run it on a tiny input; the error text, or None if it works. Some values
    fail only on use (BOX resampling under the torchvision backend), so building is not enough.
    What the resize would make of the input is checked first (a size of 30000x30000 is 10 GB)."""
    import numpy as np

    try:
        part = cls(**options)
        if key == "image_processor":
            height, width, _ = PROBE_IMAGE
            sizes.check_image_sizes(part, height, width, f"{key}.options", f"the {width}x{height} test image")
            part(np.zeros(PROBE_IMAGE, dtype=np.uint8))
        else:
            part(np.zeros(1600, dtype=np.float32), sampling_rate=getattr(part, "sampling_rate", 16000))
    except SpecError:
        raise
    except Exception as err:
        return one_line(err)
    return None


def _check_part_values(cls, options: dict[str, Any], key: str) -> None:
    """Report a value that breaks the part, naming its option: the one the error names, else the
    one without which the part works. If the defaults fail too, the probe input does not suit this
    class, and nothing is blamed on the user."""
    text = _probe(cls, options, key)
    if text is None:
        return
    where = named_option(text, options, key)
    if where == key:
        if _probe(cls, {}, key) is not None:
            return
        culprit = next((n for n in options if _probe(cls, {k: v for k, v in options.items() if k != n}, key)
                        is None), None)
        where = f"{key}.options.{culprit}" if culprit else key
    if where.endswith(".resample") and "TorchvisionBackend" in bases(cls):
        import transformers

        pil = f"{cls.__name__}Pil"
        other = f", or the PIL class {pil}" if hasattr(transformers, pil) else ""
        text = (f"{cls.__name__} resizes with torchvision, which cannot use this filter; use NEAREST, "
                f"BILINEAR, BICUBIC or LANCZOS{other} ({text})")
    raise SpecError(where, text)


def validate_part(spec: Spec, key: str) -> dict[str, Any] | None:
    """Check option names, correct ``resample``, and try the part on a tiny input so that a bad
    value is reported now, naming its option, not when the first image or clip arrives."""
    part = getattr(spec, key)
    if part is None:
        return None
    base, _, example = PART_KINDS[key]
    cls = transformers_class(part["class"], base, f"{key}.class", example)
    options = dict(part.get("options", {}))
    allowed = _allowed_options(cls)
    for name in options:
        if name not in allowed:
            raise SpecError(f"{key}.options.{name}", f"{cls.__name__} has no option {shown(name)}; allowed: "
                            f"{', '.join(sorted(allowed))}")
    if "resample" in options:
        options["resample"] = _resample(options["resample"], f"{key}.options.resample")
    check_option_types(cls, options, key)
    if key == "image_processor":
        domains.check_image_option_values(cls, options, key)
        sizes.check_image_options(options, key)
    else:
        sizes.check_audio_options(options, key)
    _check_part_values(cls, options, key)
    if "PilBackend" in bases(cls):
        warnings.warn(
            f"{key}.class: {cls.__name__} saves itself as {cls.__name__.removesuffix('Pil')}, which "
            "AutoImageProcessor.from_pretrained reloads with the torchvision backend (other pixels; no BOX or "
            'HAMMING) unless given backend="pil"',
            ComposerWarning,
            stacklevel=2,
        )
    return {"class": part["class"], **({"options": options} if options else {})}  # no options: no key


def part_steps(spec: Spec, key: str) -> list[Step]:
    part = getattr(spec, key)
    return [] if part is None else [Step(key, part["class"], (), dict(part.get("options", {})))]


def _section(key: str) -> Section:
    def failed(spec: Spec, target: str, err: Exception) -> SpecError:
        text = one_line(err)
        return SpecError(named_option(text, getattr(spec, key).get("options", {}), key), text)

    return Section(keys=(key,), validate=lambda spec: {key: validate_part(spec, key)},
                   steps=lambda spec: part_steps(spec, key), failed=failed)


IMAGE_PROCESSOR = _section("image_processor")
FEATURE_EXTRACTOR = _section("feature_extractor")


