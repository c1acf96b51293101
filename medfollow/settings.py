"""One typed Settings object, read once from the environment (strictly)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from messaging.phones import InvalidPhone, mask, to_e164

DEMO_AUTH_TOKEN = "demo-auth-token-not-secret-0000000"
DEMO_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEMO_FROM_NUMBER = "+15005550006"
TRANSPORTS = ("simulator", "twilio")


class SettingsError(ValueError):
    """A setting is missing or malformed."""


class Secret:
    """A string that never shows itself in repr, str or logs."""

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def env_str(env: Mapping[str, str], name: str, default: str) -> str:
    return env.get(name, "") or default


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None


def env_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "")
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None


def env_rate(env: Mapping[str, str], name: str, default: float) -> float:
    value = env_float(env, name, default)
    if not value > 0:
        raise SettingsError(f"{name} must be a positive number, got {env.get(name, '')!r}")
    return value


def env_seconds(env: Mapping[str, str], name: str, default: int) -> int:
    """A whole number of seconds, at least 1."""
    value = env_int(env, name, default)
    if value < 1:
        raise SettingsError(f"{name} must be a whole number of seconds, at least 1, got {value}")
    return value


def env_bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name, "")
    if not raw:
        return default
    if raw not in ("true", "false"):
        raise SettingsError(f"{name} must be 'true' or 'false', got {raw!r}")
    return raw == "true"


def env_secret(env: Mapping[str, str], name: str, default: str) -> Secret:
    """Read NAME_FILE (a file holding the secret) first, then NAME, then the default."""
    path = env.get(f"{name}_FILE", "")
    if path:
        try:
            return Secret(Path(path).read_text().strip())
        except OSError as exc:
            raise SettingsError(f"{name}_FILE cannot be read: {exc.strerror}") from None
    return Secret(env.get(name, "") or default)


def env_intervals(env: Mapping[str, str], name: str, default: str) -> tuple[int, ...]:
    raw = env_str(env, name, default)
    try:
        values = tuple(int(x) for x in raw.split(","))
    except ValueError:
        raise SettingsError(f"{name} must be comma-separated seconds, got {raw!r}") from None
    if not values or min(values) < 0:
        raise SettingsError(f"{name} must be comma-separated seconds, got {raw!r}")
    return values


def env_database_url(env: Mapping[str, str], default: str) -> Secret:
    """DATABASE_URL (or its _FILE), checked; an error never shows it (it holds a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    secret = env_secret(env, "DATABASE_URL", default)
    try:
        make_url(secret.reveal())
    except (ArgumentError, ValueError):
        raise SettingsError(
            "DATABASE_URL is not a database URL (dialect://user:password@host:port/name); "
            "its value is not shown"
        ) from None
    return secret


def env_urls(env: Mapping[str, str], name: str, default: str) -> tuple[str, ...]:
    """Comma-separated http(s) URLs, without trailing slashes, no duplicates."""
    raw = env_str(env, name, default)
    urls = tuple(u.strip().rstrip("/") for u in raw.split(","))
    if any(not u.startswith(("http://", "https://")) for u in urls) or len(set(urls)) != len(urls):
        raise SettingsError(f"{name} must be distinct comma-separated http(s) URLs, got {raw!r}")
    return urls


def e164(name: str, raw: str) -> str:
    """A number already written in E.164 (+ and country code); Twilio sends from no other."""
    try:
        number = to_e164(raw)
    except InvalidPhone:
        number = ""
    if not number or number != raw:
        raise SettingsError(f"{name} must be an E.164 number like +15005550006, got {mask(raw)}")
    return number


def env_from_numbers(env: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """TWILIO_FROM_NUMBER and TWILIO_FROM_NUMBERS (the pool), checked together.

    The pool is TWILIO_FROM_NUMBERS when it is set; TWILIO_FROM_NUMBER, when also set,
    must be one of them (it is the number patients enrolled before the pool know, so
    leaving it out is taken for a mistake). Alone, TWILIO_FROM_NUMBER is a pool of one.
    """
    single = e164("TWILIO_FROM_NUMBER", env_str(env, "TWILIO_FROM_NUMBER", DEMO_FROM_NUMBER))
    raw = env.get("TWILIO_FROM_NUMBERS", "")
    if not raw.strip():
        return single, ()
    pool: list[str] = []
    for n, item in enumerate(raw.split(","), start=1):
        number = e164(f"TWILIO_FROM_NUMBERS (item {n})", item.strip())
        if number in pool:
            raise SettingsError(f"TWILIO_FROM_NUMBERS lists a number twice (item {n})")
        pool.append(number)
    if env.get("TWILIO_FROM_NUMBER", "") and single not in pool:
        raise SettingsError(
            "TWILIO_FROM_NUMBER is not one of TWILIO_FROM_NUMBERS: add it to the list "
            "(its patients keep their number) or unset it"
        )
    return single, tuple(pool)


@dataclass(frozen=True)
class Settings:
    """Every setting of the stack. Tests build it directly or from a dict."""

    var_dir: Path = Path("var")
    database_url: Secret = field(default_factory=lambda: Secret("sqlite:///var/medfollow.db"))
    redis_url: str = "redis://127.0.0.1:6379/0"
    host: str = "127.0.0.1"
    port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"
    trust_proxy_headers: bool = False
    sms_transport: str = "simulator"
    twilio_account_sid: str = DEMO_ACCOUNT_SID
    twilio_auth_token: Secret = field(default_factory=lambda: Secret(DEMO_AUTH_TOKEN))
    twilio_from_number: str = DEMO_FROM_NUMBER
    # The pool of sending numbers (TWILIO_FROM_NUMBERS); empty: TWILIO_FROM_NUMBER alone.
    # Read it through `sending_pool`.
    twilio_from_numbers: tuple[str, ...] = ()
    twilio_api_base: str = ""
    send_rate_per_number: float = 1.0  # segments per second per sending number
    prism_port: int = 4010
    # Several Rasa servers share the SQL tracker store; each conversation is pinned to
    # one by a consistent hash of its pseudonym (conversation/hashring.py).
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_down_seconds: float = 10.0
    rasa_token: Secret = field(default_factory=lambda: Secret("demo-rasa-token"))
    rasa_timeout: float = 10.0
    action_server_port: int = 5055
    action_server_url: str = "http://127.0.0.1:5055"
    simulator_enabled: bool = True
    clinic_name: str = "Medfollow Demo Clinic"
    clinic_phone: str = "+15555550100"
    clinic_hours: str = "Mon-Fri 9am-5pm"
    default_region: str = "US"
    retry_intervals: tuple[int, ...] = (2, 5, 15, 30, 60, 120)
    sweep_after_seconds: int = 30
    # A send claimed this long with no outcome: its worker died mid-send; it is marked
    # failed ("outcome unknown"), never resent. Keep it above the transport's timeout.
    stale_claim_seconds: int = 300
    # A text that answered an emergency or urgent signal (the crisis reply, red-flag
    # advice, the dialogue's replies) that Twilio accepted but has not reported delivered
    # within this is an R20 alert, like one that failed (escalation/undelivered.py).
    delivery_confirm_seconds: int = 120
    # Scheduling defaults (a patient's plan can set its own: `medfollow plan set`).
    mood_every_days: int = 7
    mood_check_time: str = "11:00"
    checkin_answer_minutes: int = 360
    checkin_reminder_minutes: int = 60
    conversation_quiet_minutes: int = 10
    scheduler_stale_seconds: int = 120
    checkin_send_deadline_seconds: int = 600
    log_level: str = "INFO"
    escalation_policy: str = ""
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_from: str = "medfollow@localhost"
    smtp_user: str = ""
    smtp_password: Secret = field(default_factory=lambda: Secret(""))
    smtp_starttls: bool = False
    pager_webhook_url: str = ""
    pager_webhook_secret: Secret = field(default_factory=lambda: Secret(""))
    notify_timeout: float = 10.0
    # Signs the clinic web app's session cookies; empty: generated once under var_dir.
    secret_key: Secret = field(default_factory=lambda: Secret(""))
    # JSON API: requests per token per minute (429 with Retry-After beyond it).
    api_rate_limit: int = 120

    @property
    def sending_pool(self) -> tuple[str, ...]:
        """The numbers texts go from, in order: each patient is pinned to one of them
        (messaging/pool.py); the first also sends clinician pages."""
        return self.twilio_from_numbers or (self.twilio_from_number,)

    @property
    def rasa_url(self) -> str:
        """The first Rasa server (the only one unless RASA_URLS names several)."""
        return self.rasa_urls[0]

    @property
    def rasa_enabled(self) -> bool:
        return bool(self.rasa_url)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        e = os.environ if env is None else env
        var_dir = Path(env_str(e, "MEDFOLLOW_VAR", "var"))
        port = env_int(e, "MEDFOLLOW_PORT", 8000)
        transport = env_str(e, "SMS_TRANSPORT", "simulator")
        if transport not in TRANSPORTS:
            raise SettingsError(f"SMS_TRANSPORT must be one of {', '.join(TRANSPORTS)}")
        prism_port = env_int(e, "PRISM_PORT", 4010)
        action_port = env_int(e, "ACTION_SERVER_PORT", 5055)
        from_number, from_numbers = env_from_numbers(e)
        return cls(
            var_dir=var_dir,
            database_url=env_database_url(e, f"sqlite:///{var_dir}/medfollow.db"),
            redis_url=env_str(e, "REDIS_URL", "redis://127.0.0.1:6379/0"),
            host=env_str(e, "MEDFOLLOW_HOST", "127.0.0.1"),
            port=port,
            public_base_url=env_str(e, "PUBLIC_BASE_URL", f"http://127.0.0.1:{port}").rstrip("/"),
            trust_proxy_headers=env_bool(e, "TRUST_PROXY_HEADERS", False),
            sms_transport=transport,
            twilio_account_sid=env_str(e, "TWILIO_ACCOUNT_SID", DEMO_ACCOUNT_SID),
            twilio_auth_token=env_secret(e, "TWILIO_AUTH_TOKEN", DEMO_AUTH_TOKEN),
            twilio_from_number=from_number,
            twilio_from_numbers=from_numbers,
            twilio_api_base=env_str(e, "TWILIO_API_BASE", "").rstrip("/"),
            send_rate_per_number=env_rate(e, "SEND_RATE_PER_NUMBER", 1.0),
            prism_port=prism_port,
            rasa_urls=env_urls(e, "RASA_URLS", env_str(e, "RASA_URL", "http://127.0.0.1:5005")),
            rasa_down_seconds=env_float(e, "RASA_DOWN_SECONDS", 10.0),
            rasa_token=env_secret(e, "RASA_TOKEN", "demo-rasa-token"),
            rasa_timeout=env_float(e, "RASA_TIMEOUT", 10.0),
            action_server_port=action_port,
            action_server_url=env_str(
                e, "ACTION_SERVER_URL", f"http://127.0.0.1:{action_port}"
            ).rstrip("/"),
            simulator_enabled=env_bool(e, "SIMULATOR_ENABLED", True),
            clinic_name=env_str(e, "CLINIC_NAME", "Medfollow Demo Clinic"),
            clinic_phone=env_str(e, "CLINIC_PHONE", "+15555550100"),
            clinic_hours=env_str(e, "CLINIC_HOURS", "Mon-Fri 9am-5pm"),
            default_region=env_str(e, "DEFAULT_REGION", "US"),
            retry_intervals=env_intervals(e, "RETRY_INTERVALS", "2,5,15,30,60,120"),
            sweep_after_seconds=env_int(e, "SWEEP_AFTER_SECONDS", 30),
            stale_claim_seconds=env_int(e, "STALE_CLAIM_SECONDS", 300),
            delivery_confirm_seconds=env_seconds(e, "DELIVERY_CONFIRM_SECONDS", 120),
            mood_every_days=env_int(e, "MOOD_EVERY_DAYS", 7),
            mood_check_time=env_str(e, "MOOD_CHECK_TIME", "11:00"),
            checkin_answer_minutes=env_int(e, "CHECKIN_ANSWER_MINUTES", 360),
            checkin_reminder_minutes=env_int(e, "CHECKIN_REMINDER_MINUTES", 60),
            conversation_quiet_minutes=env_int(e, "CONVERSATION_QUIET_MINUTES", 10),
            scheduler_stale_seconds=env_int(e, "SCHEDULER_STALE_SECONDS", 120),
            checkin_send_deadline_seconds=env_int(e, "CHECKIN_SEND_DEADLINE_SECONDS", 600),
            log_level=env_str(e, "LOG_LEVEL", "INFO"),
            escalation_policy=env_str(e, "ESCALATION_POLICY", ""),
            smtp_host=env_str(e, "SMTP_HOST", "127.0.0.1"),
            smtp_port=env_int(e, "SMTP_PORT", 25),
            smtp_from=env_str(e, "SMTP_FROM", "medfollow@localhost"),
            smtp_user=env_str(e, "SMTP_USER", ""),
            smtp_password=env_secret(e, "SMTP_PASSWORD", ""),
            smtp_starttls=env_bool(e, "SMTP_STARTTLS", False),
            pager_webhook_url=env_str(e, "PAGER_WEBHOOK_URL", ""),
            pager_webhook_secret=env_secret(e, "PAGER_WEBHOOK_SECRET", ""),
            notify_timeout=env_float(e, "NOTIFY_TIMEOUT", 10.0),
            secret_key=env_secret(e, "SECRET_KEY", ""),
            api_rate_limit=env_int(e, "API_RATE_LIMIT", 120),
        )
