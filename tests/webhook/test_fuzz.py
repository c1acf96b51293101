"""Hypothesis fuzzing of POST /twilio/sms: whatever the form holds, the answer is 200 (a
well-formed message, stored once) or a clear 4xx with nothing stored; never a 5xx.

Signed requests carry a real X-Twilio-Signature over exactly the fuzzed fields, so the
signature check passes and the fields themselves are what is tested. Unsigned and
mis-signed requests always get 403. Example counts are bounded to run in seconds.
"""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from twilio.request_validator import RequestValidator

from medfollow.runtime import QUEUES, Runtime
from store.models import Message, Patient
from tests.conftest import new_sid, signed_post, sms_params

PHONE = "+15555550142"
FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
VALID_SID = re.compile(r"^(?:SM|MM|SMS)[0-9A-Za-z]{32}$")

# Text Twilio could plausibly send, and text it never would (controls, NUL, emoji,
# right-to-left marks, very long strings), without lone surrogates (not encodable).
any_text = st.text(st.characters(codec="utf-8"), max_size=40)
long_text = st.text(st.characters(codec="utf-8"), min_size=1500, max_size=2500)
numberish = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["", " ", "0x10", "1e309", "NaN", "-0", "٣", "１２", "1_000"]),
)
phones = st.one_of(
    st.just(PHONE),
    st.sampled_from(["", "+", "+1", "+1555", "5555550142", "(555) 555-0142", "+999999999999999"]),
    st.from_regex(r"\A\+?[0-9 ()\-.]{0,24}\Z"),
    any_text,
)
sids = st.one_of(
    st.builds(lambda: new_sid()),
    st.from_regex(r"\A(SM|MM|SMS)[0-9A-Za-z]{28,36}\Z"),
    any_text,
)
bodies = st.one_of(any_text, long_text, st.just(""), st.just("x" * 1600), st.just("x" * 1601))
FIELDS = ("MessageSid", "AccountSid", "From", "To", "Body", "NumMedia", "NumSegments")


def count(rt: Runtime) -> int:
    with rt.sessions() as session:
        return int(session.scalar(select(func.count(Message.id))) or 0)


def queued(rt: Runtime) -> int:
    return sum(len(rt.queue(q)) for q in QUEUES)


def assert_refused_and_nothing_stored(rt: Runtime, before: tuple[int, int], status: int) -> None:
    assert 400 <= status < 500, status
    assert (count(rt), queued(rt)) == before


@FUZZ
@given(
    sid=sids,
    phone=phones,
    body=bodies,
    num_media=numberish,
    segments=numberish,
    opt_out=any_text,
    extra=st.dictionaries(any_text, any_text, max_size=3),
    missing=st.sets(st.sampled_from(FIELDS), max_size=3),
)
def test_it_answers_any_signed_form_with_200_or_a_clear_4xx_and_never_a_5xx(
    client: FlaskClient,
    rt: Runtime,
    patient: Patient,
    sid: str,
    phone: str,
    body: str,
    num_media: str,
    segments: str,
    opt_out: str,
    extra: dict[str, str],
    missing: set[str],
) -> None:
    params = {**extra, **sms_params(phone, body, sid, NumMedia=num_media, NumSegments=segments)}
    params["OptOutType"] = opt_out
    for name in missing:
        params.pop(name, None)
    before = (count(rt), queued(rt))
    resp = signed_post(client, rt.settings, "/twilio/sms", params)
    if resp.status_code == 200:
        assert VALID_SID.match(params.get("MessageSid", ""))
        assert len(params.get("Body", "")) <= 1600
        assert count(rt) == before[0] + 1 or sid_seen_before(rt, params["MessageSid"])
    else:
        assert_refused_and_nothing_stored(rt, before, resp.status_code)
        assert resp.is_json and resp.get_json()["message"], resp.data


