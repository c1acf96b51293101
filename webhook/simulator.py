"""The phone simulator: a page where anyone can text the bot without a Twilio account.

The page signs each text through /simulator/sign (the auth token stays on the
server) and posts it to the real /twilio/sms webhook with X-Twilio-Signature,
exactly as Twilio would. Demo and training only: disable it in production
(SIMULATOR_ENABLED=false), since the signing endpoint signs whatever it is given.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from sqlalchemy import or_, select
from twilio.request_validator import RequestValidator

from medfollow.runtime import Runtime
from messaging.phones import InvalidPhone, to_e164
from store.models import Message, Patient
from store.patients import by_phone

bp = Blueprint("simulator", __name__, template_folder="templates", static_folder="static")
SIGNABLE_PATHS = frozenset({"/twilio/sms", "/twilio/status"})


def _rt() -> Runtime:
    rt: Runtime = current_app.extensions["medfollow"]
    return rt


@bp.get("/simulator")
def page() -> ResponseReturnValue:
    rt = _rt()
    pool = rt.settings.sending_pool
    with rt.sessions() as session:
        first = session.scalars(select(Patient).order_by(Patient.id)).first()
        phone = request.args.get("phone") or (first.phone if first else "")
        try:
            shown = by_phone(session, to_e164(phone, rt.settings.default_region))
        except InvalidPhone:
            shown = None
    # The simulated phone texts the patient's own number of the pool, as their phone would.
    own = shown.sending_number if shown is not None else None
    return render_template(
        "simulator.html",
        phone=phone,
        to_number=own if own in pool else pool[0],
        account_sid=rt.settings.twilio_account_sid,
    )


@bp.post("/simulator/sign")
def sign() -> ResponseReturnValue:
    data: dict[str, Any] = request.get_json(silent=True) or {}
    path, params = data.get("path"), data.get("params")
    if path not in SIGNABLE_PATHS or not isinstance(params, dict):
        abort(400, "path must be a webhook path and params an object")
    rt = _rt()
    validator = RequestValidator(rt.settings.twilio_auth_token.reveal())
    url = rt.settings.public_base_url + str(path)
    clean = {str(k): str(v) for k, v in params.items()}
    return jsonify(signature=validator.compute_signature(url, clean))


@bp.get("/simulator/thread")
def thread() -> ResponseReturnValue:
    rt = _rt()
    try:
        phone = to_e164(request.args.get("phone", ""), rt.settings.default_region)
    except InvalidPhone:
        abort(400, "phone is not a valid phone number")
    with rt.sessions() as session:
        patient = by_phone(session, phone)
        who = Message.patient_id == patient.id if patient else Message.external_phone == phone
        rows = session.scalars(
            select(Message).where(or_(who)).order_by(Message.id.desc()).limit(100)
        ).all()
    return jsonify(
        messages=[
            {"id": m.id, "direction": m.direction, "body": m.body, "status": m.status}
            for m in reversed(rows)
            if m.status not in ("suppressed",)
        ]
    )
