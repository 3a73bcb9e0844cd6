"""Tests of ``fitedge.edge`` (``edge/``)."""
