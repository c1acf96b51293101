"""Twilio webhooks: inbound SMS and delivery status callbacks. Verify, store, enqueue, answer."""

from __future__ import annotations

import logging
import re

from flask import Blueprint, Response, abort, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from compliance.replies import ClinicInfo
from conversation.intake import store_inbound, triage
from conversation.jobs import enqueue_patient, enqueue_send, retry_policy
from escalation.paging import page_alert
from escalation.policy import load_policy
from medfollow.runtime import URGENT_QUEUE, Runtime
from messaging.outbound import SendFailed, deliver, delivery_failed
from messaging.phones import InvalidPhone, to_e164
from messaging.status import UNCONFIRMED, advances
from messaging.transports import OPTED_OUT_CODE
from store.models import Message
from store.patients import first_clinic, set_opted_out
from webhook.signature import is_signed

log = logging.getLogger(__name__)
bp = Blueprint("webhook", __name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
SID = re.compile(r"^(?:SM|MM|SMS)[0-9A-Za-z]{32}$")
MAX_BODY = 1600  # Twilio's own limit for a (concatenated) message body


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["medfollow"]
    return rt


def _verify(rt: Runtime) -> None:
    """403 unless Twilio signed the request; 400 for a field no SMS can hold."""
    s = rt.settings
    if not is_signed(
        request, s.twilio_auth_token.reveal(), s.public_base_url, s.trust_proxy_headers
    ):
        abort(403, "invalid or missing X-Twilio-Signature")
    # No SMS carries a NUL (GSM-7's 0x00 is "@", which Twilio sends as "@"), and
    # PostgreSQL cannot store one in text: refuse it rather than fail with a 500.
    bad = sorted(name for name, value in request.form.items(multi=True) if "\x00" in value)
    if bad:
        abort(400, f"{', '.join(bad)} must not contain NUL characters")


def twiml() -> Response:
    return Response(EMPTY_TWIML, mimetype="text/xml")


def clinic_info(rt: Runtime, session: Session) -> ClinicInfo:
    """The clinic's name, phone and hours for the texts a message may need, read in the
    request's own transaction (one connection per request)."""
    clinic = first_clinic(session)
    if clinic is None:
        s = rt.settings
        return ClinicInfo(s.clinic_name, s.clinic_phone, s.clinic_hours)
    return ClinicInfo(clinic.name, clinic.phone, clinic.hours)


@bp.post("/twilio/sms")
def inbound_sms() -> Response:
    """1 verify, 2 store (unique MessageSid), 3-4 compliance and safety, 5 enqueue, answer."""
    rt = runtime()
    _verify(rt)
    sid = request.form.get("MessageSid", "")
    body = request.form.get("Body", "")
    if not SID.match(sid):
        abort(400, "MessageSid is missing or malformed")
    if len(body) > MAX_BODY:
        abort(400, "Body is longer than 1600 characters")
    try:
        phone = to_e164(request.form.get("From", ""), rt.settings.default_region)
    except InvalidPhone:
        abort(400, "From is not a valid phone number")
    to = _texted_number(rt)
    try:
        with rt.sessions.begin() as session:
            msg = store_inbound(session, sid, phone, body, to, rt.settings.sending_pool)
            if msg is None:
                log.info("duplicate inbound delivery ignored")
                return twiml()
            policy = load_policy(rt.settings.escalation_policy)
            clinic = clinic_info(rt, session)
            intake = triage(session, msg, clinic, policy, request.form.get("OptOutType", ""))
    except IntegrityError:
        log.info("duplicate inbound delivery ignored (concurrent)")
        return twiml()
    log.info("inbound message %s stored (handled_by=%s)", intake.message_id, msg.handled_by)
    _dispatch(rt, intake.urgent_ids, intake.patient_id if intake.to_dialogue else None)
    if intake.page_alert_id is not None:
        _page_now(rt, intake.page_alert_id)
    return twiml()


def _texted_number(rt: Runtime) -> str | None:
    """Twilio's `To`: the number the sender texted. One outside the sending pool (a number
    taken out of it, or a webhook set on another number) is logged and the text is
    handled all the same: a patient's message is never dropped for it."""
    raw = request.form.get("To", "")
    try:
        to: str | None = to_e164(raw, rt.settings.default_region)
    except InvalidPhone:
        to = None
    if to not in rt.settings.sending_pool:
        log.warning("inbound message to a number outside the sending pool; handled anyway")
    return to


def _page_now(rt: Runtime, alert_id: int) -> None:
    """Page the on-call clinician from the urgent queue; if Redis is down the
    scheduler's sweep pages it instead (it looks every second)."""
    try:
        rt.queue(URGENT_QUEUE).enqueue(page_alert, alert_id, retry=retry_policy(rt))
    except RedisError:
        log.warning("queue unavailable: alert %s is paged by the scheduler's sweep", alert_id)


def _dispatch(rt: Runtime, urgent_ids: list[int], dialogue_patient: int | None) -> None:
    """Enqueue the work. If Redis is down, urgent texts are sent inline and the rest
    waits in the database for the sweeper: the message is stored either way."""
    for message_id in urgent_ids:
        try:
            enqueue_send(rt, message_id)
        except RedisError:
            log.warning("queue unavailable: sending urgent message %s inline", message_id)
            try:
                deliver(rt, message_id)
            except SendFailed:
                log.warning("inline send of %s failed; the sweeper retries it", message_id)
    if dialogue_patient is not None:
        try:
            enqueue_patient(rt, dialogue_patient)
        except RedisError:
            log.warning("queue unavailable: the sweeper will pick up patient %s", dialogue_patient)


@bp.post("/twilio/status")
def status_callback() -> Response:
    """Delivery status: tolerate callbacks out of order or twice; never move backwards."""
    rt = runtime()
    _verify(rt)
    sid = request.form.get("MessageSid", "")
    status = request.form.get("MessageStatus", "").lower()
    error_code = request.form.get("ErrorCode", "")
    if not SID.match(sid) or not status:
        abort(400, "MessageSid and MessageStatus are required")
    with rt.sessions.begin() as session:
        msg = session.scalars(
            select(Message).where(Message.provider_sid == sid, Message.direction == "outbound")
        ).first()
        if msg is None:
            log.info("status callback for an unknown message ignored")
            return Response(status=204)
        if advances(msg.status, status):
            msg.status = status
            if status not in UNCONFIRMED:
                # Twilio said how it ended: nothing left to confirm. A `delivered` after
                # the sweeper found the text unconfirmed leaves its R20 alert as it is.
                msg.confirm_by = None
            if error_code:
                msg.error_code = error_code
                msg.error_message = request.form.get("ErrorMessage") or msg.error_message
            if status in ("failed", "undelivered"):
                delivery_failed(rt, session, msg)
        if error_code == str(OPTED_OUT_CODE) and msg.patient_id is not None:
            set_opted_out(session, msg.patient_id, True)
    return Response(status=204)
