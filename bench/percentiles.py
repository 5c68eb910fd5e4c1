"""Percentiles of benchmark samples, by nearest rank."""

from __future__ import annotations

import math
from collections.abc import Sequence


def nearest_rank(samples: Sequence[float], share: float) -> float:
    """The sample at rank ⌈share·n⌉ of the n sorted samples (rank 1 is the smallest): at least
    that share of the samples are ≤ it. p95 of 200 samples is the 190th, of 30 the 29th."""
    if not samples:
        raise ValueError("no samples")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share}")
    ordered = sorted(samples)
    rank = math.ceil(round(share * len(ordered), 9))  # 0.07 × 100 is 7.000000000000001 in floats
    return ordered[rank - 1]
