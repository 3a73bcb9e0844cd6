"""Tests of ``fitedge.edge.runtime``: artifacts run in their runtimes' aarch64 builds under QEMU."""
