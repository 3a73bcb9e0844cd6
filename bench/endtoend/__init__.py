"""The end-to-end recipe (``make recipe``): corpus, teacher, students, artifacts, PER table and report."""
