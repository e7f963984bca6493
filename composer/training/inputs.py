"""One training micro-batch of a design and its loss: what the plan's fake step and the real step
it is checked against both run. Sizes come from the settings, else from the design's processor,
else from its config."""

from __future__ import annotations

from typing import Any, NamedTuple

from composer.errors import SpecError
from composer.spec import Spec

DEFAULT_SEQUENCE = 2048  # tokens, when the config allows that many positions
DEFAULT_AUDIO_SECONDS = 10.0
DEFAULT_SAMPLING_RATE = 16_000
DEFAULT_HOP = 160  # samples per log-mel frame (10 ms at 16 kHz)
CTC_TARGET_SHARE = 8  # a CTC target is 1/8 as long as the clip's frames would allow (at least 1 label)

# Heads whose loss reads one label per position, one per example, or a target token sequence.
TOKEN_LABELS = {"causal-lm", "masked-lm", "seq2seq-lm", "speech-seq2seq", "token-classification"}
EXAMPLE_LABELS = {"sequence-classification", "image-classification", "audio-classification"}


class Sizes(NamedTuple):
    """One micro-batch: examples, and the size of the design's main input."""

    batch: int
    main: str  # the model's main input name
    tokens: int  # sequence length (also the decoder's, for an encoder-decoder)
    image: int | None = None
    samples: int | None = None
    frames: int | None = None
    mel_bins: int | None = None


def _option(part: dict | None, *names: str) -> Any:
    options = (part or {}).get("options", {})
    for name in names:
        value = options.get(name)
        if isinstance(value, dict):  # {"height": h, "width": w} or {"shortest_edge": s}
            value = max((v for v in value.values() if isinstance(v, int)), default=None)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def reads(main: str, config, task: str) -> tuple[str, ...]:
    """The size settings a micro-batch of a design with this main input reads (in ``sizes`` and ``batch``):
    tokens for text, a decoder (an encoder-decoder's) or token labels; pixels for images; seconds for a
    waveform, or for log-mel features whose frame count the config does not fix."""
    out = []
    if main == "input_ids" or getattr(config, "is_encoder_decoder", False) or task in TOKEN_LABELS:
        out.append("sequence_length")
    if main == "pixel_values":
        out.append("image_size")
    if main == "input_values" or (main == "input_features" and not hasattr(config, "max_source_positions")):
        out.append("audio_seconds")
    return tuple(out)


def sizes(spec: Spec, model, settings) -> Sizes:
    """The micro-batch the plan measures: settings first, then the design's processor, then its config."""
    config = model.config
    main = getattr(model, "main_input_name", "input_ids")
    positions = getattr(config, "max_position_embeddings", None) or getattr(config, "n_positions", None)
    tokens = settings.sequence_length or min(DEFAULT_SEQUENCE, positions or DEFAULT_SEQUENCE)
    if positions and tokens > positions and main == "input_ids":
        raise SpecError("plan.sequence_length", f"{tokens:,} is more than the {positions:,} positions the "
                        "design's config allows (max_position_embeddings)")
    out = Sizes(settings.micro_batch, main, tokens)
    if main == "pixel_values":
        size = settings.image_size or _option(spec.image_processor, "crop_size", "size") \
            or getattr(config, "image_size", None) or 224
        return out._replace(image=size[0] if isinstance(size, (list, tuple)) else size)
    if main in ("input_values", "input_features"):
        rate = _option(spec.feature_extractor, "sampling_rate") or DEFAULT_SAMPLING_RATE
        seconds = settings.audio_seconds or _option(spec.feature_extractor, "chunk_length") or DEFAULT_AUDIO_SECONDS
        if main == "input_values":
            return out._replace(samples=int(seconds * rate))
        bins = getattr(config, "num_mel_bins", None) or getattr(config, "feature_size", None) or 80
        frames = 2 * config.max_source_positions if hasattr(config, "max_source_positions") \
            else int(seconds * rate / (_option(spec.feature_extractor, "hop_length") or DEFAULT_HOP))
        return out._replace(frames=frames, mel_bins=bins)
    return out


def batch(model, s: Sizes, task: str) -> dict[str, Any]:
    """Inputs and labels of one micro-batch (random values: memory does not depend on them). Runs under
    whatever mode is active: fake tensors for the plan, real ones for the check."""
    import torch

    config = model.config
    vocab = getattr(config, "vocab_size", None) or 2
    ids = lambda length: torch.randint(0, vocab, (s.batch, length))  # noqa: E731
    if s.main == "input_ids":
        inputs = {"input_ids": ids(s.tokens)}
    elif s.main == "pixel_values":
        inputs = {"pixel_values": torch.randn(s.batch, getattr(config, "num_channels", 3), s.image, s.image)}
    elif s.main == "input_values":
        inputs = {"input_values": torch.randn(s.batch, s.samples)}
    elif s.main == "input_features":
        inputs = {"input_features": torch.randn(s.batch, s.mel_bins, s.frames)}
    else:
        raise SpecError("architecture", f"the plan has no training input for main input {s.main!r}; it "
                        "supports input_ids, pixel_values, input_values and input_features")
    if task == "ctc":
        inputs["labels"] = torch.randint(1, vocab, (s.batch, max(1, (s.samples or s.tokens) // 320 // CTC_TARGET_SHARE)))
    elif task in TOKEN_LABELS or (task == "pretraining" and getattr(config, "is_encoder_decoder", False)):
        classes = config.num_labels if task == "token-classification" else vocab
        inputs["labels"] = torch.randint(0, classes, (s.batch, s.tokens))
    elif task in EXAMPLE_LABELS:
        inputs["labels"] = torch.randint(0, config.num_labels, (s.batch,))
    if getattr(config, "is_encoder_decoder", False):  # given, not shifted from labels (no start token needed)
        inputs["decoder_input_ids"] = ids(s.tokens)
    return inputs


def loss_of(output) -> Any:
    """The head's own loss when it computed one, else the mean of its first output (a base model's
    hidden states, a backbone design's logits): one scalar to run backward from."""
    loss = getattr(output, "loss", None)
    if loss is not None:
        return loss
    first = next(v for v in output.values() if hasattr(v, "dtype") and v.dtype.is_floating_point)
    return first.float().mean()
