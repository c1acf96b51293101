"""The chaos harness, started once for the chaos tests (they run in file order, each
fault on the state the previous one left)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chaos.harness import Chaos, Counts
from tests.e2e.conftest import built


@pytest.fixture(scope="session")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    counts = Counts()
    harness = Chaos(
        tmp_path_factory.mktemp("chaos"), counts, built("setup_rasa.sh"), built("train_rasa.sh")
    )
    try:
        harness.start()
        harness.enrol_all()
        yield harness
    finally:
        harness.stop()
