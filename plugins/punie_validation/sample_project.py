"""The ``sample_project`` fixture: a small inventory/order-processing package with git history.

Planted facts (paths relative to the fixture root; line numbers are 1-based):

- Package ``inventory`` (7 modules): ``__init__``, ``models``, ``warehouse``, ``orders``,
  ``pricing``, ``reports``, ``storage``; tests in ``tests/`` (conftest + 5 test modules).
- Shared class ``Product``: defined at ``inventory/models.py:19`` (``class Product:``,
  decorated ``@dataclass(frozen=True)`` on line 18); used in ``inventory/warehouse.py``,
  ``inventory/orders.py``, ``inventory/reports.py``, ``inventory/storage.py``,
  ``inventory/__init__.py`` and ``tests/conftest.py``. ``OrderLine`` (models.py:33) is
  decorated ``@dataclasses.dataclass``. ``Warehouse`` is defined at
  ``inventory/warehouse.py:23``.
- Nested functions: ``Warehouse.restock.receive`` (warehouse.py:50),
  ``process_order.release_all`` (orders.py:55), ``stock_report.format_line`` (reports.py:16).
- ty (``ty check``): 1 error ``invalid-explicit-return`` at ``inventory/pricing.py:30:12``
  (``format_price`` returns a float but declares ``str``) and 1 warning ``redundant-cast`` at
  ``inventory/reports.py:17:17``.
- ruff (the fixture's own ``[tool.ruff]`` config): 7 violations, 3 fixable (safe fixes):
  F401 ``os`` unused (orders.py:6, fixable), E741 (orders.py:46), F841 ``error`` unused
  (orders.py:62, fixable), B006 (reports.py:13, unsafe fix only), UP035 (storage.py:5),
  E501 (storage.py:12), UP006 (storage.py:15, fixable).
- pytest: 13 tests, 12 pass, 1 fails:
  ``tests/test_orders.py::test_bulk_discount_applies_at_threshold`` with
  ``AssertionError: 10 or more units get 10% off: expected 90.0, got 100.0`` (the bug:
  ``Order.total`` uses ``>`` instead of ``>=`` at orders.py:37).
- Rename traps: in ``inventory/reports.py`` the local ``subtotal`` (line 31) sits next to the
  attribute ``line.subtotal`` and the keyword ``subtotal=`` (line 35); ``pricing.py`` has the
  same local/attribute pair. ``json.loads`` is called in ``storage.py:17``.
- git (created by ``setup``): 4 commits on ``main`` with fixed authors and dates; then
  ``inventory/warehouse.py`` and ``tests/test_warehouse.py`` are modified but unstaged (the
  ``low_stock`` feature in progress), ``CHANGELOG.md`` is a new staged file and ``TODO.md``
  is untracked. The commit that introduced the type error is the 4th ("Show formatted
  prices in order summaries"); with the fixture files unchanged the history is byte-for-byte
  reproducible and HEAD is ``HEAD_COMMIT``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import attrs

FIXTURE_DIR = Path(__file__).parent / "fixtures" / "sample_project"
HEAD_COMMIT = "8d013503732632b94d2e6bebd0f212ec53faa3ef"
MODULE_FILES = (
    "inventory/models.py",
    "inventory/warehouse.py",
    "inventory/orders.py",
    "inventory/pricing.py",
    "inventory/reports.py",
    "inventory/storage.py",
)
"""The package's modules with code (no ``__init__``), in the order templates draw from."""

_LOW_STOCK = '''
    def low_stock(self, threshold: int = 5) -> list[Product]:
        """Products with fewer than ``threshold`` units on the shelf."""
        return [p for p in self.products() if self.quantity(p.sku) < threshold]
'''
_LOW_STOCK_TEST = """

def test_low_stock_lists_rake(warehouse: Warehouse) -> None:
    assert [p.sku for p in warehouse.low_stock()] == ["GD-010"]
"""
_FORMAT_PRICE = '''

def format_price(amount: float, currency: str = "EUR") -> str:
    """Render an amount for a receipt, e.g. ``12.50 EUR``."""
    return round(amount, 2)
'''


