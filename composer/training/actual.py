"""What one real training step of a design takes on this CPU, measured by torch's profiler: the plan's
check. The design is built with real weights and runs one step to make its optimizer's states (the step
a run repeats finds them); a second step runs under ``torch.profiler`` with ``profile_memory``, whose
memory events are the CPU allocator's own reports of every allocation and free. The peak is what the
step held before it started (weights, buffers, gradients, optimizer states: each storage once) plus
the highest running sum of those events. A different instrument from the plan's (a tracker of fake
tensors): the allocator on real storage.
"""

from __future__ import annotations

from composer.build import build_model
from composer.catalog import resolve_architecture
from composer.training import activations, inputs
from composer.training.settings import Settings
from composer.validation import ready


def real_optimizer(name: str, params):
    """The optimizer itself (Adafactor runs on real tensors; 8-bit AdamW needs bitsandbytes)."""
    import torch

    if name == "adafactor":
        return torch.optim.Adafactor(list(params), foreach=activations.FOREACH)
    if name == "adamw-8bit":
        raise ValueError("8-bit AdamW needs bitsandbytes and a GPU; it is not run here")
    return activations.optimizer(name, params)


def _held(model, opt) -> int:
    """Bytes of the storages a step starts with, each once (tied weights share one)."""
    import torch

    tensors = [*model.parameters(), *model.buffers(), *(p.grad for p in model.parameters() if p.grad is not None),
               *(v for state in opt.state.values() for v in state.values() if isinstance(v, torch.Tensor))]
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())


def peak_bytes(spec, settings: Settings) -> int:
    """The peak bytes torch's allocator holds during one steady training step on one CPU device."""
    from torch.profiler import ProfilerActivity, profile

    spec = ready(spec)
    task = resolve_architecture(spec.model_type, spec.architecture).task
    model = activations.configure(build_model(spec, device="cpu"), settings)
    sizes = inputs.sizes(spec, model, settings)
    activations.with_gradients(model)
    opt = real_optimizer(settings.optimizer, (p for p in model.parameters() if p.requires_grad))

    def step():
        activations.forward_backward(model, sizes, task, settings, autocast=True)
        opt.step()
        opt.zero_grad(set_to_none=False)  # gradients stay allocated, as gradient accumulation keeps them

    step()
    held = _held(model, opt)
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted((e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"),
                    key=lambda e: e.start_ns())
    now = top = 0
    for event in events:
        now += event.nbytes()
        top = max(top, now)
    return held + top
