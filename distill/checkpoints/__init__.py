"""Checkpoints in and out: fitedge's folder format, format detection, transformers, fairseq, torchaudio and
official FitHuBERT importers, key maps, untrusted-pickle loading, and resolving what a user names to an encoder."""
