from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support import Prism, free_ports


@pytest.fixture(scope="session")
def prism() -> Iterator[Prism]:
    """Prism serving Twilio's published API contract on loopback."""
    mock = Prism(port=free_ports(1)[0])
    mock.start()
    yield mock
    mock.stop()
