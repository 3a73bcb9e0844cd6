"""Tests of ``fitedge.distill.train``: objectives, pre-training, the trainer, DDP."""
