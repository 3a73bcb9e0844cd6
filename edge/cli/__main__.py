"""``python -m fitedge.edge.cli``: the ``fitedge`` command (how torchrun and the tests start it)."""

from fitedge.edge.cli import main

main()
