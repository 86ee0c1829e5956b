"""What the validation templates draw from: files of the sample_project fixture."""

from __future__ import annotations

from punie_validation.sample_project import MODULE_FILES

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the validation templates."""
    return {
        "module_files": list(MODULE_FILES),
        "packages": ["inventory", "."],
        "test_files": [
            "tests/test_models.py",
            "tests/test_warehouse.py",
            "tests/test_orders.py",
            "tests/test_reports.py",
            "tests/test_storage.py",
        ],
    }
