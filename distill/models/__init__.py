"""The encoder family (HuBERT, wav2vec2, DistilHuBERT, FitHuBERT): config and presets, the blocks, the
encoder, its heads, its cost profile, and the deployable wrapper that export captures."""
