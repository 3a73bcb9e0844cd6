"""Tests of ``fitedge.quantize``: int8 recipes, sensitivity, the auto policy, other CPU classes."""
