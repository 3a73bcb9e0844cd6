"""Tests of ``fitedge.edge.export``: bad input to export/verify, no partial bundle."""
