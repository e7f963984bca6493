"""What the preprocessing sections share about a part's ``options``: typed like their defaults, and
an error placed at the option it names."""

from __future__ import annotations

import re
from typing import Any

from composer.classes import init_defaults
from composer.errors import SpecError, shown


def named_option(message: str, options: dict[str, Any], prefix: str) -> str:
    """``prefix.options.NAME`` for the first option the message names, else ``prefix``."""
    words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
    return next((f"{prefix}.options.{n}" for n in options if n in words), prefix)


def check_option_types(cls, options: dict[str, Any], where: str) -> None:
    """A value must have the JSON type of the parameter's default (``sampling_rate: "16k"`` builds
    fine and fails far later)."""
    defaults = init_defaults(cls)
    for name, value in options.items():
        default = defaults.get(name)
        kinds = {bool: (bool,), int: (int,), float: (int, float), str: (str,)}.get(type(default))
        if kinds and (not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)):
            raise SpecError(f"{where}.options.{name}", f"expected {type(default).__name__} like the default "
                            f"{shown(default)}, got {shown(value)}")
