"""Twilio request signatures (X-Twilio-Signature), checked with Twilio's own validator."""

from __future__ import annotations

from flask import Request
from twilio.request_validator import RequestValidator


def public_urls(request: Request, public_base_url: str, trust_proxy: bool) -> list[str]:
    """The URLs Twilio may have signed: the configured public URL, and, behind a trusted
    proxy, the one rebuilt from X-Forwarded-Proto and X-Forwarded-Host."""
    path = request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    urls = [public_base_url + path]
    if trust_proxy:
        proto = request.headers.get("X-Forwarded-Proto", request.scheme).split(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", request.host).split(",")[0].strip()
        urls.append(f"{proto}://{host}{path}")
    return urls


def is_signed(request: Request, auth_token: str, public_base_url: str, trust_proxy: bool) -> bool:
    signature = request.headers.get("X-Twilio-Signature", "")
    if not signature:
        return False
    validator = RequestValidator(auth_token)
    params = request.form.to_dict(flat=True)
    return any(
        validator.validate(url, params, signature)
        for url in public_urls(request, public_base_url, trust_proxy)
    )
