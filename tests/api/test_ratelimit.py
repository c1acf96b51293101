"""The rate limit's arithmetic: one-minute windows, and the Retry-After they give."""

from __future__ import annotations

import pytest

from api.ratelimit import judge, window_of


@pytest.mark.parametrize(
    ("now", "window", "left"),
    [(0.0, 0, 60), (59.2, 0, 1), (60.0, 1, 60), (125.5, 2, 55), (119.99, 1, 1)],
)
def test_it_splits_time_into_minute_windows(now: float, window: int, left: int) -> None:
    assert window_of(now) == (window, left)


def test_it_allows_up_to_the_limit_and_says_when_to_retry() -> None:
    assert judge(3, 3, 20).allowed and judge(3, 3, 20).remaining == 0
    refused = judge(4, 3, 20)
    assert not refused.allowed and refused.retry_after == 20
