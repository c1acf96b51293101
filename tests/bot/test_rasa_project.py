"""The Rasa project (bot/, nlu/) is valid, trains, and its rules predict as written.

These run the real Rasa 3.6.21 commands from the project's own Python 3.10
environment (built once by scripts/setup_rasa.sh) against the model that
scripts/train_rasa.sh trains and caches.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "bot" / "config.yml"
DOMAIN = ROOT / "bot" / "domain"
DATA = [ROOT / "bot" / "data", ROOT / "nlu" / "train"]
TEST_STORIES = ROOT / "bot" / "tests"

MIN_EXAMPLES_PER_INTENT = 40
MAX_SMS_CHARS = 320
# Intents the FallbackClassifier predicts by itself: they need no examples.
NO_EXAMPLES_NEEDED = {"nlu_fallback"}

# GSM 03.38: the basic character set (one septet each) and its extension table
# (an escape plus one septet: two each).
GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")


def gsm7_length(text: str) -> int | None:
    """Length of the text in GSM-7 septets, or None if it is not GSM-7 at all."""
    length = 0
    for char in text:
        if char in GSM7_BASIC:
            length += 1
        elif char in GSM7_EXTENSION:
            length += 2
        else:
            return None
    return length


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env["RASA_TELEMETRY_ENABLED"] = "false"
    return env


def run(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args,
        cwd=ROOT,
        env=rasa_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def yaml_files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    return sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict), f"{path} is not a YAML mapping"
    return loaded


def domain_intents() -> set[str]:
    intents: set[str] = set()
    for path in yaml_files(DOMAIN):
        for item in load(path).get("intents") or []:
            intents.add(next(iter(item)) if isinstance(item, dict) else str(item))
    return intents


def domain_response_texts() -> Iterator[tuple[str, str]]:
    for path in yaml_files(DOMAIN):
        for name, variations in (load(path).get("responses") or {}).items():
            for variation in variations:
                if "text" in variation:
                    yield name, str(variation["text"])


def nlu_examples() -> dict[str, list[str]]:
    examples: dict[str, list[str]] = {}
    for folder in DATA:
        for path in yaml_files(folder):
            for block in load(path).get("nlu") or []:
                if "intent" not in block:
                    continue
                lines = str(block.get("examples") or "").splitlines()
                found = [line.strip()[2:] for line in lines if line.strip().startswith("- ")]
                examples.setdefault(block["intent"], []).extend(found)
    return examples


@pytest.fixture(scope="module")
def rasa_venv() -> Path:
    """The Rasa 3.6.21 environment (built on first use: a few minutes, once)."""
    result = run(["bash", str(ROOT / "scripts" / "setup_rasa.sh")], timeout=1200)
    assert result.returncode == 0, output(result)
    return Path(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def model(rasa_venv: Path) -> Path:
    """The trained model for the current training data (cached by content)."""
    result = run(["bash", str(ROOT / "scripts" / "train_rasa.sh")], timeout=1200)
    assert result.returncode == 0, output(result)
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file(), output(result)
    return path


def test_it_validates_the_training_data_without_warnings(rasa_venv: Path) -> None:
    result = run(
        [
            str(rasa_venv / "bin" / "rasa"),
            "data",
            "validate",
            "--fail-on-warnings",
            "--data",
            *map(str, DATA),
            "--config",
            str(CONFIG),
            "--domain",
            str(DOMAIN),
        ],
        timeout=600,
    )
    assert result.returncode == 0, output(result)


def test_it_predicts_every_test_story(rasa_venv: Path, model: Path, tmp_path: Path) -> None:
    result = run(
        [
            str(rasa_venv / "bin" / "rasa"),
            "test",
            "core",
            "--stories",
            str(TEST_STORIES),
            "--model",
            str(model),
            "--fail-on-prediction-errors",
            "--out",
            str(tmp_path / "results"),
        ],
        timeout=600,
    )
    assert result.returncode == 0, output(result)


def test_it_has_test_stories_for_every_rule() -> None:
    rule_actions = {
        step["action"]
        for path in yaml_files(ROOT / "bot" / "data")
        for rule in load(path).get("rules") or []
        for step in rule["steps"]
        if "action" in step
    }
    story_actions = {
        step["action"]
        for path in yaml_files(TEST_STORIES)
        for story in load(path)["stories"]
        for step in story["steps"]
        if "action" in step
    }
    assert rule_actions <= story_actions, sorted(rule_actions - story_actions)


def test_it_keeps_every_response_to_gsm7_and_320_characters() -> None:
    texts = list(domain_response_texts())
    assert texts, "the domain has no responses"
    for name, text in texts:
        length = gsm7_length(text)
        bad = [c for c in text if gsm7_length(c) is None]
        assert length is not None, f"{name} has characters outside GSM-7: {bad!r} in {text!r}"
        assert length <= MAX_SMS_CHARS, f"{name} is {length} GSM-7 characters: {text!r}"


def test_it_has_enough_examples_for_every_intent() -> None:
    examples = nlu_examples()
    for intent in sorted(
        i for i in domain_intents() - NO_EXAMPLES_NEEDED if not i.startswith("EXTERNAL_")
    ):
        count = len(set(examples.get(intent, [])))
        assert count >= MIN_EXAMPLES_PER_INTENT, (
            f"intent {intent!r} has {count} distinct NLU examples, "
            f"needs at least {MIN_EXAMPLES_PER_INTENT}"
        )


def test_it_trains_only_on_intents_the_domain_declares() -> None:
    unknown = set(nlu_examples()) - domain_intents()
    assert not unknown, f"NLU intents missing from the domain: {sorted(unknown)}"


def test_it_counts_gsm7_extension_characters_twice() -> None:
    assert gsm7_length("Reply HELP [x]") == 16
    assert gsm7_length("curly \u2019quote\u2019") is None
    assert gsm7_length("emoji \U0001f44b") is None
    assert gsm7_length("long \u2014 dash") is None
