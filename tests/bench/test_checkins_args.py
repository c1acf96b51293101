"""bench.checkins: the pool of sending numbers it runs the stack with (--numbers)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.checkins import parse_args, pool_numbers, stack_env
from medfollow.settings import Settings


def test_it_sends_from_one_number_unless_told() -> None:
    assert parse_args([]).numbers == 1


def test_it_gives_the_stack_a_valid_pool_of_the_numbers_asked_for(tmp_path: Path) -> None:
    args = parse_args(["--numbers", "3"])
    env = stack_env(tmp_path, "sqlite:///x.db", "redis://127.0.0.1:6379/11", 1.0, args.numbers)
    pool = Settings.from_env(env).sending_pool
    assert len(pool) == len(set(pool)) == 3
    assert pool == pool_numbers(3)


def test_it_refuses_a_pool_of_no_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse_args(["--numbers", "0"])
    assert "--numbers" in capsys.readouterr().err
