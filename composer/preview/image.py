"""What an image processor does to one image: original → resized/cropped → normalised, with the
tensor's shape, value range and per-channel statistics; every view a small PNG.

Huge or broken files get a clear message: the size is read from the header before any pixel is
decoded, JPEGs are shrunk while decoding, and anything above ``MAX_PIXELS`` is refused; so is an image
that resizing, cropping or padding would make larger than ``MAX_RESIZED_PIXELS`` (a 1x20,000 strip
resized to a shortest edge of 224 is 224x4,480,000), before the processor runs.
"""

from __future__ import annotations

import io
import math
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from composer.errors import SpecError
from composer.limits import MAX_PIXELS
from composer.preview._common import PreviewError, failed, on_one_torch_thread, png_bytes, stats, to_uint8
from composer.sizes import check_image_sizes

PREVIEW_SIDE = 256  # the long side of every preview PNG
CHANNEL_NAMES = {1: ["L"], 3: ["R", "G", "B"], 4: ["R", "G", "B", "A"]}


def sample_image_path() -> Path:
    """grace_hopper.jpg (512x600), a real photo that ships with matplotlib."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "sample_data" / "grace_hopper.jpg"


def sample_image():
    return load_image(sample_image_path())[0]


@contextmanager
def _header_only():
    """Let PIL read the header of any size: our own limit, checked before decoding, replaces its
    DecompressionBombError, which would refuse a big image before we could reduce it."""
    from PIL import Image

    saved = Image.MAX_IMAGE_PIXELS
    Image.MAX_IMAGE_PIXELS = None
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = saved


def _open(source: Any, name: str | None):
    from PIL import Image, UnidentifiedImageError

    name = name or ("the upload" if isinstance(source, (bytes, bytearray, memoryview)) else str(source))
    stream = io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray, memoryview)) else source
    try:
        with _header_only():
            return Image.open(stream), name
    except UnidentifiedImageError:
        raise PreviewError(f"{name} is not an image this preview can read (PNG, JPEG, GIF, BMP, TIFF, WebP)") from None
    except OSError as err:
        raise PreviewError(f"cannot read {name}: {err.strerror or err}") from None


def load_image(source: Any, max_pixels: int = MAX_PIXELS, name: str | None = None):
    """A path, bytes or PIL image → (RGB PIL image, notes). Above ``max_pixels`` a JPEG is decoded
    at 1/2, 1/4 or 1/8 scale; any other image that large is refused with a message, never decoded.
    ``name``: what a message calls the file (default: its path, or "the upload" for bytes)."""
    from PIL import Image, ImageOps

    notes: list[str] = []
    if isinstance(source, Image.Image):
        return _rgb(source, notes), notes
    image, name = _open(source, name)
    width, height = image.size
    if width * height > max_pixels:
        scale = next((s for s in (2, 4, 8) if math.ceil(width / s) * math.ceil(height / s) <= max_pixels), None)
        if image.format != "JPEG" or scale is None:
            raise PreviewError(
                f"{name} is {width:,}x{height:,} pixels ({width * height / 1e6:,.0f} MP), over the "
                f"{max_pixels / 1e6:.0f} MP limit of the preview"
                + (" (even at 1/8 scale)" if image.format == "JPEG" else "")
                + "; shrink it first, e.g. PIL's image.thumbnail((4096, 4096))")
        image.draft("RGB", (math.ceil(width / scale), math.ceil(height / scale)))
        notes.append(f"{width}x{height} is over {max_pixels / 1e6:.0f} MP: decoded at 1/{scale} scale, "
                     f"{image.size[0]}x{image.size[1]}")
    try:
        image.load()
    except Exception as err:  # truncated or corrupt data: PIL raises OSError, SyntaxError, ValueError…
        raise PreviewError(f"{name} is damaged and cannot be decoded: {err}") from None
    ImageOps.exif_transpose(image, in_place=True)  # phone photos as the camera was held, like transformers' load_image
    return _rgb(image, notes), notes


def _rgb(image, notes: list[str]):
    if image.mode == "RGB":
        return image
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        notes.append(f"converted {image.mode} to RGB: transparency is dropped")
    return image.convert("RGB")


def _channels_first(values: np.ndarray) -> np.ndarray | None:
    """One image as (C, H, W), or None when the processor's output is not an image (e.g. patches)."""
    if values.ndim == 4:
        values = values[0]
    if values.ndim != 3:
        return None
    if values.shape[0] in CHANNEL_NAMES:
        return values
    if values.shape[-1] in CHANNEL_NAMES:
        return np.moveaxis(values, -1, 0)
    return None


