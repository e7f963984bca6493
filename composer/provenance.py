"""Where every weight of a pretrained design comes from (issue 12), before anything is built: loaded from
the checkpoint, new (initialised afresh: a new head, added layers), resized (the checkpoint's tensor has
another shape) or unused (in the checkpoint, not in the design: dropped layers, the old head).

It is read from the checkpoint's safetensors headers and the design's meta model only, decided as
transformers' loader decides it (composer.folder_check.match), so that the figures are those
``from_pretrained(..., output_loading_info=True)`` reports. The design's ``resized`` says what a resized
tensor does: "refuse" the design at validation, at the config field that changed its shape, or
"reinitialise" it (``ignore_mismatched_sizes=True``). Kept per design and per state of the folder's files.
"""

from __future__ import annotations

import math
import re
from collections import Counter, OrderedDict
from typing import Any

from composer import catalog, folder_check, hub, limits, repeats
from composer.errors import SpecError
from composer.paths import stamp
from composer.spec import Spec

MARKS = ("loaded", "new", "resized", "unused")
# What each mark means, as the views' legend says it.
LEGEND = {"loaded": "from the checkpoint", "new": "not in the checkpoint: initialised afresh",
          "resized": "the checkpoint's has another shape", "unused": "in the checkpoint, not in the design"}
_NUMBERED = re.compile(r"^(.*\.)?(\d+)$")

_FOUND: OrderedDict[tuple, tuple[folder_check.Folder, folder_check.Provenance]] = OrderedDict()


def found(spec: Spec) -> tuple[folder_check.Folder, folder_check.Provenance] | None:
    """(the folder, how its weights fill the design) for a validated design with a local pretrained folder;
    None for no ``pretrained`` or a hub id (its files are not read before it is fetched)."""
    if spec.pretrained is None:
        return None
    key = (spec.key(), stamp(spec.pretrained))
    if key not in _FOUND:
        folder = hub.local_folder(spec.pretrained)
        if folder is None:
            return None
        _FOUND[key] = folder, folder_check.match(folder, repeats.measured(spec).model)
        while len(_FOUND) > limits.MAX_CACHED_SUMMARIES:
            _FOUND.popitem(last=False)
    _FOUND.move_to_end(key)
    return _FOUND[key]


def check(spec: Spec) -> None:
    """Refuse a pretrained design whose checkpoint names match nothing (every weight would be random), or
    that resizes a tensor while its ``resized`` is "refuse": one line at the config field that changed the
    shape when one can tell (else at ``pretrained``), with the tensor and both shapes."""
    got = found(spec)
    if got is None:
        return
    folder, provenance = got
    try:
        folder_check.refuse_random(folder, provenance)
    except SpecError as err:
        raise SpecError("pretrained", str(err)) from None
    resized = [w for w in provenance.weights.values() if w.status == "resized"]
    if not resized or spec.resized == "reinitialise":
        return
    w = resized[0]
    field = _cause(spec, folder, w)
    more = f" (and {len(resized) - 1:,} more)" if len(resized) > 1 else ""
    which = "those" if len(resized) > 1 else "it"
    where = "" if field != "pretrained" else f"{w.file}: "
    raise SpecError(field, f"{where}{w.source} is {list(w.checkpoint_shape)} in the checkpoint, {list(w.shape)} in "
                    f'the design{more}; set "resized": "reinitialise" to start {which} afresh')


def _cause(spec: Spec, folder: folder_check.Folder, weight: folder_check.Weight) -> str:
    """The config field of the design whose change resized ``weight``: an override that differs from the
    checkpoint's config by a size the tensor's shape changed by (exactly, else in proportion: 2 of 8 key-value
    heads make 128 of 512 rows); "pretrained" when no override explains it (the folder's config and weights
    disagree)."""
    design = repeats.measured(spec).config
    try:
        original = catalog.config_class(spec.model_type).from_dict(dict(folder.json[folder_check.CONFIG]))
    except Exception:  # a config.json the class cannot take as a dict: nothing to compare with
        return "pretrained"
    changed = [(d, c) for d, c in zip(weight.shape, weight.checkpoint_shape) if d != c] \
        if len(weight.shape) == len(weight.checkpoint_shape) else []
    in_proportion = None
    for key in spec.config:
        a, b = getattr(design, key, None), getattr(original, key, None)
        if not (isinstance(a, int) and isinstance(b, int)) or isinstance(a, bool) or a == b:
            continue
        if (a, b) in changed:
            return f"config.{key}"
        if in_proportion is None and any(d * b == c * a for d, c in changed):
            in_proportion = key
    return f"config.{in_proportion}" if in_proportion else "pretrained"


# ----- the summary's marks ---------------------------------------------------------------------


def _mark(provenance: folder_check.Provenance, weight: folder_check.Weight) -> str:
    """A tied tensor is marked as the tensor it shares."""
    while weight.status == "tied":
        weight = provenance.weights[weight.tied_to]
    return weight.status


def _home(name: str, modules: set[str], prefix: str) -> str:
    """The deepest module of the design an unused tensor name falls under ("" for the model itself), with the
    base-model prefix added or removed as fits best: MiniLM's "encoder.layer.5.output.dense.weight" falls under
    a BertForSequenceClassification's "bert.encoder.layer"."""
    def under(n: str) -> str:
        while n and n not in modules:
            n = n.rpartition(".")[0]
        return n

    names = (name, f"{prefix}.{name}", name.removeprefix(f"{prefix}.")) if prefix else (name,)
    return max((under(n.rpartition(".")[0]) for n in names), key=lambda n: n.count(".") + bool(n))


