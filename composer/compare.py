"""Two designs side by side: what differs in their fields, what that does to their parameters and
memory, in total and module by module, and, given training settings, to their training plans.

Fields are compared as the designs are built (each config as transformers makes it from the Spec), so
a default given explicitly equals one left out, an alias equals its attribute, a checkpoint's values
count for a ``pretrained`` design, and a field transformers derives from another (Llama's head_dim
from hidden_size) shows when it follows. The plan is made only when settings are given: it takes
seconds the first time."""

from __future__ import annotations

import json
from typing import Any

from composer.counting import BYTES_PER_PARAM
from composer.errors import SpecError
from composer.fields import fields_by_name
from composer.module_tree import align
from composer.repeats import measured
from composer.sections.config import NOT_OFFERED
from composer.sizes import human
from composer.spec import Spec
from composer.training.plan import Plan, duration, plan
from composer.training.settings import Settings
from composer.validation import ready

SIDES = ("A", "B")
# The Spec's sections other than the model type, head and config, compared value by value.
SECTIONS = ("backbone", "tokenizer", "image_processor", "feature_extractor", "processor", "pretrained", "seed")
COUNTS = ("total", "trainable", "embeddings")
_ABSENT = object()  # a field one side's config class does not have


def _side(label: str, spec: Any) -> Spec:
    """The validated design of one side; its error names the side first (``B.config.n_heads: …``)."""
    try:
        return ready(spec)
    except SpecError as err:
        raise SpecError(f"{label}.{err.field}" if err.field else label, err.message) from None


def _plain(value: Any) -> Any:
    """A config value as strict JSON data (int keys as strings, tuples as lists, Infinity as a string)."""
    return json.loads(json.dumps(value, default=repr), parse_constant=str)


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _row(path: str, a: Any, b: Any, given: list[str]) -> dict[str, Any]:
    return {"field": path, "a": None if a is _ABSENT else a, "b": None if b is _ABSENT else b,
            "absent": [s for s, v in zip(SIDES, (a, b)) if v is _ABSENT], "given": given}


def _leaves(path: str, a: Any, b: Any, given: list[str]) -> list[dict[str, Any]]:
    """The rows of two values that differ: objects on both sides key by key, anything else whole."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [row for key in dict.fromkeys([*a, *b])
                for row in _leaves(f"{path}.{key}", a.get(key, _ABSENT), b.get(key, _ABSENT), given)]
    if a is not _ABSENT and b is not _ABSENT and _same(a, b):
        return []
    return [_row(path, a, b, given)]


def _config_values(spec: Spec) -> tuple[dict[str, Any], dict[str, Any]]:
    """(field name -> value of the built config, name -> Field) for every field of the design's form."""
    config = measured(spec).config
    as_dict = config.to_dict()
    fields = fields_by_name(spec.model_type)
    values = {name: _plain(as_dict[name] if name in as_dict else _attribute(config, name)) for name in fields}
    return values, fields


def _attribute(config, name: str) -> Any:
    try:
        return getattr(config, name, None)
    except RuntimeError:  # a per-layer (heterogeneous) config refuses global reads: nothing to compare
        return None


def field_rows(a: Spec, b: Spec) -> list[dict[str, Any]]:
    """Every field whose value differs: model type, head, config (sub-configs key by key), then the
    other sections. ``given``: the sides whose Spec sets the field (others take a default or derive it)."""
    rows: list[dict[str, Any]] = []
    arch_a, arch_b = (measured(s).summary["architecture"] for s in (a, b))
    for path, va, vb in (("model_type", a.model_type, b.model_type), ("architecture", arch_a, arch_b)):
        if va != vb:
            rows.append(_row(path, va, vb, list(SIDES)))
    (values_a, fields_a), (values_b, fields_b) = _config_values(a), _config_values(b)
    for name in dict.fromkeys(n for n in [*fields_a, *fields_b] if n not in NOT_OFFERED):  # the backbone: below
        va, vb = values_a.get(name, _ABSENT), values_b.get(name, _ABSENT)
        given = [s for s, spec in zip(SIDES, (a, b)) if name in spec.config]
        if (fields_a.get(name) or fields_b.get(name)).type == "config":
            rows += _leaves(f"config.{name}", va, vb, given)
        elif va is _ABSENT or vb is _ABSENT or not _same(va, vb):
            rows.append(_row(f"config.{name}", va, vb, given))
    for key in SECTIONS:
        va, vb = getattr(a, key), getattr(b, key)
        given = [s for s, v in zip(SIDES, (va, vb)) if v is not None]
        rows += _leaves(key, va, vb, given) if isinstance(va, dict) and isinstance(vb, dict) else \
            ([] if _same(va, vb) else [_row(key, va, vb, given)])
    return rows


