"""What the svcs templates draw from: files of the svcs_app fixture and how to name them."""

from __future__ import annotations

FIXTURE = "svcs_app"

REGISTRATION_FILES = [
    {"path": "services/users.py", "name": "UserService", "what": "the user service"},
    {"path": "services/mailer.py", "name": "Mailer", "what": "the mailer service"},
    {"path": "services/cache.py", "name": "QueryCache", "what": "the query cache"},
    {"path": "app.py", "name": "make_registry", "what": "the registry setup"},
    {"path": "bootstrap.py", "name": "make_cli_registry", "what": "the CLI registry setup"},
    {"path": "services/billing.py", "name": "InvoiceService", "what": "the billing services"},
]
GRAPH_FILES = [
    {"path": "services/users.py", "name": "UserService", "what": "the user service"},
    {"path": "services/reports.py", "name": "ReportService", "what": "the report service"},
    {"path": "services/billing.py", "name": "InvoiceService", "what": "the billing services"},
    {"path": "services/audit.py", "name": "AuditLog", "what": "the audit log"},
    {"path": "services/notifications.py", "name": "Notifier", "what": "the notifier"},
]
INJECTION_FILES = [
    {"path": "services/users.py", "name": "UserService", "what": "the user service"},
    {"path": "services/notifications.py", "name": "Notifier", "what": "the notifier"},
    {"path": "services/audit.py", "name": "AuditLog", "what": "the audit log"},
    {"path": "services/sessions.py", "name": "SessionService", "what": "the session service"},
    {"path": "services/billing.py", "name": "InvoiceService", "what": "the billing services"},
]


def pools() -> dict[str, object]:
    """The Jinja context of the svcs templates."""
    return {
        "registration_files": REGISTRATION_FILES,
        "graph_files": GRAPH_FILES,
        "injection_files": INJECTION_FILES,
        "service_files": [f for f in INJECTION_FILES if f["path"].startswith("services/")],
    }
