# maskformer design exported by transformers-composer (composer.spec/1).
# Needs only torch and transformers; the same seed always gives the same weights.
import torch
from transformers import MaskFormerConfig, MaskFormerForInstanceSegmentation, ResNetConfig

backbone_config = ResNetConfig(
    depths=[1, 1, 1, 1],
    hidden_sizes=[32, 64, 128, 256],
    embedding_size=32,
    out_features=["stage1", "stage2", "stage3", "stage4"],
)
config = MaskFormerConfig(
    fpn_feature_size=64,
    mask_feature_size=64,
    decoder_config={"model_type": "detr", "d_model": 64, "encoder_layers": 1, "decoder_layers": 1, "encoder_ffn_dim": 64, "decoder_ffn_dim": 64, "num_queries": 10},
    backbone_config=backbone_config,
)

torch.manual_seed(1)
model = MaskFormerForInstanceSegmentation(config)

output_dir = "checkpoint"
model.save_pretrained(output_dir)
