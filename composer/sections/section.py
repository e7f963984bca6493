"""What every Spec section is to the engine: one small interface, so that validating, planning and
building a design are loops over sections and no section's rules live anywhere else."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from composer.errors import SpecError
from composer.plan import Step
from composer.spec import Spec


def _no_files(spec: Spec) -> tuple:
    return ()


@dataclass(frozen=True)
class Section:
    # The Spec attributes the section owns; its errors are at fields under them.
    keys: tuple[str, ...]
    # The normalised values of those attributes (None where absent), or SpecError at a field.
    validate: Callable[[Spec], dict[str, Any]]
    # The calls into transformers that make the section's object, for `build` and `codegen`.
    steps: Callable[[Spec], list[Step]]
    # A failure of one of its steps as one line at the field it is about.
    failed: Callable[[Spec, str, Exception], SpecError]
    # Other Spec attributes that its validation reads (the section's cache key includes them).
    reads: tuple[str, ...] = ()
    # What the files the section reads look like now (names, sizes, mtimes): a cached check holds
    # only while they do.
    files: Callable[[Spec], tuple] = _no_files

    @property
    def name(self) -> str:
        return self.keys[0]
