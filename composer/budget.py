"""A parameter budget: which value of one integer config field brings a design closest to a target
count of parameters (or bytes of weights at a dtype), from below and from above.

Every value tried is validated as any design is (composer.validation.ready: a hidden size that the
heads must divide, an odd rotary dimension, … are refused there, whatever the model) and counted
through the fast path (composer.repeats: few layers built on the meta device and multiplied). The
valid values are taken to be evenly spaced from the design's own value (the spacing found by checking
its neighbours), searched on that lattice by doubling then halving, and the integers left between the
two answers are checked one by one, so that no valid value between them is missed. The count must grow
with the field: every count made is checked for it, and a search over a count that falls or stays
put is refused."""

from __future__ import annotations

import re
from typing import Any, Callable

from composer import limits
from composer.compare import field_rows
from composer.counting import BYTES_PER_PARAM
from composer.domains import LAYER_COUNT
from composer.errors import SpecError, shown
from composer.fields import Field, canonical_name, fields_by_name
from composer.repeats import measured
from composer.sizes import config_limit, human
from composer.spec import Spec
from composer.validation import ready

MEASURES = ("parameters", "memory")

# 10M, 7B, 1.5e9, 350,000,000, 16GiB: a count (K, M, B or G, T: powers of 1000) or bytes (KiB … TiB).
_TARGET = re.compile(r"^\s*(\d[\d,_]*(?:\.\d+)?(?:e[-+]?\d+)?)\s*(k|m|b|g|t|kib|mib|gib|tib|kb|mb|gb|tb)?\s*$", re.I)
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "g": 1e9, "t": 1e12, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}


def parse_target(text: str | int | float, where: str = "target") -> int:
    """A target as a person writes it (10M, 7B, 1.5e9, 350,000,000, 16GiB) as a whole number."""
    if isinstance(text, bool):
        raise SpecError(where, f"expected a count such as 10M, 7B, 1.5e9 or 350,000,000; got {shown(text)}")
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = _TARGET.match(str(text))
        if not m:
            raise SpecError(where, f"expected a count such as 10M, 7B, 1.5e9 or 350,000,000; got {shown(text)}")
        value = float(m.group(1).replace(",", "").replace("_", "")) * _SCALE.get((m.group(2) or "").lower(), 1)
    if not 1 <= value <= limits.MAX_INT:
        raise SpecError(where, f"expected a count from 1 to {limits.MAX_INT:,}; got {shown(text)}")
    return round(value)


def _integer_fields(spec: Spec) -> list[Field]:
    """The config's integer sizes and counts that have a value, the layer counts first."""
    config = measured(spec).config
    found = [f for f in fields_by_name(spec.model_type).values()
             if f.type == "int" and f.minimum is not None and f.minimum >= 1
             and isinstance(getattr(config, f.name, None), int)]
    return sorted(found, key=lambda f: not LAYER_COUNT.search(f.name))


def budget_fields(spec: Spec | dict | str) -> list[dict[str, Any]]:
    """The integer fields a budget can vary for the design (sizes and counts, each with its value now
    and its bounds): what the widget's field picker offers."""
    spec = ready(spec)
    config = measured(spec).config
    return [{"name": f.name, "value": getattr(config, f.name), "minimum": int(f.minimum),
             "maximum": _maximum(f)} for f in _integer_fields(spec)]


def _maximum(f: Field) -> int:
    return int(min(f.maximum, config_limit(f.name)) if f.maximum is not None else config_limit(f.name))


class _Counts:
    """The count of the design with ``name`` at each value asked (None where validation refuses it),
    each value validated and counted once."""

    def __init__(self, spec: Spec, name: str, scale: int):
        self.spec, self.name, self.scale = spec, name, scale
        self.seen: dict[int, int | None] = {}
        self.specs: dict[int, Spec] = {}

    def __call__(self, value: int) -> int | None:
        if value not in self.seen:
            try:
                valid = ready(self.spec.replace(config={**self.spec.config, self.name: value}))
            except SpecError:
                self.seen[value] = None
            else:
                self.specs[value] = valid
                self.seen[value] = measured(valid).summary["total"] * self.scale
        return self.seen[value]

    @property
    def counted(self) -> list[tuple[int, int]]:
        return sorted((v, c) for v, c in self.seen.items() if c is not None)


