"""A design's summary with its repeated blocks counted once and multiplied, exactly.

Building a design on the meta device costs about 1-2 ms per layer, almost all of it transformers' own
``__init__`` of each block: 80 layers of a 70B Llama, or a thousand of anything, keep an edit waiting.
Most of those blocks are identical, so the design is built with a few layers instead (``k`` for every
layer count of its config, and ``k + 1`` for each count in turn), and the full summary is what those
builds say one more block adds, multiplied. It is only used when it is provably what the full build
gives:

* the few-layer builds must show a tail of at least two identical blocks in every list that grows
  (a first block with its own relative-position table, as T5's, may differ: it stays as it is);
* adding one layer must add exactly one copy of that block, nothing else (checked by predicting the
  ``k + 1`` build's whole summary from the ``k`` build and comparing);
* ``k`` is large enough to show any per-layer pattern an integer of the config could set up (a first
  ``first_k_dense_replace`` layers, a MoE layer every ``decoder_sparse_step``), and a per-layer list of
  the config (``layer_types``) must be uniform.

Otherwise, and for a ``pretrained`` design (its weights are matched against the real model), the model
is built whole.
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from typing import Any, NamedTuple

from composer import limits
from composer.build import build_config, build_meta_model, build_model
from composer.counting import summarize_model, weight_bytes, with_total
from composer.domains import LAYER_COUNT
from composer.spec import Spec

# Integers of a config that may mark a layer index (a boundary or a period of a per-layer pattern):
# those whose name says so, and those the modeling code reads on a line with a layer index.
_INDEX_NAME = re.compile(r"layer|dense|sparse|freq|period|interval|offset|every|step|replace|first|last|pattern"
                         r"|start|end|indices|indexes")
_INDEX_LINE = re.compile(r"\b(layer_idx|layer_id|layer_index|layer_number|layer_num)\b")
_READ = re.compile(r"config\.(\w+)")


@functools.cache
def _read_with_an_index(config_module: str) -> frozenset[str]:
    """Config attributes the modeling files next to the config read on a line with a layer index."""
    import pathlib
    import sys

    module = sys.modules.get(config_module)
    if module is None or not getattr(module, "__file__", None):
        return frozenset()
    names: set[str] = set()
    for path in pathlib.Path(module.__file__).parent.glob("modeling_*.py"):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if _INDEX_LINE.search(line):
                names.update(_READ.findall(line))
    return frozenset(names)


class Measured(NamedTuple):
    """What the edit path needs of a built design: its summary, its weights' bytes, its config, and the
    meta model the summary was read from (the few-layer variant, or the whole model)."""

    summary: dict[str, Any]
    weight_bytes: int
    config: Any
    model: Any


def _layer_counts(config, given: dict[str, Any]) -> dict[str, int] | None:
    """The config's top-level layer counts (name -> value); None when a per-layer list the person
    gave, or one transformers derived, is not uniform (its layers may differ)."""
    attrs = {k: v for k, v in vars(config).items() if not k.startswith("_")}
    counts = {k: v for k, v in attrs.items()
              if LAYER_COUNT.search(k) and isinstance(v, int) and not isinstance(v, bool) and v > 0}
    for name, value in attrs.items():
        if isinstance(value, (list, tuple)) and len(value) in counts.values() and len(value) > 1:
            if name in given or any(v != value[0] for v in value):
                return None
    return counts


def _rest(config, counts: dict[str, int]) -> dict[str, Any]:
    """The config's attributes but its layer counts and the per-layer lists they size."""
    sizes = set(counts.values()) | {getattr(config, name) for name in counts}
    return {k: v for k, v in vars(config).items() if k not in counts and not k.startswith("_")
            and not (isinstance(v, (list, tuple)) and len(v) in sizes)}


def _pattern_size(config, counts: dict[str, int]) -> int:
    """Layers enough to show any pattern an integer of the config that may mark a layer index sets
    up (composer.repeats' _INDEX_NAME, or read with a layer index): past its largest value below a
    layer count, twice over (a period shows twice); at least two."""
    top = max(counts.values())
    read = _read_with_an_index(type(config).__module__)
    marks = [0]
    for name, value in vars(config).items():
        if name in counts or name.startswith("_") or not (name in read or _INDEX_NAME.search(name)):
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        marks += [v for v in values if isinstance(v, int) and not isinstance(v, bool) and 0 < v < top]
    return 2 * max(marks) + 2


