from __future__ import annotations

import pytest

from messaging.status import advances


@pytest.mark.parametrize(
    ("current", "new", "expected"),
    [
        ("queued", "sent", True),
        ("sent", "sending", False),
        ("delivered", "sent", False),
        ("delivered", "read", True),
        ("failed", "delivered", False),
        ("undelivered", "failed", False),
        ("queued", "queued", False),
        ("queued", "bogus", False),
    ],
)
def test_it_never_moves_a_status_backwards(current: str, new: str, expected: bool) -> None:
    assert advances(current, new) is expected
