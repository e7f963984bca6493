"""What a built model holds, from one walk of its module tree: parameters (total, trainable,
embeddings), memory by dtype, the module tree with each block's count, the bytes of its weights.

Embeddings are what a reader calls so: token and position tables (``nn.Embedding``), the tables and
tokens an embeddings module holds itself (ViT's position_embeddings and cls_token), and a patch
embedding's projection (ViT's ``patch_embeddings`` convolution): ViT's ViTEmbeddings is 742,656 of them.
"""

from __future__ import annotations

import re
from typing import Any

BYTES_PER_PARAM = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}
_EMBEDDINGS = re.compile(r"Embeddings?$")  # a module of embedding tables: what it holds itself counts
_PATCH = re.compile(r"patch_?embed", re.IGNORECASE)  # a patch embedding (class or attribute): all of it counts


def holds_embeddings(name: str, module) -> bool:
    """A token or position table, a module of them, or a patch embedding (by class or attribute name)."""
    import torch

    cls = type(module).__name__
    return isinstance(module, torch.nn.Embedding) or bool(_EMBEDDINGS.search(cls) or _PATCH.search(cls)
                                                           or _PATCH.search(name))


def with_total(summary: dict[str, Any]) -> dict[str, Any]:
    """The summary with total and memory taken from its tree's root."""
    total = summary["tree"]["params"]
    return {**summary, "total": total, "memory": {dtype: total * size for dtype, size in BYTES_PER_PARAM.items()}}


def summarize_model(model) -> dict[str, Any]:
    """The summary of a built model (any device), from one walk of its module tree: on a 70B design
    each extra pass (``parameters()``, ``modules()``) costs as much as the rest of the summary."""
    unique: dict[int, Any] = {}  # every parameter once: tied tensors (one object, two names) count once
    embedding_ids: set[int] = set()

    def walk(name: str, module, in_patch: bool) -> tuple[dict[str, Any], dict[int, int]]:
        own = {id(p): p for p in module._parameters.values() if p is not None}
        unique.update(own)
        cls = type(module).__name__
        in_patch = in_patch or bool(_PATCH.search(cls) or _PATCH.search(name))
        if in_patch or holds_embeddings(name, module):
            embedding_ids.update(own)
        sizes = {key: p.numel() for key, p in own.items()}
        children = []
        for child_name, child in module.named_children():
            node, child_sizes = walk(child_name, child, in_patch)
            children.append(node)
            sizes.update(child_sizes)
        return {"name": name, "class": cls, "params": sum(sizes.values()), "children": children}, sizes

    tree, sizes = walk(type(model).__name__, model, False)
    return with_total({
        "architecture": type(model).__name__,
        "trainable": sum(sizes[key] for key, p in unique.items() if p.requires_grad),
        "embeddings": sum(sizes[key] for key in embedding_ids),
        "tree": tree,
    })


def weight_bytes(model) -> int:
    """Bytes of a (meta) model's parameters and buffers, each tied tensor once."""
    tensors = {id(t): t for t in (*model.parameters(), *model.buffers())}
    return sum(t.numel() * t.element_size() for t in tensors.values())
