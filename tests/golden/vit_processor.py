# vit design exported by transformers-composer (composer.spec/1).
# Needs only torch and transformers; the same seed always gives the same weights.
import torch
from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

config = ViTConfig(num_labels=10)

torch.manual_seed(0)
model = ViTForImageClassification(config)

image_processor = ViTImageProcessor(size={"height": 64, "width": 64})

output_dir = "checkpoint"
model.save_pretrained(output_dir)
image_processor.save_pretrained(output_dir)
