"""``--int8 auto``, in one place: per-block sensitivity, the screening with whichever recipe is installed, the
plan of blocks kept float, the widen-until-parity search (and run-time int8 against float blocks), and widening
an artifact a gate refuses. The runtime side (lowering a plan, loading, timing) is passed in by ``fitedge.edge``."""
