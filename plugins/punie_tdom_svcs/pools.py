"""What the tdom-svcs templates draw from: files of the tdom_svcs_app fixture."""

from __future__ import annotations

FIXTURE = "tdom_svcs_app"

MIDDLEWARE_FILES = [
    {"path": "middleware/auth.py", "what": "the authentication middleware"},
    {"path": "middleware/request_log.py", "what": "the render-log middleware"},
    {"path": "middleware/timing.py", "what": "the render timer middleware"},
    {"path": "middleware/csrf.py", "what": "the CSRF middleware"},
    {"path": "middleware/rate_limit.py", "what": "the rate-limit middleware"},
    {"path": "middleware/stack.py", "what": "the default middleware stack"},
]
BINDING_FILES = [
    {"path": "components/dashboard.py", "what": "the Dashboard component"},
    {"path": "components/user_card.py", "what": "the UserCard component"},
    {"path": "components/clock_widget.py", "what": "the ClockWidget component"},
    {"path": "pages/welcome.py", "what": "the welcome page"},
]
ROUTE_FILES = [
    {"path": "routes/site.py", "what": "the public site routes"},
    {"path": "routes/admin.py", "what": "the admin routes"},
    {"path": "routes/api.py", "what": "the API routes"},
    {"path": "routes/blog.py", "what": "the blog routes"},
    {"path": "routes/shop.py", "what": "the shop routes"},
    {"path": "routes/files.py", "what": "the download routes"},
]


def pools() -> dict[str, object]:
    """The Jinja context of the tdom-svcs templates."""
    return {
        "middleware_files": MIDDLEWARE_FILES,
        "binding_files": BINDING_FILES,
        "route_files": ROUTE_FILES,
    }
