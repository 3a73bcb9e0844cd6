"""Activation calibration chosen per runtime by held-out error.

Each static int8 recipe observes activation ranges on the calibration windows with one method, and the best method
differs by model and runtime: min-max keeps every outlier in range and so coarsens the steps of the rest, while
histogram (PT2E's default: the range with the least L2 error), percentile and entropy clip outliers, which hurts
when the outliers carry the signal (a GroupNorm front end's first layers). So ``--calibration auto`` quantizes with
each method the runtime's quantizer offers, runs every candidate on the held-out windows, and keeps the one whose
worst window is closest to float; the manifest records the choice and every candidate's cosine. The PT2E methods
also come bias-corrected (:mod:`fitedge.quantize.bias_correction`), kept only when clearly closer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from fitedge.errors import ConfigError
from fitedge.parity import parity, worst

log = logging.getLogger(__name__)

AUTO = "auto"
# Each recipe's methods, its quantizer's usual one first. PT2E (ExecuTorch, LiteRT static): the quantizers' own
# histogram observer, or min-max, each also followed by bias correction (quantize/bias_correction.py). ONNX
# Runtime's static QDQ: its CalibrationMethod MinMax, Percentile or Entropy.
PT2E_OBSERVERS = ("histogram", "minmax")
BIAS_CORRECTED = "+bias-correction"
PT2E_METHODS = (*PT2E_OBSERVERS, *(observer + BIAS_CORRECTED for observer in PT2E_OBSERVERS))
# Bias correction must clearly beat the uncorrected methods: its held-out error (1 - worst cosine) at most this share
# of theirs. On the recipe's FitHuBERT student (.pte) it took the error from 0.174 to 0.045 with every block int8,
# and the PER damage from +6.4 to +4.2 points on synthetic speech and from +34 to +5.6 on real speech; with its convs
# float, from 0.0060 to 0.0052, and PER got 0.1 (.pte) and 0.3 (.tflite) points worse: four held-out windows cannot
# tell so small a gain from the correction's fit to the calibration windows.
BIAS_CORRECTION_MARGIN = 0.5
ONNX_RUNTIME_METHODS = ("minmax", "percentile", "entropy")
CALIBRATIONS = (AUTO, *dict.fromkeys(PT2E_METHODS + ONNX_RUNTIME_METHODS))

Quantized = TypeVar("Quantized")
Run = Callable[[np.ndarray], Sequence[np.ndarray]]


@dataclass(frozen=True)
class CalibrationChoice:
    """The method used, and every tried method's worst held-out cosine against float (``{}``: nothing compared)."""

    method: str
    held_out_cosine: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "held_out_cosine": self.held_out_cosine}


def pt2e_method(method: str) -> tuple[str, bool]:
    """A PT2E method's observer, and whether the biases are corrected after conversion."""
    observer = method.removesuffix(BIAS_CORRECTED)
    if observer not in PT2E_OBSERVERS:
        raise ValueError(f"PT2E calibration methods: {', '.join(PT2E_METHODS)}; got {method!r}")
    return observer, observer != method


def methods_to_try(requested: str, offered: Sequence[str], runtime: str) -> tuple[str, ...]:
    """The methods to quantize with: all that ``runtime`` offers for ``auto``, else the one asked for."""
    if requested == AUTO:
        return tuple(offered)
    if requested not in offered:
        raise ConfigError(f"--calibration {requested}: {runtime}'s int8 recipe calibrates with "
                          f"{', '.join(offered)} (or auto)")
    return (requested,)


def choose_calibration(methods: Sequence[str], quantize: Callable[[str], Quantized],
                       run: Callable[[Quantized], Run], held_out: Sequence[np.ndarray],
                       reference: Sequence[Sequence[np.ndarray]]) -> tuple[Quantized, CalibrationChoice]:
    """Quantize with each of ``methods``; keep the one whose worst held-out window is closest to ``reference``
    (:func:`preferred`: a bias-corrected one only when clearly closer).

    With one method, or no held-out windows, nothing is compared. Ties keep the earlier method (the recipe's own).
    """
    if len(methods) == 1 or not held_out:
        return quantize(methods[0]), CalibrationChoice(methods[0], {})
    cosines: dict[str, float] = {}
    leaders: dict[bool, str] = {}  # the best method so far without and with bias correction
    kept: dict[str, Quantized] = {}  # their candidates; the others are dropped as they lose
    for method in methods:
        candidate = quantize(method)
        cosine = held_out_cosine(run(candidate), held_out, reference)
        cosines[method] = round(cosine, 6)
        log.info("calibration %s: worst held-out cosine %.6f", method, cosine)
        group = method.endswith(BIAS_CORRECTED)
        if group not in leaders or cosines[method] > cosines[leaders[group]]:
            kept.pop(leaders.get(group, ""), None)
            leaders[group], kept[method] = method, candidate
    chosen = preferred(cosines)
    return kept[chosen], CalibrationChoice(chosen, cosines)


def preferred(cosines: dict[str, float]) -> str:
    """The method whose worst held-out cosine is highest; a bias-corrected one only if its error (1 - cosine) is at
    most :data:`BIAS_CORRECTION_MARGIN` of the best uncorrected method's."""
    def best(methods: list[str]) -> str | None:
        return max(methods, key=lambda m: cosines[m], default=None)  # max keeps the first of equals

    plain = best([m for m in cosines if not m.endswith(BIAS_CORRECTED)])
    corrected = best([m for m in cosines if m.endswith(BIAS_CORRECTED)])
    if plain is None or (corrected is not None and
                         1 - cosines[corrected] <= BIAS_CORRECTION_MARGIN * (1 - cosines[plain])):
        return corrected  # type: ignore[return-value]
    return plain


def held_out_cosine(run: Run, held_out: Sequence[np.ndarray], reference: Sequence[Sequence[np.ndarray]]) -> float:
    """The worst cosine over every held-out window and output (a non-finite output counts as -1)."""
    found = worst([parity(ref, out) for window, refs in zip(held_out, reference)
                   for ref, out in zip(refs, run(window), strict=True)]).cosine
    return found if np.isfinite(found) else -1.0
