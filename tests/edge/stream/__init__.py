"""Tests of ``fitedge.edge.stream``: window geometry, the streaming runner, parity, cross-language vectors."""
