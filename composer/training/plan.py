"""The training plan of a design: memory per device, the fewest devices that hold it, compute time,
and for decoders the KV cache. States come from the design's tensors (composer.training.states),
the step's transient memory from torch's tracker on fake tensors (composer.training.activations), of
the few-layer variants composer.repeats counts the design by, extrapolated by the number of blocks."""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from composer import catalog, limits, repeats
from composer.build import build_meta_model
from composer.errors import SpecError
from composer.sizes import human
from composer.spec import Spec
from composer.training import activations, compute, inputs, layouts
from composer.training.devices import device_of, fewest, usable
from composer.training.settings import Settings
from composer.training.states import States, block_params, states_of
from composer.validation import ready

COMPUTE_BYTES = {"fp32": 4, "bf16-mixed": 2, "fp16-mixed": 2}


class Measured(NamedTuple):
    """What a design's step holds, extrapolated to its full number of blocks."""

    states: States
    transient: activations.Transient
    counted: compute.Counted
    block: int  # parameters of its largest block
    outside: int  # parameters outside every block
    sizes: inputs.Sizes
    variants: int  # models run on fake tensors (1: the design itself, else its few-layer variants)


_MEASURED: OrderedDict[tuple, Measured] = OrderedDict()


def _one(model, spec: Spec, settings: Settings, task: str, sharded: bool):
    sizes = inputs.sizes(spec, model, settings)
    return (states_of(model, settings.optimizer), activations.measure(model, sizes, task, settings, sharded),
            compute.counted(model), sizes)


def _extrapolated(now, more, less, times: int):
    """``now`` (States, Transient or Counted) plus ``times`` what one more repeated block added: the
    figures of the variant with it (``more``) less those of the base variant (``less``)."""
    return type(now)(*(n + times * (m - b) for n, m, b in zip(now, more, less)))


def measured(spec: Spec, settings: Settings) -> Measured:
    """States and transient memory of one step, cached by design and by the settings the step reads."""
    sharded = settings.layout == "fsdp" and settings.precision != "fp32"
    key = (spec.key(), settings.micro_batch, settings.sequence_length, settings.image_size, settings.audio_seconds,
           settings.precision, settings.optimizer, settings.recomputation, settings.attention, sharded)
    if key in _MEASURED:
        _MEASURED.move_to_end(key)
        return _MEASURED[key]
    task = catalog.resolve_architecture(spec.model_type, spec.architecture).task
    few = repeats.reduced(spec, fewest=True)
    if few is None:
        model = build_meta_model(spec)
        st, tr, c, sizes = _one(model, spec, settings, task, sharded)
        block, outside = block_params(model)
        variants = 1
    else:
        model = repeats.variant_model(few.base)
        st, tr, c, sizes = base = _one(model, spec, settings, task, sharded)
        block, outside = block_params(model)
        for grown, extra in few.grown.values():
            g_st, g_tr, g_c, _ = _one(repeats.variant_model(grown), spec, settings, task, sharded)
            st, tr, c = (_extrapolated(now, more, less, extra)
                         for now, more, less in zip((st, tr, c), (g_st, g_tr, g_c), base))
        variants = 1 + len(few.grown)
    _MEASURED[key] = Measured(st, tr, c, block, outside, sizes, variants)
    while len(_MEASURED) > limits.MAX_CACHED_MEASUREMENTS:
        _MEASURED.popitem(last=False)
    return _MEASURED[key]


@dataclass(frozen=True)
class Plan:
    """A plan's figures; bytes are per device unless named ``total``."""

    settings: dict[str, Any]
    architecture: str
    params: int
    trainable: int
    device: str
    device_memory: int
    usable_memory: int  # device memory less the headroom
    devices: int | None  # the count planned for (given, or the fewest that fit); None: no count fits
    data_parallel: int | None
    per_device: dict[str, int]  # segment -> bytes (layouts.SEGMENTS)
    peak: int
    fits: bool
    advice: str | None  # "plan.<field>: what to change", when it does not fit
    total_states: dict[str, int]  # weights, gradients, optimizer of the whole design, unsharded
    measured: dict[str, Any]  # the step's transient bytes as torch measured them, and how
    flops_params: int  # N of 6N
    flops_per_token: int
    tokens: int
    seconds: float | None  # training time for the token budget on `devices` at the settings' MFU
    kv_cache_per_token: int | None  # decoders: bytes one token keeps (inference, 16-bit)
    context_length: int | None
    inference_batch: int | None  # the largest batch of `context_length` tokens one device holds
    plan_seconds: float  # how long making this plan took

    def segments(self) -> list[dict[str, Any]]:
        """The per-device stack as the memory chart draws it: named segments in bytes."""
        return [{"name": name, "bytes": self.per_device[name]} for name in layouts.SEGMENTS if self.per_device[name]]

    def bars(self) -> list[dict[str, Any]]:
        """One bar (composer's memory chart shape) for a device of the plan, against its memory."""
        count = f"{self.devices} x " if self.devices else ""
        return [{"label": f"per device ({count}{self.device})", "segments": self.segments(),
                 "limit": self.device_memory}]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "segments": self.segments()}


def _advice(m: Measured, settings: Settings, demand: layouts.Demand, capacity: int) -> str:
    """Which setting to change when no device count within the limits holds the peak."""
    fixed, _ = demand.fixed_and_shared()
    fb = demand.activations[0]
    need = f"{human(fixed, 'B')} per device stays whatever the count (a device holds {human(capacity, 'B')})"
    if settings.layout != "fsdp" and fixed - fb > capacity // 2:
        return f"plan.layout: {need}; fsdp shards the weights, gradients and optimizer states"
    if fb > capacity // 2 and settings.recomputation == "none":
        return f"plan.recomputation: {need}, activations {human(fb, 'B')}; per-block keeps one input per block"
    if fb > capacity // 2 and settings.micro_batch > 1:
        return f"plan.micro_batch: {need}, activations {human(fb, 'B')}; fewer examples per step " \
               "(gradient accumulation keeps the batch)"
    return f"plan.tensor_parallel: {need}; a higher degree divides the blocks' weights and activations"


