"""Spec → steps → real transformers objects: config, model (cpu or meta), processors."""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from typing import Any

from composer import catalog, sections
from composer.errors import SpecError
from composer.plan import Expr, Ref, Step
from composer.sections import backbone as backbone_section
from composer.sections import config as config_section
from composer.sections import model as model_section
from composer.sections import tokenizer as tokenizer_section
from composer.counting import weight_bytes
from composer.sizes import check_memory, module_budget
from composer.spec import Spec, as_spec

def plan(spec: Spec) -> list[Step]:
    """All steps of a validated Spec: backbone, config, seed, model, then preprocessing."""
    return sections.plan(spec)


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
        head, *attrs = v.name.split(".")
        obj = names[head]
        for attr in attrs:
            obj = getattr(obj, attr)
        return obj
    if isinstance(v, Expr):
        return eval(v.source, {"__builtins__": {"open": open}})  # our own generated file reads only
    if isinstance(v, (dict, list)):  # a copy: transformers fills a given dict in place (rope_scaling)
        return copy.deepcopy(v)
    return v


# Results of steps with a memo digest (Step.memo), newest last.
_MEMO: OrderedDict[str, Any] = OrderedDict()
_MEMO_SIZE = 8


def _computed(step: Step, names: dict[str, Any]) -> Any:
    if step.memo in _MEMO:
        _MEMO.move_to_end(step.memo)
        return _MEMO[step.memo]
    args = [_value(a, names) for a in step.args]
    if not step.callee:
        return args[0]
    fn = _resolve(step.callee, names)
    kwargs = {k: _value(v, names) for k, v in {**step.kwargs, **step.run_kwargs}.items()}
    result = fn(*args, **kwargs)
    if step.memo:
        _MEMO[step.memo] = result
        while len(_MEMO) > _MEMO_SIZE:
            _MEMO.popitem(last=False)
    return result


def run(steps: list[Step], names: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute steps; return the variables they made. Errors name the step's target."""
    names = dict(names or {})
    for step in steps:
        result = _computed(step, names)
        if step.target:
            names[step.target] = result
    return names


def build_config(spec: Spec):
    """The transformers config of a (validated) Spec, with only its overrides applied."""
    spec = as_spec(spec)
    try:
        return run(sections.plan(spec, (backbone_section.SECTION, config_section.SECTION)))["config"]
    except SpecError:
        raise
    except Exception as err:  # transformers' own validation: re-raised naming the field
        raise config_section.failed(spec, "config", err) from None


def build_model(spec: Spec, device: str = "cpu", config=None):
    """The model with its head; on "cpu" seeded so the same Spec gives bit-identical weights, and
    refused first if its weights would not fit in this machine's memory. ``config``: the Spec's
    config already built (composer.repeats reads it first)."""
    spec = as_spec(spec)
    if device == "cpu":
        check_fits(spec)
    config = build_config(spec) if config is None else config
    steps = model_section.steps(spec)
    try:
        if device == "meta":
            return _on_meta(steps, config)
        with _TORCH_INIT:
            return run(steps, {"config": config})["model"]
    except SpecError:
        raise
    except Exception as err:
        raise config_section.failed(spec, "model", err) from None


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


def build_meta_model(spec: Spec, config=None):
    """A meta-device model, cached by design: repeated summaries of one design build once. A
    ``pretrained`` design's is the class alone on the checkpoint's config (composer.provenance matches the
    checkpoint's weights against it). ``config``: the Spec's config already built, for a design without
    ``pretrained``."""
    key = spec.key()
    if key not in _META_CACHE:
        if spec.pretrained is not None:
            config = build_config(spec)
            head = catalog.resolve_architecture(spec.model_type, spec.architecture)
            try:
                model = meta_model(head.name, config)
            except Exception as err:
                raise config_section.failed(spec, "model", err) from None
        else:
            model = build_model(spec, device="meta", config=config)
        _META_CACHE[key] = model
        while len(_META_CACHE) > 8:
            _META_CACHE.popitem(last=False)
    _META_CACHE.move_to_end(key)
    return _META_CACHE[key]


def check_fits(spec: Spec, available: int | None = None) -> None:
    """Refuse a CPU build of a (validated) Spec whose weights would not fit in this machine's memory
    (composer.sizes.check_memory), from its meta model: nothing is allocated."""
    spec = as_spec(spec)
    check_memory(weight_bytes(build_meta_model(spec)), "config" if spec.config else "model_type", available)


def build_processors(spec: Spec) -> dict[str, Any]:
    """tokenizer / image_processor / feature_extractor / processor, whichever the Spec has."""
    spec = as_spec(spec)
    names: dict[str, Any] = {}
    for section in sections.PREPROCESSING:
        for step in section.steps(spec):  # one at a time, so an error names the field of its step
            try:
                names = run([step], names)
            except SpecError:
                raise
            except Exception as err:
                raise section.failed(spec, step.target, err) from None
    if "tokenizer" in names:
        tokenizer_section.check_tokenizer(spec, names["tokenizer"])
    return {k: names[k] for k in ("tokenizer", "image_processor", "feature_extractor", "processor") if k in names}