@FUZZ
@given(body=st.one_of(any_text, long_text), opt_out=any_text)
def test_it_stores_any_signed_body_up_to_1600_characters_or_refuses_it_with_400(
    client: FlaskClient, rt: Runtime, patient: Patient, body: str, opt_out: str
) -> None:
    params = sms_params(PHONE, body, OptOutType=opt_out)
    before = (count(rt), queued(rt))
    resp = signed_post(client, rt.settings, "/twilio/sms", params)
    if len(body) <= 1600 and "\x00" not in body + opt_out:
        assert resp.status_code == 200, resp.data
        assert count(rt) > before[0]
    else:
        assert_refused_and_nothing_stored(rt, before, resp.status_code)
        assert resp.status_code == 400


@FUZZ
@given(phone=phones)
def test_it_stores_a_message_from_any_possible_number_or_refuses_it_with_400(
    client: FlaskClient, rt: Runtime, patient: Patient, phone: str
) -> None:
    before = (count(rt), queued(rt))
    resp = signed_post(client, rt.settings, "/twilio/sms", sms_params(phone, "hello"))
    if resp.status_code == 200:
        assert count(rt) > before[0]
    else:
        assert_refused_and_nothing_stored(rt, before, resp.status_code)
        assert resp.get_json()["message"] in (
            "From is not a valid phone number",
            "From must not contain NUL characters",
        )


def sid_seen_before(rt: Runtime, sid: str) -> bool:
    with rt.sessions() as session:
        return session.scalar(select(Message.id).where(Message.provider_sid == sid)) is not None


@FUZZ
@given(body=bodies, phone=phones, signature=st.one_of(st.none(), st.from_regex(r"\A[ -~]{0,60}\Z")))
def test_it_refuses_any_unsigned_or_mis_signed_form_with_403(
    client: FlaskClient, rt: Runtime, patient: Patient, body: str, phone: str, signature: str | None
) -> None:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    before = (count(rt), queued(rt))
    resp = client.post("/twilio/sms", data=sms_params(phone, body), headers=headers)
    assert resp.status_code == 403
    assert_refused_and_nothing_stored(rt, before, resp.status_code)


@settings(FUZZ, max_examples=6)
@given(size=st.integers(64 * 1024 + 1, 1024 * 1024), signed=st.booleans())
def test_it_refuses_a_huge_body_unread(
    client: FlaskClient, rt: Runtime, patient: Patient, size: int, signed: bool
) -> None:
    params = sms_params(PHONE, "x" * size)
    url = rt.settings.public_base_url + "/twilio/sms"
    token = rt.settings.twilio_auth_token.reveal()
    headers = {"X-Twilio-Signature": RequestValidator(token).compute_signature(url, params)}
    before = (count(rt), queued(rt))
    resp = client.post("/twilio/sms", data=params, headers=headers if signed else {})
    # Unsigned: refused before the body is read. Signed: Flask's MAX_CONTENT_LENGTH.
    assert resp.status_code == (413 if signed else 403)
    assert_refused_and_nothing_stored(rt, before, resp.status_code)


@FUZZ
@given(raw=st.binary(max_size=600))
def test_it_refuses_raw_bytes_that_are_not_a_signed_form(
    client: FlaskClient, rt: Runtime, patient: Patient, raw: bytes
) -> None:
    before = (count(rt), queued(rt))
    resp = client.post(
        "/twilio/sms",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": "c2lnbmF0dXJl"},
    )
    assert resp.status_code == 403
    assert_refused_and_nothing_stored(rt, before, resp.status_code)


@FUZZ
@given(sid=sids, status=any_text, code=numberish, message=any_text)
def test_it_answers_any_signed_status_callback_without_a_5xx(
    client: FlaskClient, rt: Runtime, sid: str, status: str, code: str, message: str
) -> None:
    params = {"MessageSid": sid, "MessageStatus": status, "ErrorCode": code}
    params["ErrorMessage"] = message
    resp = signed_post(client, rt.settings, "/twilio/status", params)
    assert resp.status_code in (204, 400), resp.data
