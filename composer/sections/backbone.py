"""The ``backbone`` section: a transformers backbone's own config ({"model_type": "resnet",
"config": {...}}) or a timm model by name, and which of its stages feed the model."""

from __future__ import annotations

from typing import Any

from composer import catalog
from composer.catalog_cache import remembered
from composer.errors import SpecError, shown
from composer.plan import Step
from composer.sections import config as config_section
from composer.sections.section import Section
from composer.spec import Spec


def validate(spec: Spec) -> dict[str, Any]:
    bb = spec.backbone
    if bb is None:
        return {"backbone": None}
    if not catalog.takes_backbone(spec.model_type):
        raise SpecError("backbone", f"{spec.model_type} takes no backbone (its config has no backbone_config)")
    out = dict(bb)
    if "timm" in bb:
        try:
            import timm
        except ImportError as err:  # torchvision missing or broken underneath timm
            raise SpecError("backbone.timm", f"timm cannot be imported here: {err}") from None
        if not timm.is_model(bb["timm"]):
            raise SpecError("backbone.timm", f"{shown(bb['timm'])} is not a timm model; e.g. resnet50, convnext_tiny")
        if bb.get("out_features") is not None:
            raise SpecError("backbone.out_features", "a timm backbone selects stages with out_indices")
        return {"backbone": out}
    catalog.check_model_type(bb["model_type"], "backbone.model_type")
    if bb["model_type"] not in catalog.backbone_types():
        raise SpecError("backbone.model_type", f"{shown(bb['model_type'])} has no backbone class; allowed: "
                        f"{', '.join(catalog.backbone_types())}")
    cls = catalog.config_class(bb["model_type"])
    out["config"] = config_section.overrides(cls, bb.get("config", {}), "backbone.config", keep_defaults=False)
    return {"backbone": out}


def steps(spec: Spec) -> list[Step]:
    bb = spec.backbone
    if bb is None:
        return []
    n = catalog.default_stage_count(spec.model_type)
    picked = {k: bb[k] for k in ("out_features", "out_indices") if bb.get(k) is not None}
    if "timm" in bb:
        kwargs: dict[str, Any] = {"backbone": bb["timm"], "use_pretrained_backbone": bb.get("pretrained", False)}
        if picked.get("out_indices") is None and n:
            picked = {"out_indices": list(range(-n, 0))}
        return [Step("backbone_config", "TimmBackboneConfig", (), {**kwargs, **picked})]
    cls = catalog.config_class(bb["model_type"])
    kwargs = dict(bb.get("config", {}))
    if not picked and n and "out_features" not in kwargs and "out_indices" not in kwargs:
        stages = cls(**kwargs).stage_names
        picked = {"out_features": list(stages[-n:])}
    return [Step("backbone_config", cls.__name__, (), {**kwargs, **picked})]


def offered(model_type: Any) -> tuple[dict[str, Any], ...]:
    """The fields of a transformers backbone's own config (ResNet depths, …), as form rows; none for
    what is not a backbone type (a timm model, a half-typed name, a draft's stray value)."""
    return _rows(model_type) if isinstance(model_type, str) and model_type in catalog.backbone_types() else ()


@remembered(decode=tuple)
def _rows(model_type: str) -> tuple[dict[str, Any], ...]:
    return tuple(config_section.form_rows(catalog.config_class(model_type), nested=True))


SECTION = Section(keys=("backbone",), validate=validate, steps=steps, failed=config_section.failed,
                  reads=("model_type",))
