"""The train stage: the trainer's one flat config and the LoRA training loop."""
