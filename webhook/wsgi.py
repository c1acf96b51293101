"""The WSGI entry point for gunicorn: the only module-level app."""

from webhook.app import create_app

app = create_app()
