"""Sizes a design asks for, checked against composer.limits before anything is built or allocated.

A count of repeated blocks, a label or vocabulary size, any other integer of a config; what an image
processor's resize, crop and pad make of an image; a feature extractor's rates, bins, windows and
durations; and whether a CPU build fits in this machine's memory. Each refusal gives the figure and
the limit, naming the constant in composer.limits.
"""

from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from typing import Any

from composer import limits
from composer.domains import LAYER_COUNT
from composer.errors import SpecError, shown

# Other counts of repeated modules, found by building every model type with each integer field at
# 10**6 (VITS' num_flows, ALBERT's groups, Mimi's quantizers, DAC's codebooks, MobileBERT's networks,
# Canine's hash functions, Gemma3n's altup inputs, RF-DETR's groups, ...); also bounded by MAX_LAYERS.
REPEAT_COUNT = re.compile(r"(flows|hidden_groups|group_num|quantizers|codebooks|networks|convs|hash_functions"
                          r"|num_inputs|_times|group_detr)$")
EXPERT_COUNT = re.compile(r"(^|_)(local_|routed_|shared_)?experts$")


def _config_bound(name: str) -> tuple[int, str, str]:
    """(limit, its name in composer.limits, what is counted) for the integer attribute ``name``."""
    if name == "num_labels":
        return limits.MAX_LABELS, "MAX_LABELS", "labels"
    if LAYER_COUNT.search(name):
        return limits.MAX_LAYERS, "MAX_LAYERS", "layers"
    if REPEAT_COUNT.search(name):
        return limits.MAX_LAYERS, "MAX_LAYERS", ""
    if EXPERT_COUNT.search(name):
        return limits.MAX_EXPERTS, "MAX_EXPERTS", "experts"
    if "vocab" in name:
        return limits.MAX_VOCAB, "MAX_VOCAB", "tokens"
    return limits.MAX_CONFIG_INT, "MAX_CONFIG_INT", ""


def config_limit(name: str) -> int:
    """The greatest value the integer config attribute ``name`` may take (composer.limits)."""
    return _config_bound(name)[0]


def over(value: float, unit: str, limit: float, limit_name: str) -> str:
    """``1,000,000,000,000 layers is over the limit of 1,000 (composer.limits.MAX_LAYERS)``."""
    unit = f" {unit}" if unit else ""
    return f"{value:,}{unit} is over the limit of {limit:,} (composer.limits.{limit_name})"


def check_config_value(name: str, value: Any, where: str) -> None:
    """Bound an integer config attribute (or the integers of a list, e.g. depths) and the size of
    id2label / label2id: transformers loops or allocates on these before anything else can look."""
    if name in ("id2label", "label2id") and isinstance(value, dict) and len(value) > limits.MAX_LABELS:
        raise SpecError(where, over(len(value), "labels", limits.MAX_LABELS, "MAX_LABELS"))
    limit, limit_name, unit = _config_bound(name)
    if isinstance(value, list):
        if unit == "layers" and len(value) > limits.MAX_LAYERS:
            raise SpecError(where, f"a list of {over(len(value), 'entries', limit, limit_name)}")
        for i, item in enumerate(value):
            if isinstance(item, (int, list)) and not isinstance(item, bool):
                check_config_value(name, item, f"{where}[{i}]")
        return
    if isinstance(value, int) and not isinstance(value, bool) and value > limit:
        raise SpecError(where, over(value, unit, limit, limit_name))


# ----- what a build makes ----------------------------------------------------------------------

_COUNTING = threading.local()  # modules made so far by this thread's build; None outside one
_HOOK = []  # the one process-wide registration hook, installed on first use


def _count_module(module, name, submodule):
    count = getattr(_COUNTING, "modules", None)
    if count is None:  # not inside a build of this thread
        return None
    _COUNTING.modules = count + 1
    if count + 1 > limits.MAX_MODULES:
        raise SpecError("config", f"the design has more than {limits.MAX_MODULES:,} modules, the limit "
                        "(composer.limits.MAX_MODULES); use fewer layers, experts or blocks")
    return None


