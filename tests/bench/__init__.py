"""Tests of ``fitedge.bench`` (``bench/``); ``bench/benchmark.py`` itself is tested at this level."""
