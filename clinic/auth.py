"""Sign-in, sign-out and the guard in front of every clinic page.

The session cookie (signed, HttpOnly, SameSite=Lax, Secure over https) holds only the
clinician's id, when they signed in, and the CSRF token. Each request reloads the
clinician, so deactivation, a password reset or signing out (which voids every
session of that clinician) take effect on the next request.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from flask import abort, flash, g, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from clinic.audit import record
from clinic.blueprint import PUBLIC_ENDPOINTS, bp, runtime
from clinic.csrf import check_csrf
from clinic.signin import has_role, session_valid, sign_in
from store.models import Clinician, utcnow

F = TypeVar("F", bound=Callable[..., Any])
FAILED = "Wrong email or password, or the account is locked after too many tries."


def current_clinician() -> Clinician:
    """The signed-in clinician (pages behind the guard only)."""
    clinician: Clinician | None = g.get("clinician")
    if clinician is None:
        abort(401)
    return clinician


def login_required(role: str = "clinician") -> Callable[[F], F]:
    """Require a signed-in clinician with this role ("admin" for admin pages)."""

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            clinician: Clinician | None = g.get("clinician")
            if clinician is None:
                return _to_login()
            if not has_role(clinician, role):
                abort(403, "This page is for clinic admins.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


@bp.before_request
def guard() -> ResponseReturnValue | None:
    """CSRF on every changing request, then a valid session on every non-public page."""
    check_csrf()
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    clinician = _session_clinician()
    if clinician is None:
        return _to_login()
    g.clinician = clinician
    return None


def _session_clinician() -> Clinician | None:
    cid, at = session.get("cid"), session.get("at")
    if not isinstance(cid, int) or not isinstance(at, float):
        return None
    with runtime().sessions() as db:
        clinician = db.get(Clinician, cid)
        if clinician is not None:
            db.expunge(clinician)
    if not session_valid(clinician, datetime.fromtimestamp(at, UTC), utcnow()):
        session.pop("cid", None)
        return None
    return clinician


def _to_login() -> ResponseReturnValue:
    """Pages redirect to the sign-in page; scripts (fetch) get a plain 401."""
    if request.headers.get("X-Requested-With") == "fetch" or request.method != "GET":
        abort(401, "Sign in again to continue.")
    return redirect(url_for("clinic.login", next=request.full_path.rstrip("?")))


def _safe_next(target: str | None) -> str:
    """Only a path inside the clinic app: never another site (open redirect)."""
    if target and target.startswith("/clinic/") and not urlsplit(target).netloc:
        if "\\" not in target and not target.startswith("//"):
            return target
    return url_for("clinic.home")


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    if request.method == "GET":
        return render_template("clinic/login.html", next=request.args.get("next", ""))
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    now = utcnow()
    with runtime().sessions.begin() as db:
        result = sign_in(db, email, password, now)
        who = result.clinician
        record(
            db,
            "auth.sign_in" if who else f"auth.sign_in_{result.outcome}",
            target=email.lower()[:128],
            clinician=who,
        )
        cid = who.id if who else None
    if cid is None:
        return render_template("clinic/login.html", error=FAILED, email=email), 401
    session.clear()  # a fresh session (and CSRF token) at sign-in: no fixation
    session.permanent = True
    session["cid"], session["at"] = cid, now.timestamp()
    return redirect(_safe_next(request.form.get("next")))


@bp.post("/logout")
def logout() -> Response:
    """Sign out: this clinician's sessions (on every device) end now."""
    clinician = current_clinician()
    with runtime().sessions.begin() as db:
        row = db.get_one(Clinician, clinician.id)
        row.sessions_valid_after = utcnow()
        record(db, "auth.sign_out")
    session.clear()
    flash("You are signed out.")
    return redirect(url_for("clinic.login"))


@bp.get("/")
def home() -> Response:
    return redirect(url_for("clinic.alert_queue"))


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException) -> ResponseReturnValue:
    """An error page for people; JSON for the page's own scripts."""
    code = exc.code or 500
    if request.headers.get("X-Requested-With") == "fetch":
        return jsonify(error=exc.name, message=exc.description), code
    page = render_template("clinic/error.html", code=code, name=exc.name, message=exc.description)
    return page, code
