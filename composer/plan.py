"""A Spec as a short list of calls into transformers: the one recipe that `build` executes and
`codegen` prints, so the exported code and the engine cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Ref:
    """A variable made by an earlier step (``config``, ``tokenizer``, …), or an attribute of one
    (``trained.backend_tokenizer``)."""

    name: str


@dataclass(frozen=True)
class Expr:
    """A Python expression over builtins only (e.g. reading a training text file)."""

    source: str


@dataclass
class Step:
    """``target = callee(*args, **kwargs)``; callee is a transformers name, ``torch.…`` or ``var.method``,
    or "" for ``target = args[0]``: data that later steps read (a tokenizer's training text)."""

    target: str | None
    callee: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    # Arguments the engine adds at run time but the exported code leaves out (e.g. local_files_only
    # for a cached hub id when offline).
    run_kwargs: dict[str, Any] = field(default_factory=dict)
    # For a costly step that always gives the same result (training a BPE tokenizer): the digest of
    # what it reads; the engine computes it once per process per digest. The exported code runs it.
    memo: str = ""

    def imports(self) -> set[str]:
        head = self.callee.split(".")[0]
        return {head} if head[:1].isupper() else set()


def transformers_names(steps: list[Step]) -> list[str]:
    """The names the exported code imports from transformers, sorted."""
    return sorted(set().union(*(s.imports() for s in steps)))
