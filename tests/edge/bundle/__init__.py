"""Tests of ``fitedge.edge.bundle``: the bundle an export writes, checked through the runtimes."""
