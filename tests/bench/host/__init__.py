"""Tests of ``fitedge.bench.host``: timing cells and their isolation."""
