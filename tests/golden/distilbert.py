# distilbert design exported by transformers-composer (composer.spec/1).
# Needs only torch and transformers; the same seed always gives the same weights.
import torch
from transformers import DistilBertConfig, DistilBertForSequenceClassification

config = DistilBertConfig(
    activation="relu",
    attention_dropout=0.4,
    n_layers=2,
    num_labels=3,
)

torch.manual_seed(0)
model = DistilBertForSequenceClassification(config)

output_dir = "checkpoint"
model.save_pretrained(output_dir)
