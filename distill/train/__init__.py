"""Training: distillation and HuBERT pre-training loops, losses, layer map, schedule, DDP, train state, run
log, masking, validation, and the phonetic quality of units."""
