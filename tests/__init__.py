"""The fitedge test suite; its folders mirror the package's (see tests/README.md)."""
