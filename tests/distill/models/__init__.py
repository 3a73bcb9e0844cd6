"""Tests of ``fitedge.distill.models``: the encoder family and its size and compute."""
