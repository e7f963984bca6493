"""What it takes to train a design: memory per device, devices, compute time (composer.training.plan)."""