def _delta(a: int | float | None, b: int | float | None) -> dict[str, Any]:
    return {"a": a, "b": b, "delta": None if a is None or b is None else b - a}


def _with_memory(node: dict[str, Any], size: int) -> dict[str, Any]:
    return {**node, "memory_delta": node["delta"] * size,
            "children": [_with_memory(c, size) for c in node["children"]]}


def _plan_figures(p: Plan) -> dict[str, Any]:
    return {"peak": p.peak, "devices": p.devices, "fits": p.fits, "seconds": p.seconds, "per_device": p.per_device}


def plan_rows(a: Spec, b: Spec, settings: Settings | dict) -> dict[str, Any]:
    """The two training plans for the same settings: peak per device, devices, time, each segment."""
    settings = settings if isinstance(settings, Settings) else Settings.from_dict(settings)
    plans = []
    for label, spec in zip(SIDES, (a, b)):
        try:
            plans.append(plan(spec, settings))
        except SpecError as err:  # a setting's error names the setting; the design's, the side
            raise (err if err.field.startswith("plan") else SpecError(f"{label}.{err.field}", err.message)) from None
    fa, fb = (_plan_figures(p) for p in plans)
    segments = dict.fromkeys([*fa["per_device"], *fb["per_device"]])
    return {"settings": plans[0].settings, "device": plans[0].device,
            "peak": _delta(fa["peak"], fb["peak"]), "devices": _delta(fa["devices"], fb["devices"]),
            "seconds": _delta(fa["seconds"], fb["seconds"]), "fits": [fa["fits"], fb["fits"]],
            "per_device": {name: _delta(fa["per_device"].get(name, 0), fb["per_device"].get(name, 0))
                           for name in segments}}


def diff(a: Spec | dict | str, b: Spec | dict | str, settings: Settings | dict | None = None,
         dtype: str = "fp32") -> dict[str, Any]:
    """What differs between designs ``a`` and ``b`` (Specs, spec dicts, spec files or saved folders):
    ``fields`` (each with both values), ``parameters`` and ``memory`` (A, B, delta), ``tree`` (the two
    module trees aligned, composer.module_tree.align, each node with its memory delta at ``dtype``),
    ``plan`` when ``settings`` are given (else None, and no plan is made), and ``same``. An error names
    its side: ``A.spec: …``, ``B.config.n_heads: …``."""
    if dtype not in BYTES_PER_PARAM:
        raise SpecError("dtype", f"{dtype!r} is not one of {', '.join(BYTES_PER_PARAM)}")
    a, b = _side("A", a), _side("B", b)
    sa, sb = measured(a).summary, measured(b).summary
    rows = field_rows(a, b)
    tree = _with_memory(align(sa["tree"], sb["tree"]), BYTES_PER_PARAM[dtype])
    parameters = {k: _delta(sa[k], sb[k]) for k in COUNTS}
    return {
        "a": {"model_type": a.model_type, "architecture": sa["architecture"]},
        "b": {"model_type": b.model_type, "architecture": sb["architecture"]},
        "fields": rows,
        "parameters": parameters,
        "memory": {d: _delta(sa["memory"][d], sb["memory"][d]) for d in BYTES_PER_PARAM},
        "dtype": dtype,
        "tree": tree,
        "plan": None if settings is None else plan_rows(a, b, settings),
        "same": not rows and tree["mark"] == "same" and all(p["delta"] == 0 for p in parameters.values()),
    }


