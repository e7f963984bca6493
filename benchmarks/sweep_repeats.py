"""Every model type with its layer counts raised: the summary from few-layer builds (composer.repeats)
against the whole meta build. Prints how many types are counted from few layers, how many fall back
to the whole build, and every mismatch (a bug: the summary must be exact).

    HF_HUB_OFFLINE=1 .venv/bin/python benchmarks/sweep_repeats.py [LAYERS] [MODEL_TYPE ...]
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import time
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def compare(model_type: str, layers: int) -> str:
    """"few" (exact from few layers), "whole" (fell back), "refused" (does not build), or a mismatch."""
    from composer import Spec, SpecError, repeats
    from composer.build import build_meta_model
    from composer.catalog import heads
    from composer.counting import summarize_model, weight_bytes
    from composer.domains import LAYER_COUNT
    from composer.fields import config_fields
    from composer.validation import validate

    options = heads(model_type)
    architecture = None if not options or options[0].task == "base" else options[0].name
    counts = {f.name: layers for f in config_fields(model_type)
              if LAYER_COUNT.search(f.name) and f.type == "int" and isinstance(f.default, int) and f.default > 0}
    try:
        spec = validate(Spec(model_type=model_type, architecture=architecture, config=counts), deep=False)
        got = repeats.measure(spec)
        model = build_meta_model(spec)
    except SpecError:
        return "refused"
    if got is None:
        return "whole"
    if got.summary != summarize_model(model) or got.weight_bytes != weight_bytes(model):
        return f"MISMATCH total {got.summary['total']:,} vs {summarize_model(model)['total']:,}"
    return "few"


def main(argv: list[str]) -> int:
    import transformers

    from composer.catalog import model_types

    transformers.logging.set_verbosity_error()
    warnings.simplefilter("ignore")
    layers = int(argv[0]) if argv and argv[0].isdigit() else 12
    types = [a for a in argv if not a.isdigit()] or list(model_types())
    start = time.perf_counter()
    tally: dict[str, list[str]] = {}
    for model_type in types:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                outcome = compare(model_type, layers)
        except Exception as err:  # noqa: BLE001 - a crash is listed, the sweep goes on
            outcome = f"CRASH {type(err).__name__}: {str(err)[:200]}"
        tally.setdefault(outcome if outcome in ("few", "whole", "refused") else "bad", []).append(
            model_type if outcome in ("few", "whole", "refused") else f"{model_type}: {outcome}")
    print(f"{len(types)} types with every layer count at {layers}, {time.perf_counter() - start:.0f} s: "
          + ", ".join(f"{k} {len(v)}" for k, v in tally.items()))
    for line in tally.get("bad", []):
        print(" ", line)
    return 1 if tally.get("bad") else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
