"""medfollow.settings: defaults, _FILE secrets, secrets never shown, strict errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from medfollow.settings import (
    DEMO_ACCOUNT_SID,
    DEMO_AUTH_TOKEN,
    DEMO_FROM_NUMBER,
    Secret,
    Settings,
    SettingsError,
)

SECRET = "s3cr3t-value-that-must-not-leak"
# A secret's value as its variable holds it (DATABASE_URL must parse as a URL).
VALUES = {"DATABASE_URL": f"postgresql://app:{SECRET}@db/medfollow"}


def test_it_uses_the_documented_defaults_for_an_empty_environment() -> None:
    s = Settings.from_env({})
    assert s == Settings()
    assert s.var_dir == Path("var")
    assert s.database_url.reveal() == "sqlite:///var/medfollow.db"
    assert s.redis_url == "redis://127.0.0.1:6379/0"
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.public_base_url == "http://127.0.0.1:8000"
    assert s.trust_proxy_headers is False
    assert s.sms_transport == "simulator"
    assert s.twilio_account_sid == DEMO_ACCOUNT_SID
    assert s.twilio_auth_token.reveal() == DEMO_AUTH_TOKEN
    assert s.twilio_from_number == DEMO_FROM_NUMBER
    assert s.twilio_api_base == ""
    assert s.rasa_url == "http://127.0.0.1:5005"
    assert s.rasa_token.reveal() == "demo-rasa-token"
    assert s.rasa_timeout == 10.0
    assert s.simulator_enabled is True
    assert s.default_region == "US"
    assert s.retry_intervals == (2, 5, 15, 30, 60, 120)
    assert s.sweep_after_seconds == 30
    assert s.delivery_confirm_seconds == 120
    assert s.log_level == "INFO"


def test_it_treats_an_empty_variable_as_unset() -> None:
    names = ["MEDFOLLOW_PORT", "SMS_TRANSPORT", "SIMULATOR_ENABLED", "RETRY_INTERVALS"]
    assert Settings.from_env(dict.fromkeys(names, "")) == Settings()


@pytest.mark.parametrize(
    ("env", "attr", "expected"),
    [
        ({"MEDFOLLOW_PORT": "9000"}, "public_base_url", "http://127.0.0.1:9000"),
        ({"PUBLIC_BASE_URL": "https://example.org/"}, "public_base_url", "https://example.org"),
        ({"RASA_URL": "http://rasa:5005/"}, "rasa_url", "http://rasa:5005"),
        ({"TWILIO_API_BASE": "http://127.0.0.1:4010/"}, "twilio_api_base", "http://127.0.0.1:4010"),
        ({"RETRY_INTERVALS": "0"}, "retry_intervals", (0,)),
        ({"RETRY_INTERVALS": "1,2,3"}, "retry_intervals", (1, 2, 3)),
        ({"SIMULATOR_ENABLED": "false"}, "simulator_enabled", False),
        ({"TRUST_PROXY_HEADERS": "true"}, "trust_proxy_headers", True),
        ({"SMS_TRANSPORT": "twilio"}, "sms_transport", "twilio"),
        ({"RASA_TIMEOUT": "2.5"}, "rasa_timeout", 2.5),
        ({"DELIVERY_CONFIRM_SECONDS": "300"}, "delivery_confirm_seconds", 300),
    ],
)
def test_it_reads_and_tidies_values_from_the_environment(
    env: dict[str, str], attr: str, expected: object
) -> None:
    assert getattr(Settings.from_env(env), attr) == expected


def test_it_puts_the_default_database_inside_the_var_directory(tmp_path: Path) -> None:
    s = Settings.from_env({"MEDFOLLOW_VAR": str(tmp_path)})
    assert s.var_dir == tmp_path
    assert s.database_url.reveal() == f"sqlite:///{tmp_path}/medfollow.db"


@pytest.mark.parametrize(
    ("name", "attr"),
    [
        ("DATABASE_URL", "database_url"),
        ("TWILIO_AUTH_TOKEN", "twilio_auth_token"),
        ("RASA_TOKEN", "rasa_token"),
    ],
)
def test_it_reads_a_secret_from_its_file(tmp_path: Path, name: str, attr: str) -> None:
    path = tmp_path / "secret"
    value = VALUES.get(name, SECRET)
    path.write_text(f"  {value}\n")
    s = Settings.from_env({f"{name}_FILE": str(path), name: "sqlite:///plain-variable-loses"})
    secret = getattr(s, attr)
    assert isinstance(secret, Secret)
    assert secret.reveal() == value


@pytest.mark.parametrize(
    ("name", "attr"),
    [
        ("DATABASE_URL", "database_url"),
        ("TWILIO_AUTH_TOKEN", "twilio_auth_token"),
        ("RASA_TOKEN", "rasa_token"),
    ],
)
def test_it_reads_a_secret_from_the_plain_variable_without_a_file(name: str, attr: str) -> None:
    value = VALUES.get(name, SECRET)
    secret = getattr(Settings.from_env({name: value}), attr)
    assert isinstance(secret, Secret)
    assert secret.reveal() == value


@pytest.mark.parametrize(
    "env",
    [
        {"DATABASE_URL": f"postgresql://app:{SECRET}@db/medfollow"},
        {"TWILIO_AUTH_TOKEN": SECRET},
        {"RASA_TOKEN": SECRET},
    ],
)
def test_it_never_shows_a_secret_in_repr_str_or_f_strings(env: dict[str, str]) -> None:
    s = Settings.from_env(env)
    shown = [
        repr(s),
        str(s),
        f"{s}",
        f"{s!r}",
        f"{s.database_url} {s.twilio_auth_token} {s.rasa_token}",
        f"{s.database_url!r} {s.twilio_auth_token!r} {s.rasa_token!r}",
        "%s %r" % (s, s),  # noqa: UP031 - the old formatting is what logging uses
        format(s.twilio_auth_token),
    ]
    for text in shown:
        assert SECRET not in text
    assert "**********" in repr(s)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MEDFOLLOW_PORT", "abc"),
        ("PRISM_PORT", "40.10"),
        ("ACTION_SERVER_PORT", "five"),
        ("SWEEP_AFTER_SECONDS", "30s"),
        ("RASA_TIMEOUT", "soon"),
        ("SIMULATOR_ENABLED", "yes"),
        ("SIMULATOR_ENABLED", "True"),
        ("TRUST_PROXY_HEADERS", "1"),
        ("SMS_TRANSPORT", "carrier-pigeon"),
        ("RETRY_INTERVALS", "1,x"),
        ("RETRY_INTERVALS", "1,,2"),
        ("RETRY_INTERVALS", "5,-1"),
        ("DELIVERY_CONFIRM_SECONDS", "2m"),
        ("DELIVERY_CONFIRM_SECONDS", "0"),
        ("DELIVERY_CONFIRM_SECONDS", "-120"),
    ],
)
def test_it_rejects_a_bad_value_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


@pytest.mark.parametrize("name", ["DATABASE_URL", "TWILIO_AUTH_TOKEN", "RASA_TOKEN"])
def test_it_rejects_a_secret_file_that_does_not_exist(tmp_path: Path, name: str) -> None:
    with pytest.raises(SettingsError, match=f"{name}_FILE"):
        Settings.from_env({f"{name}_FILE": str(tmp_path / "missing")})


def test_it_rejects_a_secret_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="TWILIO_AUTH_TOKEN_FILE"):
        Settings.from_env({"TWILIO_AUTH_TOKEN_FILE": str(tmp_path)})


def test_it_is_a_value_error_for_callers_that_catch_those() -> None:
    assert issubclass(SettingsError, ValueError)


@pytest.mark.parametrize(
    ("env", "urls"),
    [
        ({}, ("http://127.0.0.1:5005",)),
        ({"RASA_URL": "http://rasa:5005/"}, ("http://rasa:5005",)),
        (
            {"RASA_URLS": "http://rasa-0.rasa:5005, http://rasa-1.rasa:5005/"},
            ("http://rasa-0.rasa:5005", "http://rasa-1.rasa:5005"),
        ),
        ({"RASA_URL": "http://a:1", "RASA_URLS": "http://b:2"}, ("http://b:2",)),
    ],
)
def test_it_reads_one_or_several_rasa_servers(env: dict[str, str], urls: tuple[str, ...]) -> None:
    s = Settings.from_env(env)
    assert s.rasa_urls == urls
    assert s.rasa_url == urls[0]


@pytest.mark.parametrize("raw", ["rasa:5005", "http://a:1,http://a:1", "http://a:1,,http://b:2"])
def test_it_refuses_malformed_rasa_urls(raw: str) -> None:
    with pytest.raises(SettingsError, match="RASA_URLS"):
        Settings.from_env({"RASA_URLS": raw})


@pytest.mark.parametrize("raw", [f"nonsense-{SECRET}", f"postgresql://u:{SECRET}@h:notaport/db"])
def test_it_refuses_a_malformed_database_url_without_showing_it(raw: str) -> None:
    with pytest.raises(SettingsError, match="DATABASE_URL is not a database URL") as caught:
        Settings.from_env({"DATABASE_URL": raw})
    assert SECRET not in str(caught.value)


# --- the pool of sending numbers -------------------------------------------------------------

POOL = ("+15005550006", "+15005550007", "+15005550008")


def test_it_reads_one_sending_number_as_a_pool_of_one() -> None:
    assert Settings.from_env({}).sending_pool == (DEMO_FROM_NUMBER,)
    s = Settings.from_env({"TWILIO_FROM_NUMBER": "+15005550009"})
    assert s.sending_pool == ("+15005550009",)


def test_it_reads_the_pool_in_its_order() -> None:
    s = Settings.from_env({"TWILIO_FROM_NUMBERS": " +15005550006, +15005550007,+15005550008 "})
    assert s.sending_pool == POOL


def test_it_takes_the_pool_when_both_are_set_and_the_one_number_is_in_it() -> None:
    env = {"TWILIO_FROM_NUMBERS": ",".join(POOL), "TWILIO_FROM_NUMBER": "+15005550008"}
    assert Settings.from_env(env).sending_pool == POOL


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TWILIO_FROM_NUMBERS": "+15005550006,+15005550006"}, "twice \\(item 2\\)"),
        ({"TWILIO_FROM_NUMBERS": "+15005550006,5005550007"}, "\\(item 2\\) must be an E.164"),
        ({"TWILIO_FROM_NUMBERS": "+15005550006,,+15005550007"}, "\\(item 2\\) must be an E.164"),
        ({"TWILIO_FROM_NUMBERS": "+1500555000x"}, "\\(item 1\\) must be an E.164"),
        ({"TWILIO_FROM_NUMBERS": "+15005550006,"}, "\\(item 2\\) must be an E.164"),
        ({"TWILIO_FROM_NUMBER": "(500) 555-0006"}, "TWILIO_FROM_NUMBER must be an E.164"),
        (
            {"TWILIO_FROM_NUMBERS": "+15005550006", "TWILIO_FROM_NUMBER": "+15005550007"},
            "TWILIO_FROM_NUMBER is not one of TWILIO_FROM_NUMBERS",
        ),
    ],
)
def test_it_refuses_a_bad_pool_with_a_clear_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message) as caught:
        Settings.from_env(env)
    assert "5005550007" not in str(caught.value)  # numbers are shown masked, if at all
