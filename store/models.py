"""SQLAlchemy 2.0 typed models: the tables of the data foundation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored with its zone and always read back as an aware UTC datetime
    (SQLite keeps no offset: its values come back naive, and are UTC by construction)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            return value.astimezone(UTC)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_pseudonym() -> str:
    return uuid.uuid4().hex


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Clinic(Base):
    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    hours: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    # Scheduled texts go out only between these local times ("HH:MM", within 08:00-21:00).
    quiet_start: Mapped[str] = mapped_column(String(5), default="09:00", server_default="09:00")
    quiet_end: Mapped[str] = mapped_column(String(5), default="20:00", server_default="20:00")
    # The clinic's changes to the escalation policy's deadlines, as JSON
    # {"urgent": {"ack_within": 1200}}: seconds per tier, applied over the policy file.
    escalation_overrides: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Patient(Base):
    __tablename__ = "patient"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    # The pseudonymous id Rasa sees as the conversation's sender: never the phone.
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True, default=new_pseudonym)
    phone: Mapped[str] = mapped_column(String(20), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8), default="en")
    # "generic" texts name no medicine; "named" only when the patient agreed to it.
    sms_detail_level: Mapped[str] = mapped_column(String(16), default="generic")
    consent_version: Mapped[str | None] = mapped_column(String(32))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="active")
    # One of the bands in escalation/thresholds.yaml (age_bands), e.g. "under_25"; the
    # risk modifiers read it. None: not recorded (the thresholds say what that means).
    age_band: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The plan's scheduling settings; None means the clinic's (quiet hours) or the
    # settings' default (MOOD_EVERY_DAYS, CHECKIN_ANSWER_MINUTES, CHECKIN_REMINDER_MINUTES).
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    mood_every_days: Mapped[int | None] = mapped_column(Integer)  # 0: no mood questionnaires
    answer_window_minutes: Mapped[int | None] = mapped_column(Integer)
    reminder_after_minutes: Mapped[int | None] = mapped_column(Integer)
    # The pool number every text to this patient goes from (messaging/pool.py); None:
    # enrolled before the pool, assigned on the next send.
    sending_number: Mapped[str | None] = mapped_column(String(20), index=True)

    regimen: Mapped[list[Regimen]] = relationship(
        back_populates="patient", order_by="Regimen.id", cascade="all, delete-orphan"
    )


class Medication(Base):
    """The catalogue: one row per generic medicine."""

    __tablename__ = "medication"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)


class Regimen(Base):
    """One medicine of a patient's plan: dose and local times of day ("08:00,20:00")."""

    __tablename__ = "regimen"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    medication_id: Mapped[int] = mapped_column(ForeignKey("medication.id"))
    dose: Mapped[str] = mapped_column(String(50))
    times: Mapped[str] = mapped_column(String(200))
    days: Mapped[str] = mapped_column(String(50), default="daily")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="regimen")
    medication: Mapped[Medication] = relationship(lazy="joined")


# Outbound texts still waiting for a delivery report (an index predicate: plain SQL).
AWAITING_DELIVERY = "confirm_by IS NOT NULL"
# Texts not yet done with: an inbound one not yet answered, an outbound one not yet
# handed to Twilio, or held for the patient's window (an index predicate: plain SQL).
IN_FLIGHT = "status IN ('received', 'pending', 'claimed', 'held')"


