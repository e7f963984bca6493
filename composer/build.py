"""Spec → steps → real transformers objects: config, model (cpu or meta), processors."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from composer import catalog, processors, translate
from composer.api import as_spec
from composer.errors import SpecError, one_line, shown
from composer.fields import config_fields
from composer.plan import Expr, Ref, Step
from composer.spec import Spec

# ----- planning --------------------------------------------------------------------------------


def _default_stage_count(model_type: str) -> int | None:
    """How many feature maps the model's own default backbone hands on (MaskFormer: 4), so that a
    chosen backbone feeds the same number; ResNet's default of ["stage4"] alone breaks the forward pass."""
    default = catalog.config_class(model_type)().backbone_config
    if default is None:
        return None
    outs = getattr(default, "out_indices", None) or getattr(default, "out_features", None)
    return len(outs) if outs else None


def backbone_steps(spec: Spec) -> list[Step]:
    bb = spec.backbone
    n = _default_stage_count(spec.model_type)
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


def config_steps(spec: Spec) -> list[Step]:
    cls = catalog.config_class(spec.model_type)
    out = backbone_steps(spec) if spec.backbone else []
    kwargs = dict(spec.config)
    if spec.backbone:
        kwargs["backbone_config"] = Ref("backbone_config")
    if spec.pretrained is not None:
        from composer import hub

        target, local_only = hub.resolve(spec.pretrained, "pretrained")
        out.append(Step("config", f"{cls.__name__}.from_pretrained", (target,), {**kwargs, **hub.NO_REMOTE_CODE},
                        run_kwargs={"local_files_only": True} if local_only else {}))
    else:
        out.append(Step("config", cls.__name__, (), kwargs))
    return out


def model_steps(spec: Spec) -> list[Step]:
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    out = [Step(None, "torch.manual_seed", (spec.seed,))]
    if spec.pretrained is not None:
        from composer import hub

        target, local_only = hub.resolve(spec.pretrained, "pretrained")
        out.append(Step("model", f"{head.name}.from_pretrained", (target,),
                        {"config": Ref("config"), "use_safetensors": True, **hub.NO_REMOTE_CODE},
                        run_kwargs={"local_files_only": True} if local_only else {}))
    else:
        out.append(Step("model", head.name, (Ref("config"),)))
    return out


def plan(spec: Spec) -> list[Step]:
    """All steps of a validated Spec: config, seed, model, then preprocessing."""
    return config_steps(spec) + model_steps(spec) + processors.steps(spec)


# ----- running ---------------------------------------------------------------------------------


def _resolve(callee: str, names: dict[str, Any]):
    head, *rest = callee.split(".")
    if head in names:
        obj = names[head]
    elif head == "torch":
        import torch as obj
    else:
        import transformers

        obj = getattr(transformers, head)
    for part in rest:
        obj = getattr(obj, part)
    return obj


def _value(v: Any, names: dict[str, Any]) -> Any:
    if isinstance(v, Ref):
        return names[v.name]
    if isinstance(v, Expr):
        return eval(v.source, {"__builtins__": {"open": open}})  # our own generated file reads only
    if isinstance(v, (dict, list)):  # a copy: transformers fills a given dict in place (rope_scaling)
        return copy.deepcopy(v)
    return v


