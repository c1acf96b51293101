"""Crisis texts from numbers that are not enrolled: one alert per number, never one
alert for every stranger."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select

from medfollow.runtime import Runtime
from store.models import Alert
from tests.conftest import signed_post, sms_params


def crisis_from(rt: Runtime, client: FlaskClient, phone: str) -> None:
    assert (
        signed_post(client, rt.settings, "/twilio/sms", sms_params(phone, "kms")).status_code == 200
    )


def test_it_joins_a_second_crisis_text_from_the_same_unenrolled_number(
    rt: Runtime, client: FlaskClient
) -> None:
    crisis_from(rt, client, "+15555550911")
    crisis_from(rt, client, "+15555550911")
    with rt.sessions() as session:
        [alert] = session.scalars(select(Alert)).all()
    assert (alert.patient_id, alert.tier, alert.signals) == (None, "emergency", 2)


def test_it_raises_one_alert_per_unenrolled_number(rt: Runtime, client: FlaskClient) -> None:
    crisis_from(rt, client, "+15555550912")
    crisis_from(rt, client, "+15555550913")
    with rt.sessions() as session:
        alerts = session.scalars(select(Alert).order_by(Alert.id)).all()
    assert [(a.patient_id, a.signals) for a in alerts] == [(None, 1), (None, 1)]
