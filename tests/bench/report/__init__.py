"""Tests of ``fitedge.bench.report``: the results schema and the statistics it records."""
