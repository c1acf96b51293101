"""The admin CLI: `medfollow ...`. Errors are one clear line and a non-zero exit."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
from redis.exceptions import RedisError
from sqlalchemy.exc import OperationalError

from medfollow.runtime import QUEUES, WORKER_TTL, Runtime
from medfollow.settings import Settings, SettingsError
from messaging.phones import InvalidPhone, to_e164
from store.enrolment import (
    DEMO_PATIENT_PHONE,
    EnrolmentError,
    check_age_band,
    enrol,
    ensure_clinic,
    parse_med,
)
from store.patients import by_phone
from store.records import patient_record

F = TypeVar("F", bound=Callable[..., Any])


def clear_errors(func: F) -> F:
    """Turn expected failures into one line on stderr and exit code 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SettingsError, InvalidPhone, EnrolmentError, LookupError, ValueError) as exc:
            raise click.ClickException(str(exc)) from None
        except OperationalError:
            raise click.ClickException(
                "the database is not reachable or not set up (run: medfollow db upgrade)"
            ) from None
        except RedisError:
            raise click.ClickException("Redis is not reachable (check REDIS_URL)") from None

    return wrapper  # type: ignore[return-value]


DEMO_ONCALL = (
    ("Dr Demo Primary", "oncall@demo.medfollow.invalid", "+15555550170"),
    ("Dr Demo Backup", "backup@demo.medfollow.invalid", "+15555550171"),
)


def seed_rota(session: Any) -> None:
    """Demo clinicians and an on-call shift, once."""
    from sqlalchemy import select

    from escalation.oncall import add_clinician, current, set_on_call
    from store.models import Clinician

    for name, email, phone in DEMO_ONCALL:
        if session.scalars(select(Clinician).where(Clinician.email == email)).first() is None:
            add_clinician(session, name, email, phone)
    if current(session) is None:
        set_on_call(session, DEMO_ONCALL[0][1], DEMO_ONCALL[1][1])


def _runtime() -> Runtime:
    return Runtime(Settings.from_env())


@click.group()
def main() -> None:
    """medfollow: SMS follow-up for psychiatric medication management."""


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@clear_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from store.migrate import upgrade

    settings = Settings.from_env()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.database_url.reveal())
    click.echo("database is at the latest schema")


@main.group()
def patients() -> None:
    """Enrol patients."""


@patients.command("add")
@click.option("--phone", required=True, help="Mobile number, E.164 (+15551234567).")
@click.option("--name", required=True, help="The patient's name.")
@click.option("--tz", required=True, help="IANA time zone, e.g. America/New_York.")
@click.option("--med", "meds", multiple=True, help="NAME:DOSE@HH:MM[,HH:MM] (repeatable).")
@click.option("--consent", default=None, help="Version of the consent the patient agreed to.")
@click.option(
    "--invite",
    is_flag=True,
    help="Send the welcome text; check-ins start when the patient replies YES (needs --consent).",
)
@click.option(
    "--age-band",
    default=None,
    help="under_25, 25_64 or 65_plus (the escalation thresholds' bands); "
    "not given: the risk rules assume under_25.",
)
@clear_errors
def patients_add(
    phone: str,
    name: str,
    tz: str,
    meds: tuple[str, ...],
    consent: str | None,
    invite: bool,
    age_band: str | None,
) -> None:
    """Enrol a patient with their regimen (active at once, consent taken in person)."""
    from care.enrolment import enrol_with_consent
    from compliance.consent import Consent
    from conversation.jobs import enqueue_flush
    from store.models import utcnow

    rt = _runtime()
    e164 = to_e164(phone, rt.settings.default_region)
    specs = [parse_med(m) for m in meds]
    band = check_age_band(age_band)
    if invite and not consent:
        raise click.ClickException("--invite needs --consent (the version the patient agreed to)")
    with rt.sessions.begin() as session:
        s = rt.settings
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        if consent:
            given = Consent(consent, utcnow().date(), "in_person", "admin (medfollow CLI)")
            patient = enrol_with_consent(
                session,
                clinic,
                phone=e164,
                name=name,
                tz=tz,
                meds=specs,
                consent=given,
                start_active=not invite,
                pool=s.sending_pool,
            )
        else:
            patient = enrol(
                session,
                clinic,
                phone=e164,
                name=name,
                tz=tz,
                meds=specs,
                consent=None,
                pool=s.sending_pool,
            )
        patient.age_band = band
        patient_id = patient.id
    if band is None:
        click.echo(
            "note: no --age-band; the risk rules will treat the patient as the thresholds' "
            "age_bands.unknown (under_25 by default)",
            err=True,
        )
    if invite:
        enqueue_flush(rt, patient_id)
        click.echo(f"enrolled patient {patient_id}; invited: check-ins start when they reply YES")
    else:
        click.echo(f"enrolled patient {patient_id}")


