"""Template filters: times in the clinic's time zone, and deadlines relative to now."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app, g, url_for
from sqlalchemy import select

from clinic.blueprint import bp, runtime
from store.models import Clinic, utcnow


def clinic_zone() -> ZoneInfo:
    """The (first) clinic's time zone, read once per request."""
    zone: ZoneInfo | None = g.get("clinic_zone")
    if zone is None:
        with runtime().sessions() as db:
            name = db.scalars(select(Clinic.timezone).order_by(Clinic.id)).first()
        zone = ZoneInfo(name or "UTC")
        g.clinic_zone = zone
    return zone


@bp.app_template_filter("when")
def when(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(clinic_zone()).strftime("%Y-%m-%d %H:%M %Z")


def relative(value: datetime, now: datetime) -> str:
    """'in 4 min', '2 h 5 min ago': a deadline read at a glance."""
    seconds = int((value - now).total_seconds())
    minutes = abs(seconds) // 60
    text = f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"
    if minutes == 0:
        text = "under a minute"
    return f"in {text}" if seconds >= 0 else f"{text} ago"


@bp.app_template_filter("from_now")
def from_now(value: datetime | None) -> str:
    return "-" if value is None else relative(value, utcnow())


@bp.app_template_global("patient_url")
def patient_url(patient_id: int) -> str | None:
    """The patient's page in the clinic app, once that page exists."""
    if "clinic.patient" not in current_app.view_functions:
        return None
    return url_for("clinic.patient", patient_id=patient_id)
