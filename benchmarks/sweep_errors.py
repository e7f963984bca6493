"""Every model type with each of its own integer fields at 0, at 1 and of a wrong kind, and each
float negative: what the person is told. Lists the messages grouped by their shape (numbers and
quoted values blanked), so that a raw transformers or torch message that gets through is seen once
per class, and any exception that is not a SpecError (a crash of ours).

    HF_HUB_OFFLINE=1 nice .venv/bin/python benchmarks/sweep_errors.py [--json OUT] [MODEL_TYPE ...]
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import re
import sys
import time
import traceback
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")

_SHAPE = re.compile(r"'[^']*'|\"[^\"]*\"|-?\d[\d,.e+-]*")


def cases(model_type: str) -> list[tuple[str, object]]:
    from composer.fields import config_fields

    out: list[tuple[str, object]] = []
    for f in config_fields(model_type):
        if f.common or f.type not in ("int", "float"):
            continue
        values = (0, 1, "x") if f.type == "int" else (-1.0,)
        out += [(f.name, v) for v in values]
    return out


def sweep_one(model_type: str) -> list[dict]:
    from composer import Spec, SpecError
    from composer.catalog import heads
    from composer.validation import validate

    options = heads(model_type)
    architecture = None if not options or options[0].task == "base" else options[0].name
    try:
        validate(Spec(model_type=model_type, architecture=architecture))
    except SpecError:
        return []  # the default does not build: nothing of a value's to learn
    rows = []
    for name, value in cases(model_type):
        row = {"type": model_type, "field": name, "value": value}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                validate(Spec(model_type=model_type, architecture=architecture, config={name: value}))
            row["outcome"] = "accepted"
        except SpecError as err:
            row["outcome"], row["message"] = "refused", str(err)
        except Exception:  # noqa: BLE001 - a crash of ours, listed
            row["outcome"], row["message"] = "CRASH", traceback.format_exc(limit=-3)
        rows.append(row)
    return rows


def main(argv: list[str]) -> int:
    import transformers

    from composer.catalog import model_types

    transformers.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    out = None
    if argv[:1] == ["--json"]:
        out, argv = argv[1], argv[2:]
    types = argv or list(model_types())
    start = time.perf_counter()
    rows = []
    for model_type in types:
        try:
            rows += sweep_one(model_type)
        except Exception:  # noqa: BLE001
            rows.append({"type": model_type, "outcome": "CRASH", "message": traceback.format_exc(limit=-3)})
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(rows, f, indent=0)
    shapes = collections.defaultdict(list)
    for row in rows:
        if row["outcome"] != "accepted":
            text = row["message"].split(": ", 1)[-1] if row["outcome"] == "refused" else row["message"]
            shapes[(row["outcome"], _SHAPE.sub("#", text)[:160])].append(row)
    tally = collections.Counter(row["outcome"] for row in rows)
    print(f"{len(types)} types, {len(rows)} cases in {time.perf_counter() - start:.0f} s: {dict(tally)}; "
          f"{len(shapes)} message shapes")
    for (outcome, shape), members in sorted(shapes.items(), key=lambda kv: -len(kv[1])):
        first = members[0]
        print(f"{len(members):>6}  {outcome:<8} {shape}\n        e.g. {first['type']} {first.get('field')}="
              f"{first.get('value')!r}: {first['message'][:200]}")
    return 1 if tally.get("CRASH") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
