"""Comparing mlx arrays in the punie_train tests."""

from __future__ import annotations

import mlx.core as mx
import numpy as np


def close(a: mx.array, b: mx.array, tol: float = 1e-5) -> bool:
    """Equal up to float32 rounding, relative to the larger magnitude."""
    scale = max(1.0, float(np.abs(np.asarray(b)).max()))
    return float(np.abs(np.asarray(a - b)).max()) <= tol * scale