@contextmanager
def module_budget():
    """Stop a build once it has made MAX_MODULES modules: each field is bounded alone, but products
    (1,000 layers x 65,536 experts) would still build for hours."""
    from torch.nn.modules.module import register_module_module_registration_hook

    with _LOCK:
        if not _HOOK:
            _HOOK.append(register_module_module_registration_hook(_count_module))
    _COUNTING.modules = 0
    try:
        yield
    finally:
        _COUNTING.modules = None


_LOCK = threading.Lock()


# ----- memory of a CPU build -------------------------------------------------------------------


def available_memory() -> int:
    """Bytes this machine can give a new allocation now: MemAvailable (free plus reclaimable cache);
    where /proc is missing, the free pages."""
    import os

    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def check_memory(weights: int, where: str, available: int | None = None) -> None:
    """Refuse a CPU build (save, forward summary) of ``weights`` bytes that would not fit in memory,
    before it starts: MEMORY_MARGIN times the weights plus MEMORY_RESERVE against ``available``
    (default: this machine's MemAvailable)."""
    need = int(weights * limits.MEMORY_MARGIN) + limits.MEMORY_RESERVE
    free = available_memory() if available is None else available
    if need > free:
        raise SpecError(where, f"the weights are {weights:,} bytes ({human(weights, 'B')}); building them on CPU needs "
                        f"{need:,} bytes ({human(need, 'B')}: x{limits.MEMORY_MARGIN:g} plus "
                        f"{human(limits.MEMORY_RESERVE, 'B')}, composer.limits.MEMORY_MARGIN and MEMORY_RESERVE), "
                        f"more than the {free:,} bytes ({human(free, 'B')}) this machine has available")


def human(n: float, unit: str = "") -> str:
    """66362880 -> '66.4M'; bytes with unit='B' -> '253.2 MiB'."""
    if unit == "B":
        for suffix in ("B", "KiB", "MiB", "GiB", "TiB"):
            if n < 1024 or suffix == "TiB":
                return f"{n:.1f} {suffix}" if suffix != "B" else f"{int(n)} B"
            n /= 1024
    for suffix, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{suffix}"
    return str(int(n))


# ----- image processors: what resizing makes of an image ---------------------------------------


def _size(value: Any) -> dict[str, Any]:
    """A processor's size / crop_size / pad_size as a plain dict (SizeDict, dict or None)."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return {k: v for k, v in vars(value).items() if v is not None} if hasattr(value, "__dict__") else {}


def _standard_resize(processor) -> bool:
    """True when the class resizes as transformers' backends do (size keys mean edges, not pixels:
    the Qwen2-VL family gives shortest_edge / longest_edge as pixel counts to its own resize)."""
    from transformers.image_processing_backends import PilBackend, TorchvisionBackend

    base = next((b for b in (TorchvisionBackend, PilBackend) if isinstance(processor, b)), None)
    return base is not None and type(processor).resize is base.resize


def resized_size(processor, height: int, width: int) -> tuple[int, int] | None:
    """(height, width) the processor's resize gives an image of that size, by the rules of
    transformers' own resize (the same functions), computed without any pixel; None if unknown."""
    from transformers.image_transforms import get_size_with_aspect_ratio
    from transformers.image_utils import get_image_size_for_max_height_width

    size = _size(getattr(processor, "size", None))
    get = size.get
    if get("height") and get("width"):
        return int(get("height")), int(get("width"))
    if get("max_height") and get("max_width"):
        return get_image_size_for_max_height_width((height, width), get("max_height"), get("max_width"))
    if not _standard_resize(processor):
        return None
    if get("shortest_edge"):
        return get_size_with_aspect_ratio((height, width), get("shortest_edge"), get("longest_edge"))
    if get("longest_edge"):
        return get_image_size_for_max_height_width((height, width), get("longest_edge"), get("longest_edge"))
    return None


