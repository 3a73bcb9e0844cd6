"""The parity thresholds a bundle is judged by: fp32 against eager PyTorch, and the default int8 floor.

A module of its own, importing nothing, so that ``fitedge export``'s options (and the command line that shows
their defaults) can name the int8 floor without loading the manifest's schema and numpy.
"""

from __future__ import annotations

FP32_THRESHOLDS = {"min_cosine": 0.99999, "max_abs_diff": 1e-3}
DEFAULT_INT8_MIN_COSINE = 0.98
# With a CTC head: the share of held-out frames whose best token an int8 artifact must keep. On the recipe's two
# FitHuBERT students, int8 transcripts of real speech agreed with fp32's on 96.8-97.2% of phonemes where the head
# kept 98.5-98.7% of these decisions (XNNPACK's dynamic recipe), and on 77-89% where it kept 92.4-96.2% (every
# other recipe; docs/recipe/results.md).
DEFAULT_MIN_DECISIONS = 0.98
