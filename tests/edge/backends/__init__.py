"""Tests of ``fitedge.edge.backends``: the Backend protocol, the BACKENDS table and a backend plugged in."""
