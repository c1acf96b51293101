"""The chaos harness, started once for the chaos tests (they run in file order, each
fault on the state the previous one left)."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

from tests.chaos.harness import Chaos, Counts
from tests.e2e.conftest import built


@pytest.fixture(scope="session")
def chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chaos]:
    # A CI timeout sends SIGTERM: turn it into KeyboardInterrupt so the teardown below
    # still stops the private PostgreSQL, Redis and stack (pg_ctl daemonizes the server).
    signal.signal(signal.SIGTERM, _interrupt)
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


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")
