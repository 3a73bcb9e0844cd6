"""``python -m fitedge.cli``: the ``fitedge`` command (how torchrun and the tests start it)."""

from fitedge.cli import main

main()