def plan(spec: Spec | dict, settings: Settings | dict | None = None) -> Plan:
    """The training plan of a design for ``settings`` (SpecError at ``plan.<field>`` for a bad one)."""
    started = time.perf_counter()
    settings = settings if isinstance(settings, Settings) else Settings.from_dict(settings or {})
    spec = ready(spec)
    head = catalog.resolve_architecture(spec.model_type, spec.architecture)
    config = repeats.measured(spec).config
    m = measured(spec, settings)
    device = device_of(settings)
    capacity = usable(device, settings.headroom)
    t = settings.tensor_parallel
    demand = layouts.demand(settings.layout, m.states, m.transient.forward_backward, m.transient.step,
                            m.block, m.outside, COMPUTE_BYTES[settings.precision], t)
    if settings.devices is not None:
        devices = settings.devices
    elif settings.layout in ("single", "ddp"):
        devices = t
    else:
        devices = fewest(*demand.fixed_and_shared(), capacity, t)
        while devices is not None and sum(demand.on(devices // t).values()) > capacity:  # the step's scratch
            devices = devices + t if devices + t <= limits.MAX_DEVICES else None
    per_device = demand.on((devices or t) // t)
    peak = sum(per_device.values())
    fits = devices is not None and peak <= capacity
    n = compute.active_params(m.states.params, m.counted, config)
    positions = m.sizes.tokens
    flops = compute.flops_per_token(n, config, positions)
    tokens = settings.tokens or int(settings.tokens_per_param * m.states.params)
    peak_flops = (device.tf32_tflops if settings.precision == "fp32" else device.bf16_tflops) * 1e12
    seconds = flops * tokens / ((devices or 0) * peak_flops * settings.mfu) if devices else None
    kv = compute.kv_cache_per_token(config, 2) if head.task == "causal-lm" else None
    context = settings.context_length or positions
    weights16 = 2 * m.states.params // t
    inference = (capacity - weights16) // (kv // t * context) if kv and capacity > weights16 else (0 if kv else None)
    return Plan(
        settings=settings.to_dict(), architecture=head.name, params=m.states.params,
        trainable=m.states.trainable, device=device.name, device_memory=device.memory, usable_memory=capacity,
        devices=devices if fits or settings.devices is not None else None,
        data_parallel=devices // t if devices else None, per_device=per_device, peak=peak, fits=fits,
        advice=None if fits else _advice(m, settings, demand, capacity),
        total_states={"weights": m.states.weights, "gradients": m.states.gradients, "optimizer": m.states.optimizer},
        measured={"forward_backward": m.transient.forward_backward, "optimizer_step": m.transient.step,
                  "models_run": m.variants, "micro_batch": list(m.sizes)},
        flops_params=n, flops_per_token=flops, tokens=tokens, seconds=seconds, kv_cache_per_token=kv,
        context_length=context if kv else None, inference_batch=inference,
        plan_seconds=time.perf_counter() - started)


def duration(seconds: float) -> str:
    """A training time as a plan says it: days, or hours under a day (``-`` before a shorter one)."""
    sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
    return sign + (f"{seconds / 86400:,.1f} days" if seconds >= 86400 else f"{seconds / 3600:,.2f} hours")


def format_plan(p: Plan) -> str:
    """The text the command line prints."""
    s = p.settings
    lines = [f"{p.architecture}: {p.params:,} parameters ({p.trainable:,} trainable)",
             f"  settings  micro-batch {s['micro_batch']}, {s['precision']}, {s['optimizer']}, recomputation "
             f"{s['recomputation']}, layout {s['layout']}, tensor-parallel {s['tensor_parallel']}",
             f"  device    {p.device}: {human(p.device_memory, 'B')}, {human(p.usable_memory, 'B')} usable "
             f"(headroom {s['headroom']:g})",
             "  per device"]
    lines += [f"    {name:<12} {human(n, 'B'):>12}" for name, n in p.per_device.items() if n]
    lines.append(f"    {'peak':<12} {human(p.peak, 'B'):>12}")
    if p.fits:
        lines.append(f"  devices   {p.devices} (data-parallel {p.data_parallel})")
    else:
        where = f"on {p.devices}" if p.devices else "on any count"
        lines.append(f"  does not fit {where}: {p.advice}")
    lines.append(f"  compute   {p.flops_per_token:,} FLOPs per token (6 N + attention, N = {p.flops_params:,}: "
                 "input embeddings and unrouted experts left out)")
    if p.seconds is not None:
        lines.append(f"  time      {duration(p.seconds)} for {p.tokens:,} tokens at MFU {s['mfu']:g} on {p.devices} devices")
    if p.kv_cache_per_token is not None:
        lines.append(f"  inference KV cache {human(p.kv_cache_per_token, 'B')} per token (16-bit); largest batch "
                     f"of {p.context_length:,} tokens on one device: {p.inference_batch:,}")
    lines.append(f"  measured  forward+backward {human(p.measured['forward_backward'], 'B')}, optimizer step "
                 f"{human(p.measured['optimizer_step'], 'B')} above the states ({p.measured['models_run']} "
                 f"model(s) on fake tensors, {p.plan_seconds:.2f} s)")
    return "\n".join(lines) + "\n"
