"""Required compliance texts, written in our own words, all GSM-7 and within 320 characters."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ClinicInfo:
    name: str
    phone: str
    hours: str


def opt_out_confirmation(clinic: ClinicInfo) -> str:
    return (
        f"{clinic.name}: you are unsubscribed and will get no more texts from us. "
        "Reply START to join again. If you are ever in crisis, call or text 988. "
        "In an emergency call 911."
    )


def opt_in_confirmation(clinic: ClinicInfo) -> str:
    return (
        f"{clinic.name}: you are subscribed again to medication check-in texts. "
        "Msg & data rates may apply. Reply HELP for help, STOP to end."
    )


def help_text(clinic: ClinicInfo) -> str:
    return (
        f"{clinic.name} medication check-ins. Questions: call {clinic.phone} ({clinic.hours}). "
        "Texts are not monitored around the clock. In a crisis call or text 988; "
        "in an emergency call 911. Reply STOP to end texts. Msg & data rates may apply."
    )


def unenrolled_reply(clinic: ClinicInfo) -> str:
    return (
        f"This number sends medication check-ins for patients of {clinic.name}. "
        f"To join, please ask your care team or call {clinic.phone}. "
        "In a crisis call or text 988; in an emergency call 911."
    )


def welcome_text(clinic: ClinicInfo) -> str:
    """The first text after enrolment: what this is, and that nothing comes until YES."""
    return (
        f"{clinic.name}: your care team has signed you up for medication check-in texts. "
        "Reply YES to start. Msg & data rates may apply. Reply HELP for help, STOP to end. "
        "Not for emergencies: call 911, or call or text 988."
    )


def welcome_confirmation(clinic: ClinicInfo) -> str:
    """The one reply to a new patient's YES: check-ins start from the next dose."""
    return (
        f"{clinic.name}: thank you, you are signed up. Check-ins start from your next dose "
        "time. Msg & data rates may apply. Reply HELP for help, STOP to end."
    )
