"""What the tdom templates draw from: files of the tdom_app fixture and how to name them."""

from __future__ import annotations

FIXTURE = "tdom_app"

COMPONENT_FILES = [
    {"path": "components/card.py", "name": "Card", "what": "the Card component"},
    {"path": "components/button.py", "name": "Button", "what": "the Button components"},
    {"path": "components/badge.py", "name": "Badge", "what": "the Badge component"},
    {"path": "components/alert.py", "name": "Alert", "what": "the Alert component"},
    {"path": "components/avatar.py", "name": "Avatar", "what": "the Avatar components"},
    {"path": "components/comment.py", "name": "Comment", "what": "the Comment component"},
    {"path": "components/footer.py", "name": "Footer", "what": "the Footer component"},
]
TREE_FILES = [
    {"path": "pages/home.py", "name": "home_page", "what": "the home page"},
    {"path": "pages/dashboard.py", "name": "dashboard_page", "what": "the dashboard page"},
    {"path": "pages/profile.py", "name": "profile_page", "what": "the profile page"},
    {"path": "components/footer.py", "name": "Footer", "what": "the Footer component"},
    {"path": "components/card.py", "name": "Card", "what": "the Card component"},
]
ESCAPE_FILES = [
    {"path": "views/search.py", "name": "search fragments", "what": "the search fragments"},
    {"path": "views/legacy.py", "name": "legacy fragments", "what": "the legacy fragments"},
    {"path": "views/email.py", "name": "email bodies", "what": "the email bodies"},
    {"path": "views/safe.py", "name": "safe fragments", "what": "the notice and tag fragments"},
    {"path": "components/comment.py", "name": "Comment", "what": "the Comment component"},
    {"path": "pages/home.py", "name": "home_page", "what": "the home page"},
]


def pools() -> dict[str, object]:
    """The Jinja context of the tdom templates."""
    return {
        "component_files": COMPONENT_FILES,
        "tree_files": TREE_FILES,
        "escape_files": ESCAPE_FILES,
        "all_files": sorted({f["path"] for f in COMPONENT_FILES + TREE_FILES + ESCAPE_FILES}),
    }
