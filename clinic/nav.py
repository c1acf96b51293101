"""The navigation bar: (endpoint, label, role). A page module adds its own entry; the
bar shows entries whose endpoint exists and whose role the clinician has."""

from __future__ import annotations

NAV: list[tuple[str, str, str]] = [
    ("clinic.alert_queue", "Alerts", "clinician"),
    ("clinic.patients", "Patients", "clinician"),
    ("clinic.enrol", "Enrol", "clinician"),
    ("clinic.admin_clinicians", "Clinicians", "admin"),
    ("clinic.admin_teams", "Care teams", "admin"),
    ("clinic.admin_rota", "On-call rota", "admin"),
    ("clinic.admin_settings", "Clinic settings", "admin"),
]
