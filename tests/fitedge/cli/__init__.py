"""Tests of ``fitedge.cli``: command-line parameters and commands of its own."""
