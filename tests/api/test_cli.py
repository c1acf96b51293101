"""medfollow tokens ... and medfollow fhir ...: the CLI against the real databases."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from sqlalchemy import select

from medfollow.cli import main
from medfollow.runtime import Runtime
from medfollow.settings import Settings
from store.models import ApiToken, AuditEvent, Patient, Regimen
from tests.interop.test_fhir import medication_request


def invoke(settings: Settings, *args: str, stdin: str | None = None) -> Result:
    env = {
        "MEDFOLLOW_VAR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url.reveal(),
        "REDIS_URL": settings.redis_url,
    }
    return CliRunner().invoke(main, list(args), env=env, input=stdin)


def test_it_creates_lists_and_revokes_tokens(
    rt: Runtime, settings: Settings, client: FlaskClient
) -> None:
    created = invoke(settings, "tokens", "create", "--name", "ehr-sync", "--scopes", "read,audit")
    assert created.exit_code == 0, created.output
    plain = created.output.strip().splitlines()[-1]
    auth = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/audit-events", headers=auth).status_code == 200
    listed = invoke(settings, "tokens", "list")
    assert "ehr-sync\tread audit\tlast used" in listed.output and plain not in listed.output
    with rt.sessions() as session:
        token_id = session.scalars(select(ApiToken.id)).one()
    assert invoke(settings, "tokens", "revoke", str(token_id)).exit_code == 0
    assert client.get("/api/v1/audit-events", headers=auth).status_code == 401
    again = invoke(settings, "tokens", "revoke", str(token_id))
    assert again.exit_code == 1 and f"no active token {token_id}" in again.output


def test_it_refuses_unknown_scopes(settings: Settings) -> None:
    result = invoke(settings, "tokens", "create", "--name", "x", "--scopes", "read,admin")
    assert result.exit_code == 1
    assert "scopes must be some of read, write, audit" in result.output


def test_it_exports_and_imports_fhir_from_the_command_line(
    rt: Runtime, settings: Settings, patient: Patient, tmp_path: Path
) -> None:
    exported = invoke(settings, "fhir", "export", "--phone", patient.phone)
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output)["resourceType"] == "Bundle"
    file = tmp_path / "plan.json"
    file.write_text(json.dumps(medication_request()))
    imported = invoke(settings, "fhir", "import", "--phone", patient.phone, str(file))
    assert imported.exit_code == 0, imported.output
    assert "quetiapine 25mg at 22:00 (daily)" in imported.output
    bad = invoke(settings, "fhir", "import", "--phone", patient.phone, "-", stdin="{}")
    assert bad.exit_code == 1 and "expected a FHIR Bundle" in bad.output
    with rt.sessions() as session:
        meds = session.scalars(select(Regimen).where(Regimen.active)).all()
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert sorted(r.medication.name for r in meds) == ["quetiapine", "sertraline"]
    assert list(actions) == ["fhir.export", "fhir.import"]
