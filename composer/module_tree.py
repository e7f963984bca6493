"""A summary's module tree made small to send and read: runs of identical numbered siblings (a
ModuleList's 80 decoder layers) folded into one block, and two trees aligned by path for a comparison.

Pure data (the ``tree`` of composer.summary): no torch, so a widget can import it before torch loads.
"""

from __future__ import annotations

from typing import Any, Callable


def _signature(node: dict[str, Any]) -> tuple:
    return (node["class"], node["params"], tuple(node.get("weights", {}).items()),
            tuple(_signature(c) for c in node["children"]))


def _runs(children: list[dict[str, Any]], signature: Callable[[dict[str, Any]], Any]) -> list[list[dict[str, Any]]]:
    """Children grouped into runs of numbered siblings with the same signature; every other child is a
    run of one. Named siblings (q_proj, k_proj, …) stay apart even when alike."""
    runs: list[list[dict[str, Any]]] = []
    for child in children:
        last = runs[-1] if runs else None
        if last and child["name"].isdigit() and last[-1]["name"].isdigit() and signature(child) == signature(last[0]):
            last.append(child)
        else:
            runs.append([child])
    return runs


def _run_name(run: list[dict[str, Any]]) -> str:
    return f"{run[0]['name']}–{run[-1]['name']}"


def compact(node: dict[str, Any]) -> dict[str, Any]:
    """The module tree with runs of identical numbered siblings folded into one block
    ``{"name": "0–79", "repeat": 80, "params": <all 80>, "each": <one>}``: small to send, quick to draw.
    Layers whose weights come from elsewhere (a pretrained design's loaded ones and new ones: their
    ``weights``, tensors by composer.provenance mark) are not alike."""
    children = []
    for run in _runs(node["children"], _signature):
        first = compact(run[0])
        if len(run) > 1:
            n = len(run)
            first = {**first, "name": _run_name(run), "repeat": n, "each": first["params"],
                     "params": first["params"] * n,
                     **({"weights": {m: k * n for m, k in first["weights"].items()}} if "weights" in first else {})}
        children.append(first)
    out = {"name": node["name"], "class": node["class"], "params": node["params"], "children": children}
    if "weights" in node:
        out["weights"] = node["weights"]
    return out


# ----- two trees aligned ----------------------------------------------------------------------------

MARKS = ("same", "changed", "added", "removed")


def _side(node: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if node is None else {"class": node["class"], "params": node["params"]}


def _merged_names(a: list[dict[str, Any]], b: list[dict[str, Any]]) -> list[str]:
    """Child names of both, in A's order with B's own ones placed after the A child they follow in B
    (after all of A's when the two share none: a different model's parts)."""
    names = [c["name"] for c in a]
    known = set(names)
    at = 0 if any(c["name"] in known for c in b) else len(names)
    for child in b:
        name = child["name"]
        if name in known:
            at = names.index(name) + 1
        else:
            names.insert(at, name)
            known.add(name)
            at += 1
    return names


def _aligned(a: dict[str, Any] | None, b: dict[str, Any] | None, name: str) -> dict[str, Any]:
    kids_a = {c["name"]: c for c in a["children"]} if a else {}
    kids_b = {c["name"]: c for c in b["children"]} if b else {}
    children = [_aligned(kids_a.get(n), kids_b.get(n), n)
                for n in _merged_names(a["children"] if a else [], b["children"] if b else [])]
    if a is None:
        mark = "added"
    elif b is None:
        mark = "removed"
    elif a["class"] != b["class"] or a["params"] != b["params"] or any(c["mark"] != "same" for c in children):
        mark = "changed"
    else:
        mark = "same"
    return {"name": name, "mark": mark, "a": _side(a), "b": _side(b),
            "delta": (b["params"] if b else 0) - (a["params"] if a else 0), "children": children}


def _aligned_signature(node: dict[str, Any]) -> tuple:
    return (node["mark"], node["a"] and tuple(node["a"].values()), node["b"] and tuple(node["b"].values()),
            tuple(_aligned_signature(c) for c in node["children"]))


def _fold(node: dict[str, Any]) -> dict[str, Any]:
    children = []
    for run in _runs(node["children"], _aligned_signature):
        first = _fold(run[0])
        if len(run) > 1:
            n = len(run)
            scaled = {key: None if first[key] is None else {**first[key], "params": first[key]["params"] * n,
                                                            "each": first[key]["params"]}
                      for key in ("a", "b")}
            first = {**first, **scaled, "name": _run_name(run), "repeat": n, "delta": first["delta"] * n}
        children.append(first)
    return {**node, "children": children}


def align(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """The two module trees as one, matched by path (the roots with each other whatever their class):
    each node has ``mark`` (same, changed, added: only in B, removed: only in A), its class and
    parameters on each side (``a``, ``b``; None where it is missing) and ``delta`` (B less A); a node
    is changed when its class, its count or anything under it differs. Runs of numbered siblings
    alike on both sides fold as ``compact`` folds them (``"0–59"``, ``repeat`` 60, each side's ``each``)."""
    return _fold(_aligned(a, b, b["name"] if a["name"] == b["name"] else f"{a['name']} → {b['name']}"))
