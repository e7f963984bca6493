"""The model itself: its head (``architecture``), the seed of its random weights, and ``pretrained``,
the checkpoint whose weights it loads instead, with ``resized``: what loading does with a tensor whose shape
the design changed (composer.provenance refuses it at validation, or it is initialised afresh)."""

from __future__ import annotations

from typing import Any

from composer import catalog, hub
from composer.errors import SpecError
from composer.paths import stamp
from composer.plan import Ref, Step
from composer.sections import config as config_section
from composer.sections.section import Section
from composer.spec import Spec


def validate(spec: Spec) -> dict[str, Any]:
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    if spec.pretrained is not None:
        hub.resolve(spec.pretrained, "pretrained")
        folder = hub.local_folder(spec.pretrained)
        if folder is not None and folder.model_type != spec.model_type:
            raise SpecError("pretrained", f"config.json: model_type {folder.model_type!r}; the design's model_type "
                            f"is {spec.model_type!r}")
    return {"architecture": None if head.task == "base" and spec.architecture is None else head.name,
            "pretrained": spec.pretrained, "resized": spec.resized, "seed": spec.seed}


def steps(spec: Spec) -> list[Step]:
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    out = [Step(None, "torch.manual_seed", (spec.seed,))]
    if spec.pretrained is None:
        return out + [Step("model", head.name, (Ref("config"),))]
    target, local_only = hub.resolve(spec.pretrained, "pretrained")
    reinitialise = {"ignore_mismatched_sizes": True} if spec.resized == "reinitialise" else {}
    return out + [Step("model", f"{head.name}.from_pretrained", (target,),
                       {"config": Ref("config"), "use_safetensors": True, **reinitialise, **hub.NO_REMOTE_CODE},
                       run_kwargs={"local_files_only": True} if local_only else {})]


SECTION = Section(keys=("architecture", "pretrained", "resized", "seed"), validate=validate, steps=steps,
                  failed=config_section.failed, reads=("model_type",),
                  files=lambda spec: (stamp(spec.pretrained),))
