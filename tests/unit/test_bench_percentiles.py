"""The benchmarks' percentiles: nearest rank over the sorted samples."""

from __future__ import annotations

import random

import pytest

from bench.percentiles import nearest_rank

ONE_TO_200 = [float(value) for value in range(1, 201)]


@pytest.mark.parametrize(
    ("samples", "share", "expected"),
    [
        (ONE_TO_200, 0.5, 100.0),  # the 100th of 200, not the 101st
        (ONE_TO_200, 0.95, 190.0),
        (ONE_TO_200, 0.99, 198.0),
        (ONE_TO_200, 1.0, 200.0),
        ([float(v) for v in range(1, 31)], 0.95, 29.0),  # ⌈28.5⌉ = 29th of 30, not the 28th
        ([float(v) for v in range(1, 101)], 0.07, 7.0),  # 0.07 × 100 is 7.000000000000001
        ([5.0], 0.99, 5.0),
    ],
)
def test_nearest_rank_picks_the_sample_at_rank_ceil_share_times_n(
    samples: list[float], share: float, expected: float
) -> None:
    assert nearest_rank(samples, share) == expected


def test_samples_are_sorted_first() -> None:
    shuffled = ONE_TO_200.copy()
    random.Random(1).shuffle(shuffled)
    assert nearest_rank(shuffled, 0.95) == 190.0
    assert shuffled != ONE_TO_200  # left as it was given


@pytest.mark.parametrize(("samples", "share"), [([], 0.5), ([1.0], 0.0), ([1.0], 1.5)])
def test_no_percentile_without_samples_or_outside_zero_to_one(
    samples: list[float], share: float
) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 — the message is not the point
        nearest_rank(samples, share)
