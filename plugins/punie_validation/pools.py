"""What the validation templates draw from: files of the sample_project fixture."""

from __future__ import annotations

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the validation templates."""
    return {
        "module_files": [
            "inventory/models.py",
            "inventory/warehouse.py",
            "inventory/orders.py",
            "inventory/pricing.py",
            "inventory/reports.py",
            "inventory/storage.py",
        ],
        "packages": ["inventory", "."],
        "test_files": [
            "tests/test_models.py",
            "tests/test_warehouse.py",
            "tests/test_orders.py",
            "tests/test_reports.py",
            "tests/test_storage.py",
        ],
    }
