"""Activations and temporaries of one training step, measured by torch itself, not by a formula.

A copy of the design's meta model gets fake tensors (``FakeTensorMode``: shapes and dtypes, no
storage) and runs one forward + backward and one optimizer step under torch's memory tracker
(``torch.distributed._tools.mem_tracker.MemTracker``). What the tracker sees above the states is
the step's transient memory: the forward's saved activations, backward's temporaries, the optimizer's
scratch. The step is the steady one of a training run: gradients already allocated (as gradient
accumulation keeps them), the optimizer's states already made.
"""

from __future__ import annotations

import contextlib
import copy
import functools
from typing import NamedTuple

from composer.errors import SpecError, one_line
from composer.training import inputs

# torch.optim's implementation the plan (and the launch) uses: foreach, the CUDA default.
FOREACH = True


class Transient(NamedTuple):
    """Bytes above the states: the peak of forward + backward, and of the optimizer step."""

    forward_backward: int
    step: int


def compute_dtype(precision: str):
    import torch

    return {"fp32": torch.float32, "bf16-mixed": torch.bfloat16, "fp16-mixed": torch.float16}[precision]


def configure(model, settings):
    """The model as the step trains it: its attention and experts implementations, per-block recomputation."""
    try:
        if settings.attention is not None:
            model.set_attn_implementation(settings.attention)
    except Exception as err:
        raise SpecError("plan.attention", f"{settings.attention!r} does not work for this design: "
                        f"{one_line(err)}") from None
    if model._can_set_experts_implementation():
        # Every expert's matmul batched over its tokens' copies of the weights: the one implementation
        # fake tensors run (eager experts pick tokens by value; torch's grouped matmul, transformers'
        # default, has no fake kernel for fp32). It holds more than grouped_mm: an upper bound.
        model.set_experts_implementation("batched_mm")
    if settings.recomputation == "per-block":
        if not model.supports_gradient_checkpointing:
            raise SpecError("plan.recomputation", f"{type(model).__name__} does not support recomputing its "
                            "blocks (supports_gradient_checkpointing is False); use none")
        model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model.train()
    return model


def optimizer(name: str, params):
    """The torch optimizer whose step is measured for a setting. Two cannot run on fake tensors: 8-bit
    AdamW is bitsandbytes' fused kernel (not installed here), measured as AdamW's single-tensor step
    (scratch of one tensor at a time); Adafactor's step reads norms of the values, measured as
    SGD-momentum's foreach step (scratch of one update per parameter, as Adafactor's). Their states
    are counted exactly either way (composer.training.states)."""
    import torch

    params = list(params)
    if name == "adamw":
        return torch.optim.AdamW(params, foreach=FOREACH)
    if name == "adamw-8bit":
        return torch.optim.AdamW(params, foreach=False)
    return torch.optim.SGD(params, lr=0.01, momentum=0.9, foreach=FOREACH)


def forward_backward(model, sizes: inputs.Sizes, task: str, settings, autocast: bool) -> None:
    """One micro-batch through the model and back (autocast to the compute dtype for mixed precision)."""
    import torch

    dtype = compute_dtype(settings.precision)
    cast = torch.autocast("cpu", dtype=dtype) if autocast and dtype != torch.float32 else contextlib.nullcontext()
    with cast:
        loss = inputs.loss_of(model(**inputs.batch(model, sizes, task)))
    loss.backward()


def with_gradients(model) -> None:
    """Allocate every trainable parameter's gradient, as a step after the first finds them."""
    import torch

    for p in model.parameters():
        if p.requires_grad and p.grad is None:
            p.grad = torch.zeros_like(p)


@functools.cache
def _global_peak():
    """torch's MemTracker keeping only the step's global peak, the one figure the plan reads. Its module
    tracker (hooks on every module's forward and backward) only labels memory by module and by
    activation or temporary, and its per-module peaks walk every tracked module on every operation:
    both are left out, for the same totals in less time (every figure of the plan was checked equal)."""
    from torch._guards import active_fake_mode
    from torch.distributed._tools.mem_tracker import MemTracker
    from torch.utils._python_dispatch import TorchDispatchMode

    class GlobalPeak(MemTracker):
        def __enter__(self):
            self._fake_mode_on_entry = active_fake_mode()
            self._register_global_optimizer_hook()  # the optimizer's states, made in its first step
            self._track_resize()
            self._peak_mem_snap = self.get_tracker_snapshot()
            self._peak_mem = {dev: snap["Total"] for dev, snap in self._peak_mem_snap.items()}
            TorchDispatchMode.__enter__(self)
            return self

        def __exit__(self, *args) -> None:
            self._deregister_param_and_optimizer_hooks()
            self._restore_resize()
            TorchDispatchMode.__exit__(self, *args)

        def _update_peak_stats(self, peak_state) -> None:
            for dev, snap in self._curr_mem_snap.items():
                if self._peak_mem.get(dev, 0) < snap["Total"]:
                    self._peak_mem[dev] = snap["Total"]
                    self._peak_mem_snap[dev] = dict(snap)

    return GlobalPeak


def _above(tracker, static: int) -> int:
    import torch

    peak = tracker.get_tracker_snapshot("peak").get(torch.device("cpu"), {})
    return max(0, peak.get("Total", 0) - static)


def _total(tracker) -> int:
    import torch

    return tracker.get_tracker_snapshot("current").get(torch.device("cpu"), {}).get("Total", 0)


def measure(meta_model, sizes: inputs.Sizes, task: str, settings, sharded_compute: bool) -> Transient:
    """The transient bytes of one step of ``meta_model`` (copied, never changed). ``sharded_compute``:
    the weights are in the compute dtype, as FSDP2 gathers them, instead of fp32 under autocast."""
    import torch
    from torch._subclasses.fake_tensor import FakeTensorMode
    model = copy.deepcopy(meta_model)
    if sharded_compute:
        model.to(compute_dtype(settings.precision))
    with FakeTensorMode(allow_non_fake_inputs=True):
        model = configure(model.to_empty(device="cpu"), settings)
        with_gradients(model)
        tracker = _global_peak()()
        tracker.track_external(model)
        static = _total(tracker)
        try:
            with tracker:
                forward_backward(model, sizes, task, settings, autocast=not sharded_compute)
        except SpecError:
            raise
        except Exception as err:
            raise SpecError("plan", f"one training step of this design fails: {one_line(err)}") from None
        opt = optimizer(settings.optimizer, (p for p in model.parameters() if p.requires_grad))
        stepper = _global_peak()()
        stepper.track_external(model, opt)
        with stepper:
            opt.step()
        step = _above(stepper, _total(stepper))  # above the states the step itself made
    return Transient(_above(tracker, static), step)
