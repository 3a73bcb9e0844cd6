"""The parity thresholds a bundle is judged by: fp32 against eager PyTorch, and the default int8 floor.

A module of its own, importing nothing, so that ``fitedge export``'s options (and the command line that shows
their defaults) can name the int8 floor without loading the manifest's schema and numpy.
"""

from __future__ import annotations

FP32_THRESHOLDS = {"min_cosine": 0.99999, "max_abs_diff": 1e-3}
DEFAULT_INT8_MIN_COSINE = 0.98