def check_image_sizes(processor, height: int, width: int, where: str, image: str) -> None:
    """Refuse an image whose resize, crop or pad would exceed MAX_RESIZED_PIXELS, before processing.
    ``image`` names the input in the message (``the 1x20,000 image``)."""
    stages = []
    if getattr(processor, "do_resize", True):
        out = resized_size(processor, height, width)
        if out is not None:
            stages.append(("resizing", "size", out))
    for flag, attr, verb in (("do_center_crop", "crop_size", "cropping"), ("do_pad", "pad_size", "padding")):
        box = _size(getattr(processor, attr, None))
        if getattr(processor, flag, False) and box.get("height") and box.get("width"):
            stages.append((verb, attr, (int(box["height"]), int(box["width"]))))
    for verb, attr, (h, w) in stages:
        if h * w > limits.MAX_RESIZED_PIXELS:
            given = _size(getattr(processor, attr, None))
            raise SpecError(f"{where}.{attr}" if where else attr,
                            f"{verb} {image} with {attr} {given} gives {w:,}x{h:,}: "
                            + over(h * w, "pixels", limits.MAX_RESIZED_PIXELS, "MAX_RESIZED_PIXELS"))


def _size_entries(value: Any) -> list[Any]:
    """The numbers of a size option (an int, a list of them, or a dict such as {"height": 224, ...})."""
    if isinstance(value, dict):
        return [v for v in value.values() if v is not None]
    return list(value) if isinstance(value, list) else [value]


def check_image_options(options: dict[str, Any], where: str) -> None:
    """Options that count pixels (min_pixels, max_pixels, ...) are bounded like a resize's output, and
    every size (size, crop_size, pad_size, patch_size, ...) is a whole number of pixels >= 1: transformers
    answers a 0x0 size with a dump of its SizeDict, a negative one only on the first image."""
    for name, value in options.items():
        spot = f"{where}.options.{name}"
        if name.endswith("pixels") and isinstance(value, int) and value > limits.MAX_RESIZED_PIXELS:
            raise SpecError(spot, over(value, "pixels", limits.MAX_RESIZED_PIXELS, "MAX_RESIZED_PIXELS"))
        if name == "size" or name.endswith("_size"):
            for entry in _size_entries(value):
                if isinstance(entry, bool) or not isinstance(entry, int) or entry < 1:
                    raise SpecError(spot, f"every size is a whole number of pixels >= 1 (an int, or a dict such "
                                    f'as {{"height": 224, "width": 224}}); got {shown(value)}')


# ----- feature extractors ----------------------------------------------------------------------

FEATURE_COUNTS = ("feature_size", "num_mel_bins", "n_mels", "nb_mel_bins")  # the mel bins, by any name
_SECONDS = re.compile(r"(^chunk_length|_s|_seconds?|_duration|_length_s)$")
_RATE = re.compile(r"(sampling|sample)_rate$")


def check_audio_options(options: dict[str, Any], where: str) -> None:
    """Bound a feature extractor's numbers before it is built: its mel filter bank is allocated in
    __init__ ((n_fft/2+1) x bins), and a fixed window (Whisper's chunk_length x sampling_rate) is what
    every clip is padded to."""
    for name, value in options.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if _RATE.search(name):
            bound = (limits.MAX_SAMPLING_RATE, "MAX_SAMPLING_RATE", "Hz")
        elif name in FEATURE_COUNTS:
            bound = (limits.MAX_MEL_BINS, "MAX_MEL_BINS", "bins")
        elif _SECONDS.search(name):
            bound = (limits.MAX_AUDIO_SECONDS, "MAX_AUDIO_SECONDS", "s")
        elif isinstance(value, int):
            bound = (limits.MAX_AUDIO_WINDOW, "MAX_AUDIO_WINDOW", "")
        else:
            continue
        if value > bound[0]:
            raise SpecError(f"{where}.options.{name}", over(value, bound[2], *bound[:2]))

