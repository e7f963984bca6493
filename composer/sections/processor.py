"""The ``processor`` section: a ProcessorMixin class that combines the design's other parts. Only the
processor is saved, so each part it combines must be in the Spec and no part may be left out of it
(it would silently vanish from the checkpoint)."""

from __future__ import annotations

from typing import Any

from composer.classes import processor_attributes, transformers_class
from composer.errors import SpecError, one_line
from composer.plan import Ref, Step
from composer.sections.parts import PART_KINDS
from composer.sections.section import Section
from composer.spec import Spec

# What a processor may combine, besides the tokenizer.
PARTS = ("tokenizer", *PART_KINDS)


def validate(spec: Spec) -> dict[str, Any]:
    if spec.processor is None:
        return {"processor": None}
    cls = transformers_class(spec.processor, "ProcessorMixin", "processor", "Wav2Vec2Processor")
    parts = processor_attributes(cls)
    for attr in parts:
        if getattr(spec, attr, None) is None:
            raise SpecError("processor", f"{spec.processor} combines {', '.join(parts)}; the spec has no {attr}")
    for attr in PARTS:
        if attr not in parts and getattr(spec, attr) is not None:
            raise SpecError(attr, f"{spec.processor} combines only {', '.join(parts)}; remove {attr} or "
                            "choose a processor that uses it")
    return {"processor": spec.processor}


def steps(spec: Spec) -> list[Step]:
    if spec.processor is None:
        return []
    cls = transformers_class(spec.processor, "ProcessorMixin", "processor", "Wav2Vec2Processor")
    return [Step("processor", spec.processor, (), {a: Ref(a) for a in processor_attributes(cls)})]


def failed(spec: Spec, target: str, err: Exception) -> SpecError:
    return SpecError("processor", one_line(err))


SECTION = Section(keys=("processor",), validate=validate, steps=steps, failed=failed, reads=PARTS)