def group(name: str, prefix: str) -> str:
    """The block a tensor belongs to, for lists: up to its first layer number ("encoder.layer.3"), else its
    first part under the base model ("bert.pooler", "classifier")."""
    parts = name.split(".")[:-1] or name.split(".")
    for i, part in enumerate(parts):
        if part.isdigit():
            return ".".join(parts[:i + 1])
    head = 2 if parts[0] == prefix and len(parts) > 1 else 1
    return ".".join(parts[:head])


def groups(names: list[str], prefix: str) -> list[dict[str, Any]]:
    """Tensor names as the blocks they are in, consecutive layers folded: [{"block": "encoder.layer.3–5",
    "tensors": 48}, {"block": "pooler", "tensors": 2}], in order of first appearance."""
    counts: Counter[str] = Counter(group(n, prefix) for n in names)
    out: list[dict[str, Any]] = []
    for block, n in counts.items():
        m = _NUMBERED.match(block)
        last = out[-1] if out else None
        if m and last and last.get("_parent") == m.group(1) and last["_last"] + 1 == int(m.group(2)):
            last.update(_last=int(m.group(2)), tensors=last["tensors"] + n,
                        block=f"{m.group(1)}{last['_first']}–{m.group(2)}")
            continue
        out.append({"block": block, "tensors": n, "_parent": m and m.group(1), "_first": m and int(m.group(2)),
                    "_last": m and int(m.group(2))})
    return [{"block": g["block"], "tensors": g["tensors"]} for g in out]


_MARKED: OrderedDict[tuple, dict[str, Any]] = OrderedDict()


def marked(spec: Spec, summary: dict[str, Any]) -> dict[str, Any]:
    """The summary of a validated design (``summary``, its own) with where its weights come from: each module
    of the tree with its tensors counted by mark ("weights"), and "provenance": the folder, the policy, totals
    per mark (tensors and parameters), every tensor, and the blocks of the new, resized and unused ones.
    Unchanged without a local pretrained folder; kept like ``found``."""
    got = found(spec)
    if got is None:
        return summary
    key = (spec.key(), stamp(spec.pretrained))
    if key not in _MARKED:
        _MARKED[key] = _marked(spec, summary, *got)
        while len(_MARKED) > limits.MAX_CACHED_SUMMARIES:
            _MARKED.popitem(last=False)
    _MARKED.move_to_end(key)
    return _MARKED[key]


def _marked(spec: Spec, summary: dict[str, Any], folder: folder_check.Folder,
            provenance: folder_check.Provenance) -> dict[str, Any]:
    model = repeats.measured(spec).model
    prefix = model.base_model_prefix
    marks = {name: _mark(provenance, w) for name, w in provenance.weights.items()}
    own: dict[str, dict[str, int]] = {}  # module path -> its own tensors by mark
    modules = set(_tree_paths(summary["tree"]))
    homes = [(name.rpartition(".")[0], mark) for name, mark in marks.items()]
    homes += [(_home(name, modules, prefix), "unused") for name in provenance.unused]
    for path, mark in homes:
        counts = own.setdefault(path, {})
        counts[mark] = counts.get(mark, 0) + 1
    totals = {mark: {"tensors": 0, "parameters": 0} for mark in MARKS}
    for mark in marks.values():
        totals[mark]["tensors"] += 1
    for name, p in model.named_parameters():  # each tensor once: a tied one counts where it is first
        totals[marks.get(name, "new")]["parameters"] += p.numel()
    for w in provenance.unused.values():
        totals["unused"]["tensors"] += 1
        totals["unused"]["parameters"] += math.prod(w.shape)
    listed = {mark: [n for n, m in marks.items() if m == mark] for mark in ("new", "resized")}
    return {**summary, "tree": _with_marks(summary["tree"], "", own)[0], "provenance": {
        "folder": str(folder.path), "resized": spec.resized, "totals": totals,
        "legend": [{"mark": mark, "means": LEGEND[mark]} for mark in MARKS],
        "tensors": [_row(w) for w in provenance.weights.values()],
        "unused": [_row(w) for w in provenance.unused.values()],
        "blocks": {**{mark: groups(names, prefix) for mark, names in listed.items()},
                   "unused": groups(list(provenance.unused), prefix)},
    }}


def _row(w: folder_check.Weight) -> dict[str, Any]:
    row = {"name": w.name, "status": w.status, "shape": list(w.shape)}
    if w.source is not None:
        row["source"] = w.source
    if w.checkpoint_shape is not None and w.checkpoint_shape != w.shape:
        row["checkpoint_shape"] = list(w.checkpoint_shape)
    if w.tied_to is not None:
        row["tied_to"] = w.tied_to
    return row


def _tree_paths(node: dict[str, Any], path: str = ""):
    yield path
    for child in node["children"]:
        yield from _tree_paths(child, f"{path}.{child['name']}" if path else child["name"])


def _with_marks(node: dict[str, Any], path: str, own: dict[str, dict[str, int]]) -> tuple[dict[str, Any], dict]:
    """The tree with each module's tensors counted by mark, its own and its children's (and those counts)."""
    counts = dict(own.get(path, {}))
    children = []
    for child in node["children"]:
        marked_child, below = _with_marks(child, f"{path}.{child['name']}" if path else child["name"], own)
        children.append(marked_child)
        for mark, n in below.items():
            counts[mark] = counts.get(mark, 0) + n
    return {**node, "weights": {mark: counts[mark] for mark in MARKS if counts.get(mark)}, "children": children}, counts


def in_words(counts: dict[str, int]) -> str:
    """{"loaded": 16, "new": 2} as "16 loaded, 2 new"."""
    return ", ".join(f"{counts[mark]:,} {mark}" for mark in MARKS if counts.get(mark))
