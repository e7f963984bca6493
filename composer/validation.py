"""Check a Spec against the installed transformers and return it normalised.

Normalised means: aliases replaced by the attributes they stand for (``hidden_size`` → ``dim``),
values equal to the class default dropped (the config diff stays minimal), and the guide's silent
5.x traps corrected with a warning or refused with a message. Each rule lives in its section
(composer.sections); this is the loop over them.
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from composer import catalog, provenance, sections
from composer.repeats import measured
from composer.sections import config as config_section
from composer.spec import Spec, as_spec


def validate(spec: Spec | dict, deep: bool = True) -> Spec:
    """The normalised Spec, or SpecError. ``deep`` also builds config and model on the meta device,
    so that cross-field errors transformers would raise later (e.g. ``dim`` not divisible by
    ``n_heads``) are caught now, named, and never surface as a traceback."""
    spec = as_spec(spec)
    catalog.check_model_type(spec.model_type)
    normal: dict = {"model_type": spec.model_type}
    for section in sections.SECTIONS:
        normal.update(sections.check(section, spec))
    normal = Spec(**normal)
    if deep:
        config_section.check_built(measured(normal).config)
        provenance.check(normal)  # a pretrained design's weights: none matching, or resized under "refuse"
    return normal


_READY: OrderedDict[str, Spec] = OrderedDict()


def ready(spec: Spec | dict | str | Path) -> Spec:
    """The validated, normalised Spec (cached: validating a design twice costs nothing)."""
    spec = as_spec(spec)
    key = spec.key()
    if key not in _READY:
        _READY[key] = validate(spec)
        while len(_READY) > 64:
            _READY.popitem(last=False)
    _READY.move_to_end(key)
    return _READY[key]
