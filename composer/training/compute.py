"""Compute and inference figures of a design: FLOPs per token, time for a token budget, KV cache.

FLOPs per token are torchtitan's ``get_num_flop_per_token``: 6 N for the matmuls of forward and
backward, plus 12 L a d s for attention's scores and values (L layers, a heads of d each, s the
sequence length). N counts every parameter a token's compute multiplies by: all of them but the input
embedding tables (a lookup, no FLOPs; a table tied to the output head counts, the head multiplies by
it), and of a mixture of experts' expert weights only the share a token is routed to (top-k of E).
"""

from __future__ import annotations

from typing import NamedTuple

EXPERT_NAMES = ("experts",)
TOP_K = ("num_experts_per_tok", "moe_topk", "top_k", "num_selected_experts")
EXPERTS = ("num_local_experts", "num_experts", "n_routed_experts", "moe_num_experts")


def _first(config, names: tuple[str, ...]) -> int | None:
    for name in names:
        value = getattr(config, name, None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


class Counted(NamedTuple):
    """Parameters of a (meta) model as the FLOPs count them; sums extrapolate like composer.training.states."""

    input_embeddings: int  # untied nn.Embedding tables
    experts: int  # parameters under a module named ``experts``


def counted(model) -> Counted:
    import torch

    output = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    head = {id(output.weight)} if output is not None and getattr(output, "weight", None) is not None else set()
    tables = {id(m.weight): m.weight.numel() for m in model.modules()
              if isinstance(m, torch.nn.Embedding) and id(m.weight) not in head}
    experts = {id(p): p.numel() for name, m in model.named_modules() if name.rsplit(".", 1)[-1] in EXPERT_NAMES
               for p in m.parameters()}
    return Counted(sum(tables.values()), sum(experts.values()))


def active_params(params: int, c: Counted, config) -> int:
    """N: the parameters one token's compute multiplies by."""
    top_k, experts = _first(config, TOP_K), _first(config, EXPERTS)
    routed = c.experts - c.experts * top_k // experts if top_k and experts and c.experts else 0
    return params - c.input_embeddings - routed


def attention_shape(config) -> tuple[int, int, int] | None:
    """(layers, heads, head dim) of the config's attention, when its config names them."""
    layers = _first(config, ("num_hidden_layers", "n_layer", "n_layers", "num_layers"))
    heads = _first(config, ("num_attention_heads", "n_head", "n_heads"))
    hidden = _first(config, ("hidden_size", "d_model", "n_embd", "dim"))
    if not (layers and heads and hidden):
        return None
    return layers, heads, _first(config, ("head_dim",)) or hidden // heads


def flops_per_token(n: int, config, tokens: int) -> int:
    shape = attention_shape(config)
    return 6 * n + (12 * shape[0] * shape[1] * shape[2] * tokens if shape else 0)


def kv_cache_per_token(config, dtype_bytes: int) -> int | None:
    """Bytes of keys and values one token keeps in every layer: 2 x layers x kv heads x head dim x bytes."""
    shape = attention_shape(config)
    if shape is None:
        return None
    layers, heads, head_dim = shape
    return 2 * layers * (_first(config, ("num_key_value_heads", "n_kv_heads")) or heads) * head_dim * dtype_bytes