def _reduced_size(config, counts: dict[str, int]) -> int:
    """The few-layer builds' size: the pattern's, and never fewer than three (a first block that may
    differ and a tail of two identical ones, which the summary's proof compares)."""
    return max(3, _pattern_size(config, counts))


def _template(node: dict[str, Any]) -> dict[str, Any] | None:
    """The repeated block at the end of a list node: its last child when the one before is the same
    block (same classes and counts all the way down), named by index."""
    kids = node["children"]
    if len(kids) < 2 or any(k["name"] != str(i) for i, k in enumerate(kids)):
        return None
    last, before = kids[-1], kids[-2]
    return last if {**before, "name": last["name"]} == last else None


def _grown_paths(a: dict[str, Any], b: dict[str, Any], path: tuple[str, ...] = ()) -> list[tuple[str, ...]] | None:
    """Paths (child names from the root) of the nodes with one more child in ``b``; None if the two
    trees differ in any other way than the counts that follow from it."""
    if a["name"] != b["name"] or a["class"] != b["class"]:
        return None
    if len(b["children"]) == len(a["children"]) + 1:
        return [path] if _template(a) is not None else None
    if len(b["children"]) != len(a["children"]):
        return None
    out: list[tuple[str, ...]] = []
    for x, y in zip(a["children"], b["children"]):
        found = _grown_paths(x, y, (*path, x["name"]))
        if found is None:
            return None
        out += found
    return out


def _expanded(node: dict[str, Any], extra: dict[tuple[str, ...], int], path: tuple[str, ...] = ()) -> dict[str, Any]:
    """The tree with ``extra[path]`` more copies of each grown list's block (shared, read-only)."""
    if path in extra:
        block = _template(node)
        kids = node["children"]
        more = [{**block, "name": str(len(kids) + i)} for i in range(extra[path])]
        return {**node, "params": node["params"] + extra[path] * block["params"], "children": [*kids, *more]}
    if not any(p[:len(path)] == path for p in extra):
        return node
    children = [_expanded(c, extra, (*path, c["name"])) for c in node["children"]]
    added = sum(c["params"] for c in children) - sum(c["params"] for c in node["children"])
    return {**node, "params": node["params"] + added, "children": children}


class _Built(NamedTuple):
    summary: dict[str, Any]
    weight_bytes: int
    blocks: dict[tuple[str, ...], tuple[dict[str, Any], int]]  # grown path -> block summary, block bytes


def _predicted(base: _Built, extra: dict[tuple[str, ...], int]) -> tuple[dict[str, Any], int]:
    """The summary and weight bytes of ``base`` with ``extra`` more blocks in each grown list."""
    s = base.summary
    tree = _expanded(s["tree"], extra)
    trainable, embeddings, weights = s["trainable"], s["embeddings"], base.weight_bytes
    for path, n in extra.items():
        block, block_bytes = base.blocks[path]
        trainable += n * block["trainable"]
        embeddings += n * block["embeddings"]
        weights += n * block_bytes
    return with_total({**s, "tree": tree, "trainable": trainable, "embeddings": embeddings}), weights


_BUILT: OrderedDict[str, tuple[dict[str, Any], int, Any]] = OrderedDict()


def _build(spec: Spec) -> tuple[dict[str, Any], int, Any]:
    """(summary, weight bytes, model) of a few-layer variant, cached: an edit of a layer count builds
    the same few-layer variants as the edit before it."""
    key = spec.key()
    if key not in _BUILT:
        model = build_model(spec, device="meta")
        _BUILT[key] = (summarize_model(model), weight_bytes(model), model)
        while len(_BUILT) > limits.MAX_CACHED_VARIANTS:
            _BUILT.popitem(last=False)
    _BUILT.move_to_end(key)
    return _BUILT[key]


class Reduced(NamedTuple):
    """The few-layer variants a design is counted by: every layer count at ``k`` (``base``), and for
    each count in turn the design with that count at ``k + 1`` and how many more blocks the full
    design has (``grown``: count name -> (spec, extra blocks)). composer.training measures these."""

    base: Spec
    grown: dict[str, tuple[Spec, int]]


