"""BackbonePicker: for configs that take a backbone (DETR, MaskFormer, UperNet, …), a transformers
AutoBackbone type or a timm model, which stages it hands on, and whether its weights are pretrained."""

from __future__ import annotations

from typing import Any

import traitlets

from composer.catalog import backbone_types, default_backbone, stage_names, takes_backbone, timm_models
from widgets._base import DesignWidget, bundle, in_section
from widgets._design import Design


class BackbonePicker(DesignWidget):
    """The backbone of the design; its own config fields are on the ConfigForm."""

    _esm = bundle("backbone_picker.js")

    # Backbones
    takes_backbone = traitlets.Bool(False).tag(sync=True)
    default_backbone = traitlets.Unicode("").tag(sync=True)
    backbone_types = traitlets.List(traitlets.Unicode()).tag(sync=True)
    timm_models = traitlets.List(traitlets.Unicode()).tag(sync=True)  # sent only when it is usable
    stages = traitlets.List(traitlets.Unicode()).tag(sync=True)  # of the chosen transformers backbone

    def owns(self, path: str) -> bool:
        """The backbone's choice and stages; its own config's fields are on the ConfigForm."""
        return in_section(path, "backbone") and not path.startswith("backbone.config")

    def _state(self, design: Design) -> dict[str, Any]:
        state = super()._state(design)
        model_type = design.model_type
        if not takes_backbone(model_type):
            return {**state, "takes_backbone": False, "default_backbone": "", "stages": []}
        chosen = design.section("backbone").get("model_type")
        return {
            **state,
            "takes_backbone": True,
            "default_backbone": default_backbone(model_type),
            "backbone_types": list(backbone_types()),
            "timm_models": list(timm_models()),
            "stages": list(stage_names(chosen)) if chosen in backbone_types() else [],
        }
