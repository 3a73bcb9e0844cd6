"""Tests of ``fitedge.bench.latency``: timing cells and their isolation."""
