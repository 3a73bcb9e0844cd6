"""Symmetric int8 weights with one scale per output channel, as the per-row dynamic recipes write them."""

from __future__ import annotations

import numpy as np

LEVELS = 127  # -127..127: symmetric, zero point 0


def per_channel_int8(weight: np.ndarray, channel_axis: int) -> tuple[np.ndarray, np.ndarray]:
    """``weight`` rounded to int8 levels with one scale per index of ``channel_axis``; returns (levels, scales).

    Levels come back as float values in -127..127 (each format stores them its own way); an all-zero channel gets
    the smallest scale rather than 0/0.
    """
    others = tuple(axis for axis in range(weight.ndim) if axis != channel_axis % weight.ndim)
    scale = np.maximum(np.abs(weight).max(axis=others, keepdims=True), np.finfo(np.float32).tiny) / LEVELS
    levels = np.clip(np.round(weight / scale), -LEVELS, LEVELS)
    return levels, scale.reshape(-1).astype(np.float32)
