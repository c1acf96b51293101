"""The Flask app factory: webhook, health, and the phone simulator."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

import clinic
from api import web as api_web
from medfollow.logs import configure_logging
from medfollow.runtime import Runtime
from medfollow.settings import Settings


def create_app(settings: Settings | None = None, rt: Runtime | None = None) -> Flask:
    """Build the web app; connections are built lazily by the runtime, not here."""
    settings = settings or (rt.settings if rt else Settings.from_env())
    configure_logging(settings.log_level)
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024
    app.extensions["medfollow"] = rt or Runtime(settings)

    from webhook import health, inbound, simulator

    app.register_blueprint(inbound.bp)
    app.register_blueprint(health.bp)
    if settings.simulator_enabled:
        app.register_blueprint(simulator.bp)
    clinic.init_app(app, settings)
    api_web.register(app)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> ResponseReturnValue:
        if request.path.startswith("/api/"):
            return api_web.http_error(exc)
        return jsonify(error=exc.name, message=exc.description), exc.code or 500

    logging.getLogger(__name__).info("web app ready (transport=%s)", settings.sms_transport)
    return app
