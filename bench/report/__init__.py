"""Views of a results document: tables, plots, and the results schema."""
