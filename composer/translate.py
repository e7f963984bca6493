"""A transformers or torch error raised while building a design, said as what is wrong and what is
allowed, for the field it is about (composer.build names the field).

Each class of raw message seen in a sweep of every model type (benchmarks/sweep_errors.py: each
integer field at 0, 1 and of a wrong kind, each float negative) has its sentence here; anything else
keeps transformers' own words, after the value and the default that builds.
"""

from __future__ import annotations

import re
from typing import Any

from composer.errors import one_line, shown

_NEGATIVE = re.compile(r"negative dimension (-?\d+): (\[[^\]]*\])")
_STRICT_FIELD = re.compile(r"^Validation error for field '(\w+)':")


def strict_field(err: Exception) -> str | None:
    """The attribute a huggingface_hub strict-dataclass field validator refused (transformers 5.x
    configs are strict dataclasses), else None."""
    m = _STRICT_FIELD.match(str(err))
    return m.group(1) if m else None


def cause(err: Exception) -> Exception:
    """The error inside huggingface_hub's wrapper (``Class validation error for validator ...``)."""
    from huggingface_hub.errors import StrictDataclassError

    return err.__cause__ if isinstance(err, StrictDataclassError) and err.__cause__ is not None else err


def explained(err: Exception, name: str, value: Any, default: Any) -> str:
    """One line for config attribute ``name`` (given ``value``, class ``default``) from ``err``."""
    err = cause(err)
    text = one_line(err)
    given = f"{name} {shown(value)}"
    builds = f"; the default {shown(default)} builds" if default is not None and default != value else ""
    if isinstance(err, ZeroDivisionError) or "cannot be raised to a negative power" in text:
        return f"{given} makes a size transformers divides by 0 (a head, group or block of width 0){builds}"
    m = _NEGATIVE.search(text)
    if m:
        return f"{given} makes a layer of negative size {m.group(2)}{builds}"
    if "Padding_idx must be within num_embeddings" in text:
        return f"{given} is too few rows for an embedding that holds the padding index (pad_token_id): it must " \
               f"be larger than that id{builds}"
    if re.search(r"groups must be a positive integer|must be divisible by groups", text):
        return f"{given} does not split into whole convolution groups (torch: {text}){builds}"
    if re.search(r"index -?\d+ is out of bounds|cannot reshape tensor of 0 elements|non-positive", text):
        return f"{given} makes an empty layer (torch: {text}){builds}"
    if "inconsistent with step sign" in text:  # torch.arange of a negative length
        return f"{given} makes a range of negative length{builds}"
    if isinstance(err, (ValueError, KeyError)):  # transformers' own checks, written for a reader
        return text
    return f"{given} does not build ({type(err).__name__}: {text}){builds}"
