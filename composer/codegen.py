"""The Spec's steps printed as Python that needs only torch and transformers."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from composer.build import plan
from composer.paths import checked_path
from composer.plan import Expr, Ref, Step, transformers_names
from composer.spec import Spec
from composer.validation import ready

SAVED = ("processor", "tokenizer", "image_processor", "feature_extractor")
LINE = 100  # characters: a longer call is written one argument a line, longer data one item a line
# How a block of data starts in the code (``training_text = [``, alone on its line); it ends at "]".
DATA_START = re.compile(r"^(\w+) = \[$")


def literal(value: Any, indent: int = 0) -> str:
    """A JSON value as Python source that runs (double-quoted strings, True/False/None). A Spec holds
    finite numbers and valid Unicode only, but a value from elsewhere (a transformers default such as
    Mamba2's time_step_limit (0.0, inf), a path from the command line) must not print as a bare
    ``inf`` (a NameError) or as a lone surrogate (source that cannot be written as UTF-8)."""
    if isinstance(value, Ref):
        return value.name
    if isinstance(value, Expr):
        return value.source
    if isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False)
        return text if text.isascii() or _utf8(text) else json.dumps(value)  # "\udcff" escapes then
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'  # float("inf"), float("-inf"), float("nan")
    if isinstance(value, (bool, int, float)) or value is None:
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(k)}: {literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as a literal")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _note(key: str, value: Any) -> str:
    """A comment saying what a bare number stands for: ``resample=4`` is PIL's BOX filter."""
    if key == "resample" and isinstance(value, int) and not isinstance(value, bool):
        from PIL import Image

        return f"  # PIL.Image.Resampling.{Image.Resampling(value).name}"
    return ""


def _data(value: Any) -> str:
    """Data as a literal; a list too long for one line is written one item a line (DATA_START ... "]"):
    a corpus of 120 lines reads as 120 short lines that a view folds, not one line of 10,000 characters."""
    one_line = literal(value)
    if len(one_line) <= LINE or not isinstance(value, list):
        return one_line
    return "[\n" + "".join(f"    {literal(v)},\n" for v in value) + "]"


def _call(step: Step) -> str:
    if not step.callee:
        return f"{step.target} = {_data(step.args[0])}"
    parts = [(literal(a), "") for a in step.args] + \
        [(f"{k}={literal(v)}", _note(k, v)) for k, v in step.kwargs.items()]
    one_line = f"{step.callee}({', '.join(p for p, _ in parts)})"
    lhs = f"{step.target} = " if step.target else ""
    if len(lhs + one_line) <= LINE and len(step.kwargs) <= 1 and not any(n for _, n in parts):
        return lhs + one_line
    body = "".join(f"    {p},{n}\n" for p, n in parts)
    return f"{lhs}{step.callee}(\n{body})"


def saved_parts(made) -> list[str]:
    """The preprocessing objects a saved folder gets, of those a design makes: a processor holds the
    others and is saved alone."""
    return ["processor"] if "processor" in made else [name for name in SAVED if name in made]


def to_code(spec: Spec | dict, output_dir: str | None = "checkpoint") -> str:
    """Reproducible source for a design; with ``output_dir`` it also saves the checkpoint there."""

    spec = ready(spec)
    if output_dir is not None:
        checked_path(output_dir, "output_dir")  # the exported code saves there: refuse what cannot be a folder
    steps = plan(spec)
    names = transformers_names(steps)
    lines = [
        f"# {spec.model_type} design exported by transformers-composer ({spec.format}).",
        "# Needs only torch and transformers; the same seed always gives the same weights.",
        "import torch",
        "from transformers import " + (", ".join(names) if len(names) <= 3 else
                                       "(\n" + "".join(f"    {n},\n" for n in names) + ")"),
        "",
    ]
    for step in steps:
        if step.callee == "torch.manual_seed":
            lines.append("")
        lines.append(_call(step))
        if step.target == "model":
            lines.append("")
    if output_dir is not None:
        lines += ["", f"output_dir = {literal(output_dir)}", "model.save_pretrained(output_dir)"]
        lines += [f"{name}.save_pretrained(output_dir)" for name in saved_parts({s.target for s in steps})]
    return "\n".join(lines).replace("\n\n\n", "\n\n") + "\n"


def data_blocks(code: str) -> list[dict[str, Any]]:
    """The blocks of data in exported code (a training text written one item a line), as 0-based line
    ranges a view folds: [{"name": "training_text", "first": 16, "last": 137, "items": 120}]. The code
    stays whole, so a copy or a pasted cell still rebuilds the same tokenizer by itself."""
    blocks, lines = [], code.split("\n")
    for i, line in enumerate(lines):
        start = DATA_START.match(line)
        if start:
            last = lines.index("]", i)
            blocks.append({"name": start.group(1), "first": i, "last": last, "items": last - i - 1})
    return blocks