# ----- as text --------------------------------------------------------------------------------------

MARK_SIGNS = {"same": " ", "changed": "~", "added": "+", "removed": "-"}


def _shown(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:39] + "…"


def _signed(n: int | float, unit: str = "") -> str:
    if unit == "B":
        return ("+" if n > 0 else "-" if n < 0 else "±") + human(abs(n), "B")
    return f"{n:+,}" if n else "±0"


def _tree_rows(node: dict[str, Any], depth: int, prefix: str = "", level: int = 0) -> list[tuple[str, dict]]:
    rows = [(prefix or node["name"], node)]
    if level < depth:
        for child in node["children"]:
            rows += _tree_rows(child, depth, f"{prefix}.{child['name']}" if prefix else child["name"], level + 1)
    return rows


def _count(side: dict[str, Any] | None) -> str:
    return "-" if side is None else f"{side['params']:,}"


def format_diff(d: dict[str, Any], names: tuple[str, str] = SIDES, depth: int = 2) -> str:
    """The text the command line prints: the fields that differ, the counts, the modules (marked
    ``~`` changed, ``+`` only in B, ``-`` only in A) and, when made, the plans."""
    lines = [f"A: {names[0]}  {d['a']['architecture']} ({d['a']['model_type']})",
             f"B: {names[1]}  {d['b']['architecture']} ({d['b']['model_type']})", ""]
    if d["same"]:
        lines.append("The designs are the same: no field, count or module differs.")
    if d["fields"]:
        lines.append(f"{len(d['fields'])} field(s) differ")
        width = max(len(r["field"]) for r in d["fields"])
        for r in d["fields"]:
            a, b = ("(none)" if s in r["absent"] else _shown(r[s.lower()]) for s in SIDES)
            lines.append(f"  {r['field']:<{width}}  {a:>20}  →  {b}")
        lines.append("")
    lines.append(f"  {'parameters':<24} {'A':>16} {'B':>16} {'B - A':>16}")
    for key, p in d["parameters"].items():
        lines.append(f"  {key:<24} {p['a']:>16,} {p['b']:>16,} {_signed(p['delta']):>16}")
    for dtype, m in d["memory"].items():
        lines.append(f"  {'memory ' + dtype:<24} {human(m['a'], 'B'):>16} {human(m['b'], 'B'):>16} "
                     f"{_signed(m['delta'], 'B'):>16}")
    lines += ["", f"  {'module':<44} {'A':>16} {'B':>16} {'B - A':>16} {'memory ' + d['dtype']:>12}"]
    for name, node in _tree_rows(d["tree"], depth):
        label = f"{MARK_SIGNS[node['mark']]} {name}" + (f" ×{node['repeat']}" if node.get("repeat") else "")
        lines.append(f"  {label[:44]:<44} {_count(node['a']):>16} {_count(node['b']):>16} "
                     f"{_signed(node['delta']):>16} {_signed(node['memory_delta'], 'B'):>12}")
    if d["plan"] is not None:
        p = d["plan"]
        lines += ["", f"  training plan on {p['device']}: A, B, B - A"]
        lines.append(f"    {'peak per device':<22} {human(p['peak']['a'], 'B'):>12} {human(p['peak']['b'], 'B'):>12} "
                     f"{_signed(p['peak']['delta'], 'B'):>12}")
        dev = p["devices"]
        shown = ["none fits" if v is None else str(v) for v in (dev["a"], dev["b"])]
        lines.append(f"    {'devices':<22} {shown[0]:>12} {shown[1]:>12} "
                     f"{'' if dev['delta'] is None else _signed(dev['delta']):>12}")
        sec = p["seconds"]
        times = ["-" if v is None else duration(v) for v in (sec["a"], sec["b"])]
        change = "" if sec["delta"] is None else ("+" if sec["delta"] > 0 else "") + duration(sec["delta"])
        lines.append(f"    {'time':<22} {times[0]:>12} {times[1]:>12} {change:>12}")
    return "\n".join(lines) + "\n"
