"""The value domain of a config attribute: the least and greatest value it may take, or its closed set.

transformers' own validators come first (5.x configs attach ``positive_int_field``, ``interval(...)``,
``probability`` and ``activation_fn_key`` to some fields; their bounds are read, not copied). The rest
comes from what an attribute's name says it is, and only where its default agrees: a size or count
that cannot be 0 (vocab_size, hidden sizes, layer and head counts), a probability (dropouts, *_prob) or a fraction
(partial_rotary_factor), an epsilon or an init std (never negative), an activation looked up in transformers' ACT2FN. Counts that may be 0
(num_shared_experts, first_k_dense_replace, num_nextn_predict_layers, ...) and ids are left alone: a
wrong refusal of a real config is worse than a missing domain.
"""

from __future__ import annotations

import functools
import inspect
import math
import re
import typing
from typing import Any, NamedTuple

from composer.errors import SpecError, shown

# Config attributes that count repeated blocks (num_hidden_layers, n_layer, encoder_layers, depths,
# num_blocks, num_stages, ...), matched on the names of every config class's fields, so a new model's
# counts are bounded too (composer.sizes) and its layers counted once and multiplied (composer.repeats).
# Layer indices (feature_layer, mlp_only_layers) match as well, harmlessly there.
LAYER_COUNT = re.compile(r"(layers?|depths?|blocks?|stages?)$")
# Sizes and counts whose 0 builds a broken or empty model (a 0-layer encoder, a 0-wide embedding).
SIZE = re.compile(
    r"(^|_)(vocab_size|hidden_size|intermediate_size|ffn_dim|embed_dim|embedding_dim|embedding_size"
    r"|dim_feedforward|d_model|n_embd|d_ff|d_kv|d_inner|n_inner|n_positions|max_position_embeddings"
    r"|num_channels|patch_size|head_dim|hidden_dim|mlp_dim|dim_ff|ffn_hidden_size|codebook_size)$|^dim$")
LAYERS = re.compile(r"(^|_)(num_hidden_layers|n_layers|n_layer|num_layers|encoder_layers|decoder_layers"
                    r"|num_encoder_layers|num_decoder_layers)$")
HEADS = re.compile(r"(^|_)(num_attention_heads|num_key_value_heads|num_heads|n_heads|n_head|attention_heads"
                   r"|num_kv_heads)$")
PROBABILITY = re.compile(r"(dropout|drop_rate|drop_path|droppath|layerdrop|layer_drop|pdrop|_prob)(_rate|_prob)?$")
EPSILON = re.compile(r"(^|_)(eps|epsilon)$")
INIT_STD = re.compile(r"^(initializer_range|initializer_factor|init_std)$")  # the std of the weights' init
FRACTION = re.compile(r"^(partial_rotary_factor|rotary_pct)$")  # the share of each head that rotary rotates
ACTIVATION = re.compile(r"(^|_)(act|activation|activation_function|act_fn|hidden_activation)$")


class Domain(NamedTuple):
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[Any, ...] | None = None


@functools.cache
def activations() -> tuple[str, ...]:
    """Every name transformers' ACT2FN maps to an activation (what ``hidden_act`` may be)."""
    from transformers.activations import ACT2FN

    return tuple(ACT2FN)


def _from_validators(validators: list) -> Domain | None:
    """The domain transformers' own field validators (huggingface_hub strict dataclasses) enforce."""
    for fn in validators:
        if getattr(fn, "__module__", "") != "transformers.utils.type_validators":
            continue
        name = fn.__qualname__
        if name == "positive_int_field":
            return Domain(1)
        if name == "probability":
            return Domain(0.0, 1.0)
        if name == "activation_fn_key":
            return Domain(choices=activations())
        if name == "interval.<locals>._inner":
            bounds = inspect.getclosurevars(fn).nonlocals
            low, high = bounds.get("min"), bounds.get("max")
            if bounds.get("exclude_min") or bounds.get("exclude_max"):  # none in 5.24; not written as inclusive
                continue
            return Domain(None if low == -math.inf else low, None if high == math.inf else high)
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def domain(name: str, kinds: tuple[str, ...], default: Any, validators: list) -> Domain:
    """The domain of attribute ``name`` (JSON ``kinds``, class ``default``); Domain() when unknown."""
    known = _from_validators(validators)
    if known is not None:
        return known
    scalar = set(kinds) <= {"int", "float"} and kinds
    if scalar and "float" not in kinds and (default is None or (_is_int(default) and default >= 1)):
        if SIZE.search(name) or LAYERS.search(name) or HEADS.search(name):
            return Domain(1)
    if scalar and (default is None or (_is_number(default) and 0 <= default <= 1)) and (
            PROBABILITY.search(name) or FRACTION.search(name)):
        return Domain(0.0, 1.0)
    if scalar and "float" in kinds and (default is None or (_is_number(default) and default >= 0)) and (
            EPSILON.search(name) or INIT_STD.search(name)):
        return Domain(0.0)
    if kinds == ("str",) and ACTIVATION.search(name) and default in activations():
        return Domain(choices=activations())
    return Domain()


# ----- image processor options ----------------------------------------------------------------


def _written(annotation: Any) -> str:
    """A type hint as a reader writes it: ``float | list[float] | None``."""
    text = str(annotation).replace("typing.", "").replace("NoneType", "None")
    return re.sub(r"<class '(\w+)'>", r"\1", re.sub(r"Annotated\[(.*), [^,\]]*\]$", r"\1", text))


def _as_floats(value: Any) -> Any:
    if isinstance(value, list):
        return [_as_floats(v) for v in value]
    return float(value) if _is_int(value) else value


def check_image_option_values(cls, options: dict[str, Any], where: str) -> None:
    """Each option against the type transformers' image processor declares for it (its ``valid_kwargs``,
    checked with huggingface_hub's own validate_typed_dict, as ``preprocess`` does on the first image),
    and a mean and std of finite numbers, the std never 0 (every pixel would become inf)."""
    from huggingface_hub.dataclasses import validate_typed_dict
    from huggingface_hub.errors import StrictDataclassError

    schema = getattr(cls, "valid_kwargs", None)
    hints = typing.get_type_hints(schema, include_extras=False) if schema is not None else {}
    for name, value in options.items():
        spot = f"{where}.options.{name}"
        if name in hints and name != "resample":  # resample is read from its name by composer.sections.parts
            try:  # JSON writes 1.0 as 1: an int stands for a float, as the processor's __init__ takes it
                validate_typed_dict(schema, {name: _as_floats(value)})
            except (StrictDataclassError, TypeError, ValueError):
                try:
                    validate_typed_dict(schema, {name: value})
                except (StrictDataclassError, TypeError, ValueError):
                    raise SpecError(spot, f"expected {_written(hints[name])}, got {shown(value)}") from None
        if name in ("image_mean", "image_std") and value is not None:
            numbers = value if isinstance(value, list) else [value]
            if not all(isinstance(v, (int, float)) and math.isfinite(v) for v in numbers):
                raise SpecError(spot, f"expected finite numbers, one per channel; got {shown(value)}")
            if name == "image_std" and 0 in numbers:
                raise SpecError(spot, f"a std of 0 divides every pixel by 0; got {shown(value)}")
