"""fitedge's version: a leaf of the root package, so that the manifests, the benchmark results and the exported
files' metadata can name it without importing the facade (``fitedge/__init__.py``, which reaches down into every
subpackage for ``fitedge.export``/``benchmark``/``evaluate``; a dependency back up would be a cycle)."""

__version__ = "0.1.0"
