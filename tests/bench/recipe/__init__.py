"""Tests of ``fitedge.bench.recipe``: the end-to-end recipe's command line."""
