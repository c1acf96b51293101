"""The clinic web app's one blueprint, under /clinic/, and its shared helpers."""

from __future__ import annotations

from flask import Blueprint, current_app

from medfollow.runtime import Runtime

bp = Blueprint(
    "clinic",
    __name__,
    url_prefix="/clinic",
    template_folder="templates",
    static_folder="static",
)

# Pages anyone may open without signing in; every other page of the blueprint needs a
# signed-in, active clinician (checked before each request, so a new page is covered).
PUBLIC_ENDPOINTS = frozenset({"clinic.login", "clinic.static"})


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["medfollow"]
    return rt
