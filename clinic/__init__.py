"""The clinician web app under /clinic/: sign-in, alert queue, patients, admin."""

from __future__ import annotations

import importlib
from typing import Any

from flask import Flask, current_app, g

from clinic.blueprint import bp
from clinic.csrf import csrf_token
from clinic.nav import NAV
from clinic.secret import secret_key
from clinic.signin import SESSION_LIFETIME, has_role
from medfollow.settings import Settings

# Each module adds its routes to the blueprint when imported.
VIEW_MODULES = (
    "clinic.auth",
    "clinic.formatting",
    "clinic.alert_pages",
    "clinic.patient_pages",
    "clinic.plan_pages",
    "clinic.enrol_pages",
    "clinic.admin_clinicians",
    "clinic.admin_teams",
    "clinic.admin_rota",
    "clinic.admin_settings",
)


def init_app(app: Flask, settings: Settings) -> None:
    """Configure secure session cookies and register the blueprint."""
    app.config.update(
        SECRET_KEY=secret_key(settings),
        SESSION_COOKIE_NAME="medfollow_clinic",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.public_base_url.startswith("https://"),
        PERMANENT_SESSION_LIFETIME=SESSION_LIFETIME,
    )
    for name in VIEW_MODULES:
        importlib.import_module(name)
    app.register_blueprint(bp)


@bp.app_template_global("csrf_token")
def _csrf_token() -> str:
    return csrf_token()


@bp.app_template_global("nav_items")
def nav_items() -> list[tuple[str, str]]:
    """(endpoint, label) of the entries the signed-in clinician may open."""
    clinician = g.get("clinician")
    if clinician is None:
        return []
    return [
        (endpoint, label)
        for endpoint, label, role in NAV
        if endpoint in current_app.view_functions and has_role(clinician, role)
    ]


@bp.after_request
def _no_store(response: Any) -> Any:
    """Pages with patient data are not kept by the browser or any proxy cache."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    )
    return response
