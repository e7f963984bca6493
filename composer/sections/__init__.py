"""The Spec's sections, each one engine module with one interface (composer.sections.section):
validating a design, planning it and building it are loops over these.

Each section's check is cached by what it reads (its own values, the attributes it depends on and
the files it names, as they are now): an edit of one field re-checks one section, and the warnings a
check gave are given again each time, as if it had run."""

from __future__ import annotations

import json
import warnings
from collections import OrderedDict
from typing import Any

from composer.limits import MAX_CACHED_SECTIONS
from composer.sections import backbone, config, model, parts, processor, tokenizer
from composer.sections.section import Section
from composer.spec import Spec

# In build order: the backbone's config goes into the config, the config into the model; the
# processor combines the parts before it.
MODEL = (backbone.SECTION, config.SECTION, model.SECTION)
PREPROCESSING = (tokenizer.SECTION, parts.IMAGE_PROCESSOR, parts.FEATURE_EXTRACTOR, processor.SECTION)
SECTIONS = MODEL + PREPROCESSING
BY_NAME = {s.name: s for s in SECTIONS}

_CACHE: OrderedDict[tuple, tuple[dict[str, Any], tuple]] = OrderedDict()


def _cache_key(section: Section, spec: Spec) -> tuple:
    """Keys in their order, not sorted: the normalised section keeps the order the person typed, and the
    exported code writes it so (a cached check of the same values in another order would reorder it)."""
    values = {k: getattr(spec, k) for k in (*section.keys, *section.reads)}
    return section.name, json.dumps(values), section.files(spec)


def check(section: Section, spec: Spec) -> dict[str, Any]:
    """The section's normalised attributes of ``spec`` (or its SpecError), checked once per content."""
    key = _cache_key(section, spec)
    hit = _CACHE.get(key)
    if hit is None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            values = section.validate(spec)
        hit = _CACHE[key] = (values, tuple(caught))
        while len(_CACHE) > MAX_CACHED_SECTIONS:
            _CACHE.popitem(last=False)
    _CACHE.move_to_end(key)
    values, caught = hit
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return values


def plan(spec: Spec, sections: tuple[Section, ...] = SECTIONS) -> list:
    """The steps of a validated Spec's ``sections``, in build order."""
    return [step for section in sections for step in section.steps(spec)]
