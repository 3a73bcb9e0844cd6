"""Tests of ``fitedge.bench.device``: phones through adb and their results files."""
