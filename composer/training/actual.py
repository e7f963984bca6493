"""What one real training step of a design takes on this CPU, measured by torch's profiler: the plan's
check. The design is built with real weights, runs one step to make its optimizer's states (the step
a run repeats finds them), then a second step under ``torch.profiler`` with memory profiling; the peak
is the highest total of torch's memory timeline (``torch.profiler._memory_profiler``, what
``export_memory_timeline`` draws), which counts every tensor the allocator holds, states included.
This is a different instrument from the plan's (a tracker of fake tensors): the allocator's own
events on real storage.
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


def peak_bytes(spec, settings: Settings) -> int:
    """The peak bytes torch's allocator holds during one steady training step on one CPU device."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    from torch.profiler._memory_profiler import MemoryProfileTimeline

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
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True, record_shapes=True, with_stack=True) as prof:
        step()
    _, sizes_over_time = MemoryProfileTimeline(prof._memory_profile())._coalesce_timeline(torch.device("cpu"))
    return max(sum(row) for row in sizes_over_time)
