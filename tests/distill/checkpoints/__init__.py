"""Tests of ``fitedge.distill.checkpoints``: import from every layout, hub ids, load errors."""