@attrs.frozen
class Commit:
    """One commit of the scripted history: files to stage (with edits) and its metadata."""

    message: str
    author: tuple[str, str]
    date: str
    files: tuple[str, ...]
    # (path, final text, text it had in this commit): reverts later work for older commits
    edits: tuple[tuple[str, str, str], ...] = ()


ADA = ("Ada Lovelace", "ada@example.com")
GRACE = ("Grace Hopper", "grace@example.com")

HISTORY = (
    Commit(
        "Add product models and warehouse",
        ADA,
        "2025-03-03T09:15:00+01:00",
        (
            ".gitignore",
            "pyproject.toml",
            "README.md",
            "inventory/__init__.py",
            "inventory/models.py",
            "inventory/warehouse.py",
        ),
        (
            ("inventory/__init__.py", "from inventory.orders import Order, process_order\n", ""),
            ("inventory/__init__.py", '    "Order",\n', ""),
            ("inventory/__init__.py", '    "process_order",\n', ""),
            ("inventory/warehouse.py", _LOW_STOCK, ""),
        ),
    ),
    Commit(
        "Add orders with bulk discount and pricing",
        GRACE,
        "2025-03-04T14:02:00+01:00",
        ("inventory/__init__.py", "inventory/orders.py", "inventory/pricing.py"),
        (("inventory/pricing.py", _FORMAT_PRICE, ""),),
    ),
    Commit(
        "Add reports, catalogue storage and tests",
        ADA,
        "2025-03-06T11:40:00+01:00",
        (
            "inventory/reports.py",
            "inventory/storage.py",
            "tests/__init__.py",
            "tests/conftest.py",
            "tests/test_models.py",
            "tests/test_orders.py",
            "tests/test_reports.py",
            "tests/test_storage.py",
            "tests/test_warehouse.py",
        ),
        (
            ("inventory/reports.py", "import format_price, with_vat", "import with_vat"),
            ("inventory/reports.py", "        display=format_price(total),\n", ""),
            ("tests/test_warehouse.py", _LOW_STOCK_TEST, ""),
        ),
    ),
    Commit(
        "Show formatted prices in order summaries",
        GRACE,
        "2025-03-07T16:25:00+01:00",
        ("inventory/pricing.py", "inventory/reports.py"),
    ),
)
STAGED = ("CHANGELOG.md",)
UNTRACKED = ("TODO.md",)


class FixtureSetupError(RuntimeError):
    """The scripted git history could not be created."""


def _git(copy: Path, *args: str, author: tuple[str, str] = ADA, date: str = "") -> None:
    git = shutil.which("git")
    if git is None:
        raise FixtureSetupError("git is not installed (needed to create the fixture history)")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(copy),
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": author[0],
        "GIT_AUTHOR_EMAIL": author[1],
        "GIT_COMMITTER_NAME": author[0],
        "GIT_COMMITTER_EMAIL": author[1],
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": date,
        "LC_ALL": "C",
    }
    proc = subprocess.run(
        [git, *args], cwd=copy, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    if proc.returncode != 0:
        raise FixtureSetupError(f"git {' '.join(args)} failed: {proc.stderr.strip()}")


def setup(copy: Path) -> None:
    """Create the scripted git history inside a fresh copy of the fixture."""
    copy = Path(copy)
    if (copy / ".git").exists():
        raise FixtureSetupError(f"{copy} already has a .git directory")
    final = {p: (copy / p).read_text(encoding="utf-8") for c in HISTORY for p in c.files}
    _git(copy, "init", "-q", "--initial-branch=main")
    for commit in HISTORY:
        for path in commit.files:
            text = final[path]
            for edit_path, new, old in commit.edits:
                if edit_path == path:
                    if new not in text:
                        raise FixtureSetupError(f"{path}: expected text for {commit.message!r}")
                    text = text.replace(new, old, 1)
            (copy / path).write_text(text, encoding="utf-8")
        _git(copy, "add", "--", *commit.files)
        _git(
            copy,
            "commit",
            "-q",
            "--no-verify",
            "-m",
            commit.message,
            author=commit.author,
            date=commit.date,
        )
    for path, text in final.items():
        (copy / path).write_text(text, encoding="utf-8")
    _git(copy, "add", "--", *STAGED)
