"""The composer engine: a Spec (one JSON value) → transformers config, model, processors, summary,
reproducible code and checkpoint folder. Torch and transformers are imported only when needed."""

from __future__ import annotations

import importlib

from composer.errors import ComposerWarning, SpecError
from composer.spec import Spec

_LAZY = {
    "validate": "composer.validation",
    "build_config": "composer.build",
    "build_model": "composer.build",
    "build_processors": "composer.build",
    "summarize": "composer.summary",
    "forward_summary": "composer.summary",
    "to_code": "composer.codegen",
    "save": "composer.checkpoint",
    "check": "composer.checkpoint",
    "ready": "composer.validation",
    "model_types": "composer.catalog",
    "heads": "composer.catalog",
    "backbone_types": "composer.catalog",
    "timm_models": "composer.catalog",
    "modality": "composer.catalog",
    "config_fields": "composer.fields",
    "spec_from_config": "composer.importing",
}

__all__ = ["ComposerWarning", "Spec", "SpecError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'composer' has no attribute {name!r}")
