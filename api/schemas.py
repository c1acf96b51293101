"""The API's request and response bodies. The OpenAPI document is generated from these
same models, so the document cannot drift from what the routes accept and return."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Free text a person typed: no control characters except tab and line breaks (a NUL
# byte would also be refused by PostgreSQL).
_TEXT = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"
# A name: printable, with at least one character that is not a space.
_NAME = r"^[^\x00-\x1f\x7f]*[^\x00-\x20\x7f][^\x00-\x1f\x7f]*$"
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=_TEXT)]
Email = Annotated[
    str,
    StringConstraints(
        min_length=3, max_length=254, pattern=r"^[^\s@\x00-\x1f\x7f]+@[^\s@\x00-\x1f\x7f]+$"
    ),
]
MedName = Annotated[
    str, StringConstraints(min_length=1, max_length=100, pattern=r"^[A-Za-z][A-Za-z0-9 \-]*$")
]
Dose = Annotated[
    str,
    StringConstraints(
        min_length=1, max_length=50, pattern=r"^[^\s@\x00-\x1f\x7f][^@\x00-\x1f\x7f]*$"
    ),
]
DoseTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
_DAY = "(mon|tue|wed|thu|fri|sat|sun)"
Days = Annotated[
    str, StringConstraints(pattern=rf"^(daily|weekdays|weekends|{_DAY}(,{_DAY}){{0,6}})$")
]
Tier = Literal["emergency", "urgent", "prompt", "routine"]
AlertState = Literal["open", "notified", "acknowledged", "resolved"]


class Out(BaseModel):
    """A response body."""


class In(BaseModel):
    """A request body: types are not coerced and unknown fields are refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Error(Out):
    code: str = Field(description="Stable, machine-readable: branch on this.")
    message: str = Field(description="For people: what went wrong and what to do.")


class Regimen(Out):
    id: int
    medication: str
    dose: str
    times: list[str]
    days: str
    active: bool
    started_at: datetime


class Patient(Out):
    id: int
    pseudonym: str
    name: str
    phone: str
    timezone: str
    language: str
    sms_detail_level: str
    consent_version: str | None
    consent_at: datetime | None
    opted_out: bool
    status: str
    created_at: datetime
    regimen: list[Regimen] = Field(description="The active plan.")


class Medicine(In):
    medication: MedName
    dose: Dose
    times: list[DoseTime] = Field(min_length=1, max_length=12)


class PlanChange(Medicine):
    days: Days = "daily"


class ConsentIn(In):
    """The consent the care team captured: which wording, when, how."""

    version: Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=_NAME)]
    given_on: date = Field(description="The day the patient agreed (not in the future).")
    channel: Literal["in_person", "phone", "web", "paper"]


class NewPatient(In):
    phone: Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{7,14}$")] = Field(
        description="E.164 mobile number."
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=_NAME)]
    timezone: Annotated[
        str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")
    ] = Field(description="IANA time zone, e.g. America/New_York.")
    language: Literal["en", "es"] = "en"
    consent: ConsentIn
    medicines: list[Medicine] = Field(default_factory=list, max_length=20)


class Message(Out):
    id: int
    direction: Literal["inbound", "outbound"]
    body: str
    kind: str
    status: str
    segments: int
    in_reply_to_id: int | None
    error_code: str | None
    created_at: datetime


class Checkin(Out):
    id: int
    regimen_id: int
    medication: str
    scheduled_local: str
    due_at: datetime
    status: str
    outcome: str | None
    sent_at: datetime | None
    answered_at: datetime | None


class Score(Out):
    id: int
    instrument: str
    items: dict[str, int] = Field(description="Item number -> answer.")
    total: int | None
    complete: bool
    created_at: datetime


class SideEffect(Out):
    id: int
    symptom: str
    red_flag: bool
    frequency: int | None = Field(description="FIBSER frequency, 0-6.")
    intensity: int | None = Field(description="FIBSER intensity, 0-6.")
    burden: int | None = Field(description="FIBSER burden, 0-6.")
    created_at: datetime


class Delivery(Out):
    channel: str
    level: int
    clinician_id: int | None
    status: str
    error: str | None
    at: datetime


class Alert(Out):
    code: str
    patient_id: int | None
    tier: str
    kind: str
    state: str
    level: int
    rules: list[str]
    summary: str
    signals: int
    created_at: datetime
    acknowledge_by: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: int | None
    resolved_at: datetime | None
    resolved_by: int | None
    note: str | None
    deliveries: list[Delivery]


class Acknowledge(In):
    clinician_email: Email = Field(description="The clinician acknowledging it.")


class Resolve(In):
    clinician_email: Email
    note: Text = Field(description="What was done.")


class AuditEvent(Out):
    id: int
    at: datetime
    actor_kind: str
    actor_id: int | None
    actor_name: str
    action: str
    patient_id: int | None
    target: str | None
    detail: str | None
    ip: str | None


class Skipped(Out):
    entry: int = Field(description="Position of the entry in the bundle (0-based).")
    reason: str


class RegimenList(Out):
    data: list[Regimen]


class RegimenImport(Out):
    imported: list[Regimen]
    skipped: list[Skipped]


class Page(Out):
    """A page of items, oldest first, and the cursor of the next page (null on the last)."""

    next_cursor: str | None = Field(description="Pass as ?cursor= for the next page.")


class PatientPage(Page):
    data: list[Patient]


class MessagePage(Page):
    data: list[Message]


class CheckinPage(Page):
    data: list[Checkin]


class ScorePage(Page):
    data: list[Score]


class SideEffectPage(Page):
    data: list[SideEffect]


class AlertPage(Page):
    data: list[Alert]


class AuditPage(Page):
    data: list[AuditEvent]


# Query strings: values arrive as text and are parsed.


class Query(BaseModel):
    """A query string: unknown parameters are refused (a typo is not silently ignored)."""

    model_config = ConfigDict(extra="forbid")


class PageQuery(Query):
    limit: int = Field(50, ge=1, le=200, description="Items per page.")
    cursor: Annotated[str, StringConstraints(pattern=r"^[0-9]{1,10}$")] | None = Field(
        None, description="The next_cursor of the previous page."
    )


class PatientQuery(PageQuery):
    status: (
        Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[a-z_]+$")] | None
    ) = None


class AlertQuery(PageQuery):
    state: AlertState | None = None
    tier: Tier | None = None
    patient_id: int | None = Field(None, ge=1, le=2147483647)


class AuditQuery(PageQuery):
    patient_id: int | None = Field(None, ge=1, le=2147483647)
    actor_kind: Literal["clinician", "token", "system"] | None = None


class RegimenQuery(Query):
    include_past: bool = Field(False, description="Also list retired entries.")