def run(steps: list[Step], names: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute steps; return the variables they made. Errors name the step's target."""
    names = dict(names or {})
    for step in steps:
        fn = _resolve(step.callee, names)
        args = [_value(a, names) for a in step.args]
        kwargs = {k: _value(v, names) for k, v in {**step.kwargs, **step.run_kwargs}.items()}
        result = fn(*args, **kwargs)
        if step.target:
            names[step.target] = result
    return names


def _field_error(err: Exception, spec: Spec, prefix: str) -> SpecError:
    from composer.validation import field_in_message

    text = one_line(translate.cause(err))
    if isinstance(err, ImportError):  # transformers' requires_backends: an optional package is missing
        return SpecError("architecture", text)
    if not spec.config and not spec.backbone and spec.pretrained is None:
        # Nothing of the user's is involved: it is transformers' own defaults that do not build.
        cls = catalog.config_class(spec.model_type).__name__
        return SpecError("model_type", f"transformers' default {cls} does not build as is: {text}")
    if isinstance(err, KeyError) and len(err.args) == 1:  # a lookup of one of the user's values failed
        given = [name for name, value in spec.config.items() if isinstance(value, str) and value == err.args[0]]
        if given:
            return SpecError(f"{prefix}.{given[0]}", f"{shown(err.args[0])} is not a value transformers knows here")
    fields = {f.name: f for f in config_fields(spec.model_type)}
    names = list(dict.fromkeys([*spec.config, *fields]))
    named = translate.strict_field(err)
    where = f"{prefix}.{named}" if named in fields else field_in_message(text, names, prefix)
    name = where.removeprefix(f"{prefix}.")
    default = fields[name].default if name in fields else None
    return SpecError(where, translate.explained(err, name, spec.config.get(name, default), default))


def build_config(spec: Spec):
    """The transformers config of a (validated) Spec, with only its overrides applied."""
    spec = as_spec(spec)
    try:
        return run(config_steps(spec))["config"]
    except SpecError:
        raise
    except Exception as err:  # transformers' own validation: re-raised naming the field
        raise _field_error(err, spec, "config") from None


def build_model(spec: Spec, device: str = "cpu"):
    """The model with its head; on "cpu" seeded so the same Spec gives bit-identical weights, and
    refused first if its weights would not fit in this machine's memory."""
    spec = as_spec(spec)
    if device == "cpu":
        from composer.sizes import check_fits

        check_fits(spec)
    config = build_config(spec)
    steps = model_steps(spec)
    try:
        if device == "meta":
            return _on_meta(steps, config)
        with _TORCH_INIT:
            return run(steps, {"config": config})["model"]
    except SpecError:
        raise
    except Exception as err:
        raise _field_error(err, spec, "config") from None


# Held by a CPU build, and by a meta build while torch's init is switched off for the whole process:
# the two must never overlap (the save panel builds on CPU in a thread while edits build on meta).
_TORCH_INIT = threading.Lock()


def _on_meta(steps: list[Step], config):
    """Run model steps on the meta device without torch's weight init: nothing reads meta weights,
    and the init is half the build time of a 70B design. transformers' no_init_weights also skips the
    tying that init_weights does, so it is redone: tied tensors still count once. (Checked equal to a
    plain meta build - parameters, buffers, tying, module tree - for every model type that builds.)"""
    import torch
    from transformers.initialization import no_init_weights

    from composer.sizes import module_budget

    # Nothing is random on meta, and reseeding the process' generator would change a CPU build
    # running in another thread.
    steps = [step for step in steps if step.callee != "torch.manual_seed"]
    with torch.device("meta"), module_budget():
        if not _TORCH_INIT.acquire(blocking=False):  # a CPU build is running and needs torch's init
            return run(steps, {"config": config})["model"]
        try:
            with no_init_weights():
                model = run(steps, {"config": config})["model"]
        finally:
            _TORCH_INIT.release()
    model.tie_weights(recompute_mapping=False)
    return model


_META_CACHE: OrderedDict[str, Any] = OrderedDict()


def meta_model(head: str, config):
    """The model class ``head`` of a built config on the meta device: its architecture, no weights."""
    return _on_meta([Step("model", head, (Ref("config"),))], config)


def build_meta_model(spec: Spec):
    """A meta-device model, cached by design: repeated summaries of one design build once. A
    ``pretrained`` folder's weights are matched against it by name and shape (composer.folder_check)."""
    key = spec.key()
    if key not in _META_CACHE:
        if spec.pretrained is not None:
            from composer import hub

            config = build_config(spec)
            head = catalog.resolve_architecture(spec.model_type, spec.architecture)
            try:
                model = meta_model(head.name, config)
            except Exception as err:
                raise _field_error(err, spec, "config") from None
            hub.check_weights(spec.pretrained, model)
        else:
            model = build_model(spec, device="meta")
        _META_CACHE[key] = model
        while len(_META_CACHE) > 8:
            _META_CACHE.popitem(last=False)
    _META_CACHE.move_to_end(key)
    return _META_CACHE[key]


def build_processors(spec: Spec) -> dict[str, Any]:
    """tokenizer / image_processor / feature_extractor / processor, whichever the Spec has."""
    spec = as_spec(spec)
    names: dict[str, Any] = {}
    for step in processors.steps(spec):  # one at a time, so an error names the field of its step
        try:
            names = run([step], names)
        except SpecError:
            raise
        except Exception as err:
            where = processors.error_field(spec, step.target, err)
            raise SpecError(where, one_line(err)) from None
    if "tokenizer" in names:
        processors.check_tokenizer(spec, names["tokenizer"])
    return {k: names[k] for k in ("tokenizer", "image_processor", "feature_extractor", "processor") if k in names}