class Message(Base):
    """Every SMS in either direction. Inbound rows are stored before Twilio is answered."""

    __tablename__ = "message"
    __table_args__ = (
        Index("ix_message_patient_direction_id", "patient_id", "direction", "id"),
        # The sweeper looks every second for texts past their delivery deadline: only the
        # few still waiting for a delivery report are in this index.
        Index(
            "ix_message_confirm_by",
            "confirm_by",
            postgresql_where=text(AWAITING_DELIVERY),
            sqlite_where=text(AWAITING_DELIVERY),
        ),
        # The sweeper and the workers look every second for texts stuck in one of these
        # states: the index holds only texts still in flight, never the history.
        Index(
            "ix_message_in_flight",
            "status",
            "updated_at",
            postgresql_where=text(IN_FLIGHT),
            sqlite_where=text(IN_FLIGHT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"))
    direction: Mapped[str] = mapped_column(String(8))  # inbound | outbound
    # Twilio's MessageSid (inbound) or the sid Twilio gave our send (outbound).
    provider_sid: Mapped[str | None] = mapped_column(String(64), unique=True)
    # Only for senders that are not enrolled (a patient's phone is stored once, on patient).
    external_phone: Mapped[str | None] = mapped_column(String(20))
    # Our side of the text: the pool number it went from (outbound, set when it is sent)
    # or the number the sender texted (inbound, Twilio's To).
    our_number: Mapped[str | None] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(32), default="message")
    # Outbound: pending -> claimed -> Twilio's statuses; held: waits for send_after.
    status: Mapped[str] = mapped_column(String(16))
    handled_by: Mapped[str | None] = mapped_column(String(16))
    # A text the clinic started outside the patient's quiet-hours window goes no earlier
    # than this (status `held` until then); kept after it is sent, as a record.
    send_after: Mapped[datetime | None] = mapped_column(UTCDateTime())
    safety_flag: Mapped[str | None] = mapped_column(String(64))
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    segments: Mapped[int] = mapped_column(Integer, default=1)
    encoding: Mapped[str] = mapped_column(String(8), default="GSM-7")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[str | None] = mapped_column(String(16))
    error_message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # An outbound text that may answer an emergency or urgent signal and that Twilio
    # accepted: by when Twilio must report it delivered. Cleared by its final status, or
    # by the sweeper when the time is up (which then raises R20 if the text mattered).
    confirm_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # When an R20 alert was raised (or joined) about this text: at most once per text,
    # whether it failed, went undelivered or stayed unconfirmed.
    delivery_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class DoseEvent(Base):
    """A dose the patient confirmed as taken, missed or delayed."""

    __tablename__ = "dose_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    regimen_id: Mapped[int | None] = mapped_column(ForeignKey("regimen.id"))
    outcome: Mapped[str] = mapped_column(String(16))  # taken | missed | later
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The alert states that are still live (an index predicate: keep it plain SQL).
LIVE_ALERT = "state IN ('open', 'notified', 'acknowledged')"


class Alert(Base):
    """A clinician alert: who, what, why (evidence), how urgent, by when.

    State moves open -> notified -> acknowledged -> resolved, by compare-and-set
    updates only, so two workers or two clinicians never page or acknowledge twice.
    """

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("code"),
        Index("ix_alert_patient_kind_state", "patient_id", "kind", "state"),
        # One live alert per patient and kind: two first signals racing join one alert.
        Index(
            "uq_alert_live_patient_kind",
            "patient_id",
            "kind",
            unique=True,
            postgresql_where=text(LIVE_ALERT),
            sqlite_where=text(LIVE_ALERT),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12))
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    tier: Mapped[str] = mapped_column(String(16))
    # What the alert is about (dedup key with the patient): a new signal of the same kind
    # joins an open alert instead of paging again.
    kind: Mapped[str] = mapped_column(String(32), default="general")
    rules: Mapped[str] = mapped_column(String(200))
    evidence_message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    # What the care team should know, in plain words; visible to clinicians, never logged.
    summary: Mapped[str] = mapped_column(Text, default="")
    signals: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    backup_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(16), default="open")
    # The escalation step reached: 0 none, 1 primary paged, 2 backup, 3 supervisor.
    level: Mapped[int] = mapped_column(Integer, default=0)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    acknowledged_by: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Clinician(Base):
    __tablename__ = "clinician"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    role: Mapped[str] = mapped_column(String(16), default="clinician")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Web sign-in: a scrypt/argon2 hash (never the password), and the lockout counters.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Web sessions signed in before this are void (sign-out, password reset, deactivation).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CareTeam(Base):
    """A named group of clinicians who look after patients together."""

    __tablename__ = "care_team"
    __table_args__ = (UniqueConstraint("clinic_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CareTeamMember(Base):
    __tablename__ = "care_team_member"

    care_team_id: Mapped[int] = mapped_column(ForeignKey("care_team.id"), primary_key=True)
    clinician_id: Mapped[int] = mapped_column(ForeignKey("clinician.id"), primary_key=True)


class MessageTemplate(Base):
    """A text the clinic approved for clinicians to send; retired, never deleted."""

    __tablename__ = "message_template"

    id: Mapped[int] = mapped_column(primary_key=True)
    clinic_id: Mapped[int] = mapped_column(ForeignKey("clinic.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(254))
    approved_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OnCallShift(Base):
    """Who is paged from `starts_at` (until the next shift starts, or `ends_at`)."""

    __tablename__ = "on_call_shift"

    id: Mapped[int] = mapped_column(primary_key=True)
    primary_id: Mapped[int] = mapped_column(ForeignKey("clinician.id"))
    backup_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    supervisor_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    timezone: Mapped[str] = mapped_column(String(64), default="America/New_York")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AlertDelivery(Base):
    """One attempt to reach a clinician about an alert, with its outcome."""

    __tablename__ = "alert_delivery"

    id: Mapped[int] = mapped_column(primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alert.id"), index=True)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    channel: Mapped[str] = mapped_column(String(16))
    to: Mapped[str] = mapped_column(String(254))
    level: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))  # sent | failed | retrying
    provider_id: Mapped[str | None] = mapped_column(String(128))
    error: Mapped[str | None] = mapped_column(Text)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Checkin(Base):
    """One scheduled dose check-in: unique per patient, regimen entry and local time."""

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("patient_id", "regimen_id", "scheduled_local"),
        # The scheduler looks every second for the few rows in one state (due, queued,
        # sent): the status first, so it never scans the history.
        Index("ix_checkin_status_due_at", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    regimen_id: Mapped[int] = mapped_column(ForeignKey("regimen.id"))
    # The patient's local wall-clock time of the dose, ISO "2026-11-22T20:00".
    scheduled_local: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(16), default="due")
    outcome: Mapped[str | None] = mapped_column(String(16))
    reminder_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # When the scheduler started it (due -> queued), and when its answer window closes:
    # a check-in not started by then is skipped, one not answered by then is unanswered.
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    regimen: Mapped[Regimen] = relationship(lazy="joined")


class MoodCheck(Base):
    """One scheduled mood questionnaire (PHQ-2): unique per patient and period, so it
    starts once per period however often the scheduler plans or restarts."""

    __tablename__ = "mood_check"
    __table_args__ = (UniqueConstraint("patient_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"))
    # The local date the period starts ("2026-11-23"); periods count from enrolment.
    period: Mapped[str] = mapped_column(String(10))
    instrument: Mapped[str] = mapped_column(String(16), default="PHQ-2")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the period's end
    # due -> queued (the scheduler started it) -> sent (the PHQ-2's first question was
    # asked) -> answered (the PHQ-2 complete) | unanswered (the period closed first);
    # skipped: never asked (the period closed first, or the patient opted out, is paused
    # or in crisis).
    status: Mapped[str] = mapped_column(String(16), default="due")
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Heartbeat(Base):
    """The last time a part of the system was seen working, and when staff were last
    alerted that it stopped (one alert per outage)."""

    __tablename__ = "heartbeat"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    beat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class SideEffectReport(Base):
    """A side effect the patient reported, with FIBSER ratings (0-6) as they arrive."""

    __tablename__ = "side_effect_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    symptom: Mapped[str] = mapped_column(String(200))
    red_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    frequency: Mapped[int | None] = mapped_column(Integer)
    intensity: Mapped[int | None] = mapped_column(Integer)
    burden: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Score(Base):
    """A questionnaire (PHQ-2, PHQ-9, ASQ): item answers stored as each one arrives."""

    __tablename__ = "score"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    instrument: Mapped[str] = mapped_column(String(16))
    # Item answers as "item=value" pairs, comma-separated: "1=2,2=1".
    items: Mapped[str] = mapped_column(String(200), default="")
    total: Mapped[int | None] = mapped_column(Integer)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AuditEvent(Base):
    """Who did or saw what, when: every page or API call that shows patient data,
    and every change a clinician or an admin makes. Append-only."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    # "clinician" (web session), "token" (API client) or "system" (CLI, scheduler).
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(Integer)
    actor_name: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(64))  # e.g. patient.view, alert.acknowledge
    patient_id: Mapped[int | None] = mapped_column(ForeignKey("patient.id"), index=True)
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[str | None] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64))


class ConsentEvent(Base):
    """The consent history of a patient: granted, withdrawn, re-granted, with the
    version of the wording, the channel and who recorded it."""

    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # granted | withdrawn | opted_in
    version: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # in_person | phone | sms | web
    recorded_by: Mapped[str] = mapped_column(String(254))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ApiToken(Base):
    """A bearer token of one API client: only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # Space-separated scopes, e.g. "read write".
    scopes: Mapped[str] = mapped_column(String(200), default="read")
    created_by: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
