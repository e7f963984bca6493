"""Every model type through the engine: its form, then a meta-device build of its base model
(or its first head when it has none). Prints how many build and why each other one does not, and how
many fields of the forms carry a value domain (a minimum, a maximum or closed choices).

A failure must be a SpecError with a one-line reason; anything else is a bug of ours and is
listed under CRASHES with its traceback.

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/sweep_types.py [MODEL_TYPE ...]
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import sys
import time
import traceback
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def domains(model_type: str) -> tuple[int, int]:
    """(fields with a value domain, fields) of the model type's form."""
    from composer.fields import config_fields

    fields = config_fields(model_type)
    bounded = [f for f in fields if f.minimum is not None or f.maximum is not None or f.choices]
    return len(bounded), len(fields)


def sweep_one(model_type: str) -> str | None:
    """None if it builds, else the SpecError's message. Other exceptions propagate."""
    from composer import Spec, SpecError
    from composer.build import build_meta_model
    from composer.catalog import heads
    from composer.fields import config_fields
    from composer.validation import validate

    json.dumps([f.to_dict() for f in config_fields(model_type)])
    options = heads(model_type)
    architecture = None if not options or options[0].task == "base" else options[0].name
    try:
        build_meta_model(validate(Spec(model_type=model_type, architecture=architecture)))
    except SpecError as err:
        return str(err)
    return None


def _group(reason: str) -> str:
    """A coarse bucket for the tally: what a reader would fix first."""
    lowered = reason.lower()
    if reason.startswith("architecture:") and "library" in lowered:
        return "needs an optional package"
    if "only a backbone" in lowered:
        return "only a backbone (composed through another model's backbone)"
    if "auto mappings" in lowered:
        return "no model class of its own (a part of a larger model)"
    if "transformers' default" in lowered:
        return "transformers' default config is unusable"
    return "other"


def main(argv: list[str]) -> int:
    import transformers

    from composer.catalog import model_types

    transformers.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    types = argv or list(model_types())
    start = time.perf_counter()
    failures: dict[str, str] = {}
    crashes: dict[str, str] = {}
    bounded = fields = 0
    for model_type in types:
        try:
            with_domain, total = domains(model_type)
            bounded, fields = bounded + with_domain, fields + total
        except Exception:  # noqa: BLE001 - the build below reports the type
            pass
        try:
            with contextlib.redirect_stdout(io.StringIO()):  # PeVideoModel prints docstring checks when built
                reason = sweep_one(model_type)
        except Exception:  # a crash of ours: the engine let a raw exception through
            crashes[model_type] = traceback.format_exc(limit=-4)
            continue
        if reason is not None:
            failures[model_type] = reason
    elapsed = time.perf_counter() - start

    built = len(types) - len(failures) - len(crashes)
    print(f"{built}/{len(types)} model types build on meta; {len(failures)} refused with a reason; "
          f"{len(crashes)} crashes; {elapsed:.0f} s")
    print(f"{bounded:,} of the {fields:,} fields of their forms carry a value domain (minimum, maximum or choices)")
    groups = collections.defaultdict(list)
    for model_type, reason in failures.items():
        groups[_group(reason)].append(model_type)
    for group, members in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        print(f"\n{group} ({len(members)}):")
        for model_type in members:
            print(f"  {model_type:<32} {failures[model_type]}")
    if crashes:
        print(f"\nCRASHES ({len(crashes)}):")
        for model_type, tb in crashes.items():
            print(f"--- {model_type}\n{tb}")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
