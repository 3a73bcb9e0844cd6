"""The encoder family (HuBERT, wav2vec2, DistilHuBERT, FitHuBERT), checkpoint import, distillation."""
