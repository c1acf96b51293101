"""Channel name -> notifier factory. Adding a channel: a module beside this one, one entry here."""

from __future__ import annotations

from collections.abc import Callable

from escalation.notifiers.base import Notifier
from escalation.notifiers.email import EmailNotifier
from escalation.notifiers.webhook import WebhookNotifier
from medfollow.settings import Settings

NOTIFIERS: dict[str, Callable[[Settings], Notifier]] = {
    "email": EmailNotifier,
    "webhook": WebhookNotifier,
    # "sms" joins here with escalation/notifiers/sms.py.
}


def make_notifier(channel: str, settings: Settings) -> Notifier:
    """The notifier for `channel`; KeyError naming the known channels if there is none."""
    try:
        factory = NOTIFIERS[channel]
    except KeyError:
        known = ", ".join(sorted(NOTIFIERS))
        raise KeyError(f"no notifier for channel {channel!r} (known: {known})") from None
    return factory(settings)