def _spacing(count: _Counts, start: int, low: int, high: int, where: str) -> int:
    """The distance from ``start`` to its nearest valid neighbour above (below, at the field's maximum):
    the spacing of the valid values."""
    for sign in (1, -1):
        for d in range(1, limits.MAX_BUDGET_SCAN + 1):
            if not low <= start + sign * d <= high:
                break
            if count(start + sign * d) is not None:
                return d
    raise SpecError(where, f"no other value within {limits.MAX_BUDGET_SCAN:,} of {start:,} is valid for this design "
                    "(composer.limits.MAX_BUDGET_SCAN); nothing to search")


def _gallop(g: Callable[[int], int | None], limit: int, reached: Callable[[int], bool]) -> tuple[int, int | None]:
    """Steps 1, 2, 4, … away from 0 (up to ``limit``) until a count ``reached``: (the farthest step that
    did not, the first that did or None). A refused step ends the range below it."""
    near, far, probe = 0, None, 1
    while near < probe <= limit:
        c = g(probe)
        if c is None:
            limit = probe - 1
            probe = (near + probe) // 2
        elif reached(c):
            far = probe
            break
        else:
            near, probe = probe, min(2 * probe, limit)
    return near, far


def _bisect(g: Callable[[int], int | None], near: int, far: int, reached: Callable[[int], bool]) -> tuple[int, int]:
    """Halve the steps between ``near`` (not reached) and ``far`` (reached) until they are neighbours
    among the valid steps."""
    while far - near > 1:
        mid = (near + far) // 2
        probe = next((m for d in range(far - near) for m in (mid + d, mid - d)
                      if near < m < far and g(m) is not None), None)
        if probe is None:
            break
        if reached(g(probe)):
            far = probe
        else:
            near = probe
    return near, far


def _check_monotone(counted: list[tuple[int, int]], where: str, what: str) -> None:
    for (v1, c1), (v2, c2) in zip(counted, counted[1:]):
        if c2 < c1:
            raise SpecError(where, f"the {what} is not monotone in it ({v1:,} gives {c1:,}, {v2:,} gives {c2:,}): "
                            "a budget needs a count that grows with the field")
    if len(counted) > 1 and counted[0][1] == counted[-1][1]:
        raise SpecError(where, f"every value tried ({counted[0][0]:,} to {counted[-1][0]:,}) gives the same {what} "
                        f"({counted[0][1]:,}): the field does not size this design")


def _answer(count: _Counts, spec: Spec, value: int | None, name: str) -> dict[str, Any] | None:
    """A value found, its count, and the other fields that followed it (derived from it by transformers)."""
    if value is None:
        return None
    followed = [{"field": r["field"], "from": r["a"], "to": r["b"]} for r in field_rows(spec, count.specs[value])
                if r["field"] != f"config.{name}"]
    return {"value": value, "count": count(value), "followed": followed}


