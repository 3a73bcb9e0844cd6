"""Tests of ``fitedge.edge.cli``: command-line parameters and commands of its own."""
