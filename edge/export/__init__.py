"""``fitedge export`` and ``fitedge verify``: options, the model side of an export, the artifact plan, the
step sequence, and the parity checks."""
