# maskformer design exported by transformers-composer (composer.spec/1).
# Needs only torch and transformers; the same seed always gives the same weights.
import torch
from transformers import MaskFormerConfig, MaskFormerForInstanceSegmentation, TimmBackboneConfig

backbone_config = TimmBackboneConfig(
    backbone="resnet18",
    use_pretrained_backbone=False,
    out_indices=[-4, -3, -2, -1],
)
config = MaskFormerConfig(backbone_config=backbone_config)

torch.manual_seed(0)
model = MaskFormerForInstanceSegmentation(config)

output_dir = "checkpoint"
model.save_pretrained(output_dir)
