# llama design exported by transformers-composer (composer.spec/1).
# Needs only torch and transformers; the same seed always gives the same weights.
import torch
from transformers import LlamaConfig, LlamaForCausalLM

config = LlamaConfig(
    hidden_size=8192,
    num_hidden_layers=80,
    intermediate_size=28672,
    vocab_size=128256,
    num_attention_heads=64,
    num_key_value_heads=8,
    max_position_embeddings=8192,
)

torch.manual_seed(0)
model = LlamaForCausalLM(config)

output_dir = "checkpoint"
model.save_pretrained(output_dir)