@main.group()
def patient() -> None:
    """Look at one patient."""


@patient.command("show")
@click.option("--phone", required=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@clear_errors
def patient_show(phone: str, as_json: bool) -> None:
    """A patient's profile, regimen, last 50 messages, dose events and alerts."""
    rt = _runtime()
    e164 = to_e164(phone, rt.settings.default_region)
    with rt.sessions() as session:
        found = by_phone(session, e164)
        if found is None:
            raise LookupError("no patient with that phone number")
        record = patient_record(session, found)
    if as_json:
        click.echo(json.dumps(record))
        return
    p = record["patient"]
    click.echo(f"{p['name']} ({p['timezone']}), opted out: {p['opted_out']}")
    for r in record["regimen"]:
        click.echo(f"  {r['medication']} {r['dose']} at {', '.join(r['times'])}")
    for m in record["messages"]:
        arrow = "<-" if m["direction"] == "inbound" else "->"
        click.echo(f"  {m['created_at']} {arrow} [{m['status']}] {m['body']}")


@main.group()
def demo() -> None:
    """Demo data."""


@demo.command("seed")
@clear_errors
def demo_seed() -> None:
    """Create the demo clinic, patient, clinicians and on-call shift (safe to run again)."""
    from clinic.demo import seed_sign_ins

    rt = _runtime()
    s = rt.settings
    with rt.sessions.begin() as session:
        clinic = ensure_clinic(session, s.clinic_name, s.clinic_phone, s.clinic_hours)
        if by_phone(session, DEMO_PATIENT_PHONE) is None:
            enrol(
                session,
                clinic,
                phone=DEMO_PATIENT_PHONE,
                name="Alex Demo",
                tz="America/New_York",
                meds=[parse_med("sertraline:50mg@09:00")],
                consent="demo-1",
                age_band="25_64",
                pool=s.sending_pool,
            )
        seed_rota(session)
        sign_ins = seed_sign_ins(session, DEMO_ONCALL[0][1])
    click.echo(f"demo patient: {DEMO_PATIENT_PHONE}")
    primary, backup = DEMO_ONCALL
    click.echo(f"on call: {primary[1]} (SMS {primary[2]}), backup {backup[1]} (SMS {backup[2]})")
    for email, password in sign_ins:
        click.echo(f"clinic sign-in (demo only): {email} / {password}")


@main.command("triage")
@clear_errors
def triage_cmd() -> None:
    """Read JSON lines on stdin ({"text", "medications", "context"}); write one result each."""
    from education.library import load_library
    from medfollow.triage import StackNotRunning, parse, triage

    s = Settings.from_env()
    library = load_library()
    try:
        parse(s.rasa_url, s.rasa_token.reveal(), "hello")
        for number, line in enumerate(sys.stdin, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError:
                raise click.ClickException(f"line {number} is not JSON") from None
            if not isinstance(item, dict) or not isinstance(item.get("text"), str):
                raise click.ClickException(f'line {number} needs a "text" string')
            result = triage(item, library, s.rasa_url, s.rasa_token.reveal())
            click.echo(json.dumps(result))
            sys.stdout.flush()
    except StackNotRunning as exc:
        raise click.ClickException(str(exc)) from None


@main.group()
def clinicians() -> None:
    """Clinicians who can be paged."""


@clinicians.command("add")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--phone", default=None, help="Mobile number for SMS pages, E.164.")
@click.option(
    "--role", type=click.Choice(["clinician", "admin", "supervisor"]), default="clinician"
)
@click.option(
    "--password-file",
    default=None,
    help="File holding the web sign-in password ('-': first line of stdin). "
    "Without it the clinician is paged but cannot sign in yet.",
)
@clear_errors
def clinicians_add(
    name: str, email: str, phone: str | None, role: str, password_file: str | None
) -> None:
    """Add a clinician."""
    from clinic.passwords import read_password
    from clinic.signin import set_password
    from escalation.oncall import add_clinician
    from store.models import utcnow

    rt = _runtime()
    e164 = to_e164(phone, rt.settings.default_region) if phone else None
    password = read_password(password_file) if password_file else None
    with rt.sessions.begin() as session:
        clinician = add_clinician(session, name, email, e164, role)
        if password is not None:
            set_password(clinician, password, utcnow())
        click.echo(f"added clinician {clinician.id}")


@clinicians.command("password")
@click.argument("email")
@click.option("--password-file", default=None, help="File holding the password ('-': stdin).")
@clear_errors
def clinicians_password(email: str, password_file: str | None) -> None:
    """Set a clinician's web sign-in password (prompted, or from a file or stdin); their
    open sessions end and a lockout is lifted."""
    from clinic.passwords import read_password
    from clinic.signin import set_password
    from escalation.oncall import clinician_by_email
    from store import audit
    from store.models import utcnow

    if password_file:
        password = read_password(password_file)
    elif sys.stdin.isatty():
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = read_password("-")
    rt = _runtime()
    with rt.sessions.begin() as session:
        clinician = clinician_by_email(session, email)
        set_password(clinician, password, utcnow())
        audit.record(
            session,
            actor_kind="system",
            actor_id=None,
            actor_name="cli",
            action="clinician.password_reset",
            target=f"clinician:{clinician.id}",
        )
    click.echo(f"password set for {clinician.email}")


@main.group()
def oncall() -> None:
    """The on-call rota."""


@oncall.command("set")
@click.option("--primary", required=True, help="Email of the clinician paged first.")
@click.option("--backup", default=None, help="Email of the backup.")
@click.option("--supervisor", default=None, help="Email of the supervisor (paged last).")
@clear_errors
def oncall_set(primary: str, backup: str | None, supervisor: str | None) -> None:
    """Start a new on-call shift now."""
    from escalation.oncall import set_on_call

    rt = _runtime()
    with rt.sessions.begin() as session:
        shift = set_on_call(session, primary, backup, supervisor)
        click.echo(f"on-call shift {shift.id} starts now")


@main.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="A JSON array.")
@click.option("--all", "show_all", is_flag=True, help="Include resolved alerts.")
@click.pass_context
@clear_errors
def alerts(ctx: click.Context, as_json: bool, show_all: bool) -> None:
    """List alerts (active ones unless --all)."""
    if ctx.invoked_subcommand is not None:
        return
    from sqlalchemy import select

    from escalation.alerts import ACTIVE, alert_record
    from store.models import Alert

    rt = _runtime()
    with rt.sessions() as session:
        query = select(Alert).order_by(Alert.id)
        if not show_all:
            query = query.where(Alert.state.in_(ACTIVE))
        records = [alert_record(session, a) for a in session.scalars(query)]
    if as_json:
        click.echo(json.dumps(records))
        return
    for r in records:
        click.echo(
            f"{r['code']} {r['tier']:<9} {r['state']:<12} {r['patient_ref']} "
            f"{','.join(r['rules'])}: {r['summary']}"
        )


@alerts.command("ack")
@click.argument("code")
@click.option("--clinician", "email", required=True, help="Email of the clinician acknowledging.")
@clear_errors
def alerts_ack(code: str, email: str) -> None:
    """Acknowledge an alert (stops re-escalation)."""
    from escalation.alerts import acknowledge
    from escalation.oncall import clinician_by_email

    rt = _runtime()
    with rt.sessions.begin() as session:
        if not acknowledge(session, code, clinician_by_email(session, email)):
            raise LookupError(f"no open alert {code} to acknowledge")
    click.echo(f"alert {code.upper()} acknowledged")


@alerts.command("resolve")
@click.argument("code")
@click.option("--clinician", "email", required=True)
@click.option("--note", required=True, help="What was done.")
@clear_errors
def alerts_resolve(code: str, email: str, note: str) -> None:
    """Resolve an alert with a note (ends an emergency episode)."""
    from escalation.alerts import resolve
    from escalation.oncall import clinician_by_email

    rt = _runtime()
    with rt.sessions.begin() as session:
        if not resolve(session, code, clinician_by_email(session, email), note):
            raise LookupError(f"no active alert {code} to resolve")
    click.echo(f"alert {code.upper()} resolved")


@alerts.command("digest")
@clear_errors
def alerts_digest() -> None:
    """Email the prompt and routine items to the on-call clinician now."""
    from escalation.digest import send_digest
    from escalation.notifiers.base import NotifyError

    try:
        count = send_digest(_runtime())
    except NotifyError as exc:
        raise click.ClickException(f"the digest was not sent: {exc}") from None
    click.echo(f"digest sent with {count} item(s)")


@main.group()
def checkin() -> None:
    """Dose check-ins."""


@checkin.command("send")
@click.option("--phone", required=True)
@click.option("--med", default=None, help="Which medicine (default: the first in the plan).")
@clear_errors
def checkin_send(phone: str, med: str | None) -> None:
    """Send a dose check-in now (the scheduler sends them at their times)."""
    from care.checkins import create_due_now
    from conversation.jobs import enqueue_trigger

    rt = _runtime()
    e164 = to_e164(phone, rt.settings.default_region)
    with rt.sessions.begin() as session:
        found = by_phone(session, e164)
        if found is None:
            raise LookupError("no patient with that phone number")
        entries = [r for r in found.regimen if r.active and (not med or r.medication.name == med)]
        if not entries:
            raise LookupError("no such medicine in the patient's plan")
        created = create_due_now(session, found, entries[0])
        patient_id, checkin_id = found.id, created.id
    enqueue_trigger(rt, patient_id, "EXTERNAL_dose_checkin", {"checkin_id": str(checkin_id)})
    click.echo(f"check-in {checkin_id} queued")


@main.group()
def regimen() -> None:
    """Medicine plans."""


@regimen.command("set")
@click.option("--phone", required=True)
@click.option("--med", required=True, help="NAME:DOSE@HH:MM[,HH:MM]")
@click.option(
    "--days",
    default="daily",
    show_default=True,
    help="daily, weekdays, weekends or e.g. mon,wed,fri",
)
@clear_errors
def regimen_set(phone: str, med: str, days: str) -> None:
    """Change a patient's plan for one medicine; the patient gets one text about it."""
    from care.plans import change_regimen, held_until
    from conversation.jobs import enqueue_flush

    rt = _runtime()
    spec = parse_med(med)
    with rt.sessions.begin() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        entry = change_regimen(session, found, spec, days.strip().lower())
        patient_id, entry_id, held = found.id, entry.id, held_until(session, found)
    enqueue_flush(rt, patient_id)
    if held is None:
        click.echo(f"plan changed (regimen {entry_id}); the patient is told")
    else:  # a notice the clinic starts waits for the patient's quiet-hours window
        click.echo(f"plan changed (regimen {entry_id}); the patient is told at {held}, their time")


@main.group()
def mood() -> None:
    """Mood questionnaires."""


@mood.command("send")
@click.option("--phone", required=True)
@clear_errors
def mood_send(phone: str) -> None:
    """Start the PHQ-2 mood check now."""
    from conversation.jobs import enqueue_trigger

    rt = _runtime()
    with rt.sessions() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        patient_id = found.id
    enqueue_trigger(rt, patient_id, "EXTERNAL_mood_check", {})
    click.echo("mood check queued")


def _audit_change(session: Any, action: str, patient_id: int | None, detail: str) -> None:
    from store.audit import record

    record(
        session,
        actor_kind="system",
        actor_id=None,
        actor_name="cli",
        action=action,
        patient_id=patient_id,
        detail=detail,
    )


@patient.command("quiet")
@click.option("--phone", required=True)
@click.option("--start", default=None, help="HH:MM, within 08:00-21:00.")
@click.option("--end", default=None, help="HH:MM, within 08:00-21:00.")
@click.option("--clinic-default", is_flag=True, help="Use the clinic's window again.")
@click.option(
    "--patient-asked", is_flag=True, help="The patient asked for texts beyond 09:00-20:00."
)
@clear_errors
def patient_quiet(
    phone: str, start: str | None, end: str | None, clinic_default: bool, patient_asked: bool
) -> None:
    """Set the hours scheduled texts may reach this patient (local time)."""
    from scheduling.preferences import set_patient_quiet
    from store.models import Clinic

    if clinic_default == bool(start or end):
        raise click.ClickException("give --start and/or --end, or --clinic-default")
    rt = _runtime()
    with rt.sessions.begin() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        clinic = session.get(Clinic, found.clinic_id)
        quiet = set_patient_quiet(found, clinic, start, end, patient_asked=patient_asked)
        window = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
        asked = " (the patient asked)" if patient_asked else ""
        _audit_change(session, "patient.quiet_hours", found.id, window + asked)
    click.echo(f"scheduled texts for this patient go out {window} their time")


@patient.command("plan")
@click.option("--phone", required=True)
@click.option("--mood-every", type=int, default=None, help="Days between PHQ-2s (0: none).")
@click.option("--answer-minutes", type=int, default=None, help="How long a check-in waits.")
@click.option("--reminder-minutes", type=int, default=None, help="When its one reminder goes.")
@clear_errors
def patient_plan(
    phone: str, mood_every: int | None, answer_minutes: int | None, reminder_minutes: int | None
) -> None:
    """Set the plan's mood cadence and check-in waits; prints the plan in force."""
    from scheduling.preferences import plan_record, set_plan
    from store.models import Clinic

    rt = _runtime()
    with rt.sessions.begin() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        set_plan(
            found,
            mood_every_days=mood_every,
            answer_minutes=answer_minutes,
            reminder_minutes=reminder_minutes,
            settings=rt.settings,
        )
        shown = plan_record(found, session.get(Clinic, found.clinic_id), rt.settings)
        _audit_change(session, "patient.plan", found.id, json.dumps(shown))
    click.echo(json.dumps(shown))


@main.group()
def clinic() -> None:
    """The clinic's settings."""


@clinic.command("quiet")
@click.option("--start", required=True, help="HH:MM, within 08:00-21:00.")
@click.option("--end", required=True, help="HH:MM, within 08:00-21:00.")
@click.option("--clinic-id", type=int, default=None, help="Needed when there are several.")
@clear_errors
def clinic_quiet(start: str, end: str, clinic_id: int | None) -> None:
    """Set the hours scheduled texts may go out (each patient's local time)."""
    from sqlalchemy import select

    from scheduling.preferences import set_clinic_quiet
    from store.models import Clinic

    rt = _runtime()
    with rt.sessions.begin() as session:
        query = select(Clinic).order_by(Clinic.id)
        if clinic_id is not None:
            query = query.where(Clinic.id == clinic_id)
        found = session.scalars(query).all()
        if not found:
            raise LookupError("no such clinic (enrol a patient or run medfollow demo seed first)")
        if len(found) > 1:
            raise LookupError("there are several clinics: give --clinic-id")
        quiet = set_clinic_quiet(found[0], start, end)
        window = f"{quiet.start:%H:%M}-{quiet.end:%H:%M}"
        _audit_change(session, "clinic.quiet_hours", None, window)
    click.echo(f"scheduled texts go out {window} in each patient's time")


@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@clear_errors
def worker(burst: bool) -> None:
    """Run an RQ worker on the urgent and default queues."""
    from rq import SimpleWorker

    from medfollow import runtime
    from medfollow.logs import configure_logging
    from scheduling.heartbeat import Watchdog

    rt = _runtime()
    configure_logging(rt.settings.log_level)
    runtime.install(rt)
    # Jobs run in this process, one after another (RQ's SimpleWorker), not in a process
    # forked per job: a forked job rebuilt its database engine, connections and imports
    # each time (`bench.worker_jobs`; docs/architecture.md, "Processes").
    # A job that overruns its timeout is stopped by SIGALRM; a worker that dies mid-job
    # leaves work the scheduler's sweep finds and starts again, as before.
    _ = rt.transport
    if not burst:
        Watchdog(rt.settings).start()  # alerts staff when the scheduler stops
    # A short TTL makes an idle worker beat every WORKER_TTL - 15 s, which /healthz reads.
    SimpleWorker([rt.queue(q) for q in QUEUES], connection=rt.redis, worker_ttl=WORKER_TTL).work(
        with_scheduler=True, burst=burst, logging_level=rt.settings.log_level
    )


@main.command()
@clear_errors
def scheduler() -> None:
    """Run the scheduler loop (sweeps lost work; one leader at a time)."""
    from conversation import sweeper
    from medfollow.logs import configure_logging

    rt = _runtime()
    configure_logging(rt.settings.log_level)
    sweeper.run(rt)


@main.command("rasa-endpoints")
@click.argument("path", type=click.Path(path_type=Path))
@clear_errors
def rasa_endpoints(path: Path) -> None:
    """Write Rasa's endpoints file (action server, SQL tracker store) from the settings."""
    from medfollow.stack import write_endpoints

    settings = Settings.from_env()
    write_endpoints(settings, path, settings.action_server_url)
    click.echo(f"wrote {path}")


@main.command()
@click.option("--rasa-venv", type=click.Path(path_type=Path), required=True)
@click.option("--model", type=click.Path(path_type=Path), required=True)
@click.option("--workers", default=2, show_default=True, help="RQ worker processes.")
@click.option("--web-workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option(
    "--rasa-servers",
    default=0,
    help="Rasa servers on RASA_URL's port and the ones after it (default: one per RASA_URLS).",
)
@click.option("--action-servers", default=1, show_default=True, help="Action server processes.")
@clear_errors
def run(
    rasa_venv: Path,
    model: Path,
    workers: int,
    web_workers: int,
    rasa_servers: int,
    action_servers: int,
) -> None:
    """Start the whole stack and keep it running until Ctrl-C."""
    import os

    from medfollow.stack import Stack, consecutive_urls

    env = {}
    if rasa_servers:
        env["RASA_URLS"] = consecutive_urls(Settings.from_env().rasa_url, rasa_servers)
    settings = Settings.from_env({**os.environ, **env})
    prism = settings.sms_transport == "twilio" and "127.0.0.1" in settings.twilio_api_base
    stack = Stack(
        settings,
        env,
        rasa_venv,
        model,
        workers=workers,
        web_workers=web_workers,
        action_servers=action_servers,
        with_prism=prism,
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    click.echo(
        "==> starting: rasa, actions, web, workers, scheduler" + (", prism" if prism else "")
    )
    stack.start()
    try:
        stack.wait_ready(timeout=300, progress=True)
        _banner(settings)
        while True:
            time.sleep(2)
            for name in stack.restart_dead():
                click.echo(f"!! {name} exited; started it again (see var/logs/{name}.log)")
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("==> stopping every process")
        stack.stop()


LOCAL = ("127.0.0.1", "localhost", "::1")


def _redis_answers(settings: Settings) -> bool:
    try:
        return bool(Runtime(settings).redis.ping())
    except RedisError:
        return False


def _banner(s: Settings) -> None:
    click.echo(
        "\n"
        f"  medfollow is ready.\n"
        f"  Phone simulator:  http://{s.host}:{s.port}/simulator\n"
        f"  Health:           http://{s.host}:{s.port}/healthz\n"
        f"  Clinic web app:   http://{s.host}:{s.port}/clinic/ (demo sign-ins: see demo seed "
        "above)\n"
        f"  Demo patient:     {DEMO_PATIENT_PHONE} (type as this number in the simulator)\n"
        f"  Twilio webhook:   {s.public_base_url}/twilio/sms "
        f"(auth token from TWILIO_AUTH_TOKEN; demo value when unset)\n"
        f"  SMS transport:    {s.sms_transport}\n"
        "  Press Ctrl-C to stop everything.\n"
    )


@main.group()
def tokens() -> None:
    """API bearer tokens (the JSON API under /api/v1)."""


@tokens.command("create")
@click.option("--name", required=True, help="Who or what uses it, e.g. ehr-sync.")
@click.option("--scopes", required=True, help="Comma-separated: read, write, audit.")
@clear_errors
def tokens_create(name: str, scopes: str) -> None:
    """Create a token and print it once (only its SHA-256 is stored)."""
    import getpass

    from api.tokens import create_token, parse_scopes

    rt = _runtime()
    with rt.sessions.begin() as session:
        row, plain = create_token(session, name, parse_scopes(scopes), getpass.getuser())
        token_id = row.id
    click.echo(f"token {token_id} ({name}, scopes {scopes}); shown once, keep it safe:")
    click.echo(plain)


@tokens.command("list")
@clear_errors
def tokens_list() -> None:
    """Every token: id, name, scopes, created, last used, revoked (never the token)."""
    from api.tokens import all_tokens

    with _runtime().sessions() as session:
        for t in all_tokens(session):
            used = t.last_used_at.isoformat() if t.last_used_at else "never"
            state = f"revoked {t.revoked_at.isoformat()}" if t.revoked_at else "active"
            click.echo(f"{t.id}\t{t.name}\t{t.scopes}\tlast used {used}\t{state}")


@tokens.command("revoke")
@click.argument("token_id", type=int)
@clear_errors
def tokens_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from api.tokens import revoke

    with _runtime().sessions.begin() as session:
        if not revoke(session, token_id):
            raise LookupError(f"no active token {token_id}")
    click.echo(f"token {token_id} revoked")


@main.group()
def fhir() -> None:
    """FHIR R4: export a patient's record, import a regimen."""


@fhir.command("export")
@click.option("--phone", required=True)
@clear_errors
def fhir_export(phone: str) -> None:
    """Print the patient's record as a FHIR R4 Bundle (JSON)."""
    from interop.fhir_export import export_bundle
    from store.audit import record

    rt = _runtime()
    with rt.sessions.begin() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        bundle = export_bundle(session, found)
        record(
            session,
            actor_kind="system",
            actor_id=None,
            actor_name="cli",
            action="fhir.export",
            patient_id=found.id,
        )
    click.echo(json.dumps(bundle, indent=2))


@fhir.command("import")
@click.option("--phone", required=True)
@click.argument("bundle", type=click.File("r"))
@clear_errors
def fhir_import(phone: str, bundle: Any) -> None:
    """Set the patient's plan from a Bundle of MedicationRequests (a file, or - for stdin)."""
    from conversation.jobs import enqueue_flush
    from interop.fhir_import import import_regimen
    from store.audit import record

    try:
        data = json.load(bundle)
    except json.JSONDecodeError:
        raise click.ClickException("the bundle is not JSON") from None
    rt = _runtime()
    with rt.sessions.begin() as session:
        found = by_phone(session, to_e164(phone, rt.settings.default_region))
        if found is None:
            raise LookupError("no patient with that phone number")
        outcome = import_regimen(session, found, data)
        record(
            session,
            actor_kind="system",
            actor_id=None,
            actor_name="cli",
            action="fhir.import",
            patient_id=found.id,
        )
        patient_id = found.id
        lines = [
            f"  {r.medication.name} {r.dose} at {r.times} ({r.days})" for r in outcome.imported
        ]
    if outcome.imported:
        enqueue_flush(rt, patient_id)
    click.echo(f"imported {len(lines)} medicine(s); the patient is told of each change")
    for line in lines:
        click.echo(line)
    for n, why in outcome.skipped:
        click.echo(f"  skipped entry {n}: {why}")


if __name__ == "__main__":
    main()
