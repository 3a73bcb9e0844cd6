"""MACs per run and what they mean: achieved GFLOP/s and its share of this machine's measured peak.

An int8 artifact is set against the int8 GEMM peak (GOP/s), everything else against the float32 one; a
MAC counts as two operations. MACs come from :mod:`fitedge.distill.models.profile` (counted on the real modules,
built on the meta device); where that is unavailable the runs keep ``macs`` empty and a note says why.
"""

from __future__ import annotations

import logging
from functools import lru_cache

from fitedge.bench.host.peak import MachinePeak

log = logging.getLogger(__name__)


@lru_cache(maxsize=64)
def _macs_cached(config_json: str, samples: int) -> int | None:
    import json

    from fitedge.distill.models.config import EncoderConfig
    from fitedge.distill.models.profile import profile_config

    config = EncoderConfig.from_dict(json.loads(config_json))
    return int(profile_config(config, samples / config.sample_rate).macs)


def model_macs(config: dict | None, samples: int) -> int | None:
    """Multiply-accumulates of the encoder described by ``config`` on ``samples`` samples (None if unknown)."""
    if config is None:
        return None
    import json

    try:
        return _macs_cached(json.dumps(config, sort_keys=True), samples)
    except ImportError:
        return None


def macs_note() -> str | None:
    """A note for the report when MACs cannot be counted here."""
    try:
        from fitedge.distill.models.profile import profile_config  # noqa: F401
    except ImportError:
        return ("MACs, GFLOP/s and % of peak are empty: fitedge.distill.models.profile (the MAC counter) "
                "is not available (it needs torch: pip install \"fitedge[torch]\")")
    return None


def add_efficiency(run: dict, config: dict | None, peaks: dict[int, MachinePeak]) -> dict:
    """``run`` with ``macs``, ``gflops`` (2*MACs / p50) and ``peak_fraction`` filled where they are known."""
    macs = model_macs(config, run["input_samples"])
    if macs is None:
        return run
    run = {**run, "macs": macs}
    peak = peaks.get(run["threads"])
    if run["status"] != "ok" or run["device"] != "host":
        return run
    gflops = 2.0 * macs / (run["latency"]["p50"] / 1000.0) / 1e9
    ceiling = None if peak is None else (peak.int8_gops if run["precision"] == "int8" else peak.fp32_gflops)
    return {**run, "gflops": gflops, "peak_fraction": gflops / ceiling if ceiling else None}
