"""Tests of the root package ``fitedge`` (``fitedge/``): files, console."""