def budget(spec: Spec | dict | str, target: int | float | str, field: str, measure: str = "parameters",
           dtype: str = "bf16") -> dict[str, Any]:
    """The values of integer config ``field`` closest to ``target`` from below (count <= target) and from
    above (count >= target), each with its count and the fields that followed it; ``measure``
    "parameters" or "memory" (bytes of the weights at ``dtype``). None on a side the field's bounds do
    not reach. ``counts``: the designs counted; ``checked``: the values validated (refused ones too)."""
    if measure not in MEASURES:
        raise SpecError("measure", f"{shown(measure)} is not one of {', '.join(MEASURES)}")
    if measure == "memory" and dtype not in BYTES_PER_PARAM:
        raise SpecError("dtype", f"{shown(dtype)} is not one of {', '.join(BYTES_PER_PARAM)}")
    spec = ready(spec)
    target = parse_target(target)
    name = canonical_name(spec.model_type, field)
    where = f"config.{name}"
    candidates = {f.name: f for f in _integer_fields(spec)}
    if name not in candidates:
        raise SpecError("field", f"{shown(field)} is not an integer size or count of this {spec.model_type} design; "
                        f"choose one of {', '.join(candidates)}")
    f = candidates[name]
    low, high = int(f.minimum), _maximum(f)
    start = getattr(measured(spec).config, name)
    count = _Counts(spec, name, BYTES_PER_PARAM[dtype] if measure == "memory" else 1)
    what = "parameter count" if measure == "parameters" else f"memory at {dtype}"
    now = count(start)
    if now is None:  # a derived value (head_dim) that the design refuses when it is given
        raise SpecError(where, f"the design's own value, {start:,}, is refused when given explicitly; nothing to search")
    below = above = start
    if now != target:
        step = _spacing(count, start, low, high, where)
        up = now < target
        sign = 1 if up else -1
        reached = (lambda c: c >= target) if up else (lambda c: c <= target)
        g = lambda j: count(start + sign * j * step)  # noqa: E731
        near, far = _gallop(g, (high - start) // step if up else (start - low) // step, reached)
        if far is not None:
            near, far = _bisect(g, near, far, reached)
        ends = [start + sign * near * step, None if far is None else start + sign * far * step]
        below, above = ends if up else ends[::-1]
        below, above = _between(count, below, above, low, high, target)
    _check_monotone(count.counted, where, what)
    return {"field": where, "measure": measure, "dtype": dtype if measure == "memory" else None, "target": target,
            "current": {"value": start, "count": now}, "bounds": [low, high],
            "below": _answer(count, spec, below, name), "above": _answer(count, spec, above, name),
            "counts": len(count.counted), "checked": len(count.seen)}


def _between(count: _Counts, below: int | None, above: int | None, low: int, high: int,
             target: int) -> tuple[int | None, int | None]:
    """The integers between the two answers (or a bound), checked one by one: a valid value off the
    lattice, or an exact hit, moves the answer it beats."""
    first, last = (low if below is None else below + 1), (high if above is None else above - 1)
    if last - first >= limits.MAX_BUDGET_SCAN:
        return below, above
    for x in range(first, last + 1):
        c = count(x)
        if c is None:
            continue
        if c > target:
            return below, x
        below = x
        if c == target:
            return x, x
    if below is not None and above is not None and count(above) == target:
        return above, above
    return below, above


# ----- as text --------------------------------------------------------------------------------------


def _amount(result: dict[str, Any], n: int) -> str:
    return f"{n:,} bytes ({human(n, 'B')})" if result["measure"] == "memory" else f"{n:,} ({human(n)})"


def format_budget(result: dict[str, Any]) -> str:
    """The text the command line prints."""
    what = "parameters" if result["measure"] == "parameters" else f"bytes of weights at {result['dtype']}"
    now = result["current"]
    lines = [f"{result['field']} for {result['target']:,} {what} (now {now['value']:,}: {_amount(result, now['count'])})"]
    low, high = result["bounds"]
    for side, bound in (("below", low), ("above", high)):
        got = result[side]
        if got is None:
            lines.append(f"  {side:<6} none: {'the smallest' if side == 'below' else 'the largest'} value allowed "
                         f"({bound:,}) does not reach it")
            continue
        followed = "; ".join(f"{r['field']} {r['from']} → {r['to']}" for r in got["followed"])
        lines.append(f"  {side:<6} {got['value']:>10,}  {_amount(result, got['count'])}"
                     + (f"  (followed: {followed})" if followed else ""))
    lines.append(f"  {result['counts']} designs counted, {result['checked']} values checked")
    return "\n".join(lines) + "\n"
