"""Tests of ``fitedge.bench.eval``: phoneme error rate, the probe and the PER gate."""
