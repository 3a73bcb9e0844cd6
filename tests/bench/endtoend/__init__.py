"""Tests of ``fitedge.bench.endtoend``: the end-to-end recipe's command line."""
