"""The bundle on disk: the manifest and the folder (written whole or not at all, golden files, report)."""
