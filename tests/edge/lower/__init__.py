"""Tests of ``fitedge.edge.lower``: what each lowering writes into its artifact file."""