def _per_channel(value: Any, channels: int) -> np.ndarray:
    array = np.asarray(value if value is not None else 0.0, dtype=np.float64).ravel()
    return np.resize(array, channels)


def _undo(processor, chw: np.ndarray) -> tuple[np.ndarray, bool]:
    """The tensor back in 0..255 pixels, undoing normalize and rescale; False if that does not
    give pixels (a processor that does something else), in which case it is stretched instead."""
    channels = chw.shape[0]
    values = chw.astype(np.float64)
    if getattr(processor, "do_normalize", False):
        mean = _per_channel(getattr(processor, "image_mean", 0.0), channels)
        std = _per_channel(getattr(processor, "image_std", 1.0), channels)
        values = values * std[:, None, None] + mean[:, None, None]
    if getattr(processor, "do_rescale", False):
        values = values / float(getattr(processor, "rescale_factor", 1 / 255))
    low, high = float(values.min()), float(values.max())
    return values, low > -8 and high < 263  # a few units of rounding either side


@on_one_torch_thread
def image_preview(image_processor, image: Any, max_pixels: int = MAX_PIXELS) -> dict:
    """Run the image processor once on ``image`` (a PIL image, path or bytes) and show every stage:
    original; the processed tensor de-normalised, i.e. resized/cropped as the model sees it (one
    run of the processor gives both); the normalised tensor itself, zero at mid-grey over plus or
    minus its largest magnitude; each normalised channel alone over the tensor's value range;
    shape, range and per-channel mean and std. Images are PNG bytes at most PREVIEW_SIDE long."""
    image, notes = load_image(image, max_pixels)
    try:
        check_image_sizes(image_processor, image.height, image.width, "",
                          f"the {image.width:,}x{image.height:,} image")
    except SpecError as err:
        raise PreviewError(f"{type(image_processor).__name__}: {err.message}") from None
    try:
        output = image_processor(image, return_tensors="pt")
    except Exception as err:
        raise failed(image_processor, "image", err) from None
    key = image_processor.model_input_names[0] if image_processor.model_input_names else "pixel_values"
    key = key if key in output else next(iter(output))
    values = output[key].float().numpy()
    result: dict[str, Any] = {
        "class": type(image_processor).__name__,
        "key": key,
        "original_size": list(image.size),
        "original": png_bytes(image, PREVIEW_SIDE),
        "shape": list(values.shape),
        "dtype": str(output[key].dtype).removeprefix("torch."),
        "range": stats(values),
        "other_outputs": {k: list(np.shape(v)) for k, v in output.items() if k != key},
        "warnings": notes,
    }
    chw = _channels_first(values)
    if chw is None:
        result["warnings"].append(f"{key} of shape {list(values.shape)} is not one image; only its statistics "
                                  "are shown")
        return result
    names = CHANNEL_NAMES[chw.shape[0]]
    low, high = float(chw.min()), float(chw.max())
    pixels, undone = _undo(image_processor, chw)
    if not undone:
        pixels = to_uint8(chw, low, high).astype(np.float64)
        result["warnings"].append("undoing rescale and normalize does not give 0..255 pixels for this processor; "
                                  "the processed image is shown stretched over its value range")
    shown = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    result["processed_size"] = [int(chw.shape[2]), int(chw.shape[1])]
    result["processed"] = png_bytes(_hwc(shown), PREVIEW_SIDE)
    span = max(abs(low), abs(high)) or 1.0  # zero at mid-grey: a shifted mean shows as a colour cast
    result["normalized"] = png_bytes(_hwc(to_uint8(chw, -span, span)), PREVIEW_SIDE)
    result["channels"] = [
        {"name": n, **stats(chw[i]), "png": png_bytes(to_uint8(chw[i], low, high), PREVIEW_SIDE)}
        for i, n in enumerate(names)
    ]
    return result


def _hwc(chw: np.ndarray) -> np.ndarray:
    """HxWx3 for RGB, HxW for one channel; a 4th (alpha) channel is left out of the colour view."""
    if chw.shape[0] == 1:
        return chw[0]
    return np.moveaxis(chw[:3], 0, -1)

