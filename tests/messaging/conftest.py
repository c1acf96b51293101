from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Prism


@pytest.fixture(scope="session")
def prism() -> Iterator[Prism]:
    """Prism serving Twilio's published API contract on loopback."""
    mock = Prism(port=4510)
    mock.start()
    yield mock
    mock.stop()
