"""Tests of ``fitedge.distill`` (``distill/``)."""