def _reduced(spec: Spec, config) -> tuple[Reduced, dict[str, int], int] | None:
    """The few-layer variants of a design worth building (its counts past twice ``k + 1``), with those
    counts and ``k``; None for a pretrained design or one with no such count."""
    if spec.pretrained is not None:
        return None
    counts = _layer_counts(config, spec.config)
    if not counts:
        return None
    k = _reduced_size(config, counts)
    counts = {name: n for name, n in counts.items() if n > 2 * (k + 1)}
    if not counts:
        return None
    return _variants(spec, counts, k), counts, k


def _variants(spec: Spec, counts: dict[str, int], k: int) -> Reduced:
    small = {**spec.config, **{name: k for name in counts}}
    grown = {name: (spec.replace(config={**small, name: k + 1}), n - k) for name, n in counts.items()}
    return Reduced(spec.replace(config=small), grown)


def reduced(spec: Spec, fewest: bool = False) -> Reduced | None:
    """The few-layer variants of a validated design when they give its summary exactly (measure), else
    None: then only the whole design says what it holds. ``fewest``: the same counts at the fewest layers
    that show the config's pattern (two, for most): what the training plan runs, a step on fake tensors
    costing about the same for each block. What one more block adds is the same there, the summary's
    proof having shown every block after the first to be one copy of the same."""
    config = build_config(spec)
    found = _reduced(spec, config)
    if found is None or measure(spec, config) is None:
        return None
    variants, counts, k = found
    return _variants(spec, counts, _pattern_size(config, counts)) if fewest else variants


def variant_model(spec: Spec):
    """The meta model of a few-layer variant (Reduced), cached and shared: copy it before changing it."""
    return _build(spec)[2]


def measure(spec: Spec, config=None) -> Measured | None:
    """The full design's Measured from few-layer builds, or None when that would not be exact (or
    would not be faster): then the caller builds the model whole. Errors propagate as the build's.
    ``config``: the Spec's config already built."""
    if spec.pretrained is not None:
        return None
    config = build_config(spec) if config is None else config
    found = _reduced(spec, config)
    if found is None:
        return None
    variants, counts, k = found
    try:
        summary, weights, model = _build(variants.base)
        if _rest(model.config, counts) != _rest(config, counts) or any(
                getattr(model.config, name) != k for name in counts):  # a count derived from another one
            return None
        blocks: dict[tuple[str, ...], tuple[dict[str, Any], int]] = {}
        growth: dict[str, list[tuple[str, ...]]] = {}
        for name in counts:
            bigger, _, _ = _build(variants.grown[name][0])
            paths = _grown_paths(summary["tree"], bigger["tree"])
            if paths is None:
                return None
            growth[name] = paths
            for path in paths:
                block = model.get_submodule(".".join((*path, _template(_node(summary["tree"], path))["name"])))
                blocks[path] = (summarize_model(block), weight_bytes(block))
        base = _Built(summary, weights, blocks)
        for name, paths in growth.items():
            bigger, bigger_bytes, _ = _build(variants.grown[name][0])
            if _predicted(base, {p: 1 for p in paths}) != (bigger, bigger_bytes):
                return None
    except Exception:  # a few-layer variant the config refuses: the whole build says what is wrong
        return None
    extra = {p: counts[name] - k for name, paths in growth.items() for p in paths}
    if len(extra) != sum(map(len, growth.values())):  # one list grown by two counts
        return None
    full, full_bytes = _predicted(base, extra)
    return Measured(full, full_bytes, config, model)


_MEASURED: OrderedDict[str, Measured] = OrderedDict()


def measured(spec: Spec) -> Measured:
    """The Measured of a validated design, cached by design: few-layer builds where they are exact,
    else the whole model on the meta device (composer.build.build_meta_model)."""
    key = spec.key()
    if key not in _MEASURED:
        config = None if spec.pretrained is not None else build_config(spec)  # built once, for either way
        got = None if config is None else measure(spec, config)
        if got is None:
            model = build_meta_model(spec, config)
            got = Measured(summarize_model(model), weight_bytes(model), model.config, model)
        _MEASURED[key] = got
        while len(_MEASURED) > limits.MAX_CACHED_SUMMARIES:
            _MEASURED.popitem(last=False)
    _MEASURED.move_to_end(key)
    return _MEASURED[key]


def _node(tree: dict[str, Any], path: tuple[str, ...]) -> dict[str, Any]:
    for name in path:
        tree = next(c for c in tree["children"] if c["name"] == name)
    return tree
