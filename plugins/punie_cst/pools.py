"""What the cst templates draw from: facts of the sample_project fixture."""

from __future__ import annotations

from punie_validation.sample_project import MODULE_FILES

FIXTURE = "sample_project"


def pools() -> dict[str, object]:
    """The Jinja context of the cst templates."""
    return {
        "module_files": list(MODULE_FILES),
        "test_files": ["tests/conftest.py", "tests/test_orders.py", "tests/test_warehouse.py"],
        "call_targets": [
            ("inventory/storage.py", "json.loads"),
            ("inventory/storage.py", "json.dumps"),
            ("inventory/storage.py", "Product"),
            ("inventory/orders.py", "order_total"),
            ("inventory/orders.py", "add_product"),
            ("inventory/orders.py", "OrderLine"),
            ("inventory/warehouse.py", "log.warning"),
            ("inventory/warehouse.py", "receive"),
            ("inventory/reports.py", "format_price"),
            ("inventory/reports.py", "cast"),
            ("inventory/pricing.py", "round"),
            ("inventory/pricing.py", "apply_discount"),
            ("tests/test_orders.py", "process_order"),
            ("tests/test_warehouse.py", "pytest.raises"),
        ],
        "decorator_targets": [
            ("inventory/models.py", "dataclass"),
            ("inventory/models.py", "property"),
            ("inventory/orders.py", "dataclass"),
            ("inventory/models.py", "dataclasses.dataclass"),
            ("tests/conftest.py", "pytest.fixture"),
            ("inventory/warehouse.py", "staticmethod"),
        ],
        "function_renames": [
            ("inventory/pricing.py", "with_vat", "add_vat"),
            ("inventory/pricing.py", "apply_discount", "discounted"),
            ("inventory/storage.py", "product_to_dict", "serialize_product"),
            ("inventory/reports.py", "format_line", "render_row"),
            ("inventory/orders.py", "release_all", "put_back"),
            ("inventory/orders.py", "process_order", "reserve_order"),
            ("inventory/warehouse.py", "receive", "accept_delivery"),
            ("inventory/storage.py", "load_products", "read_products"),
        ],
        "renames": [
            ("inventory/reports.py", "subtotal", "gross"),
            ("inventory/pricing.py", "subtotal", "net_sum"),
            ("inventory/orders.py", "BULK_THRESHOLD", "BULK_MIN_UNITS"),
            ("inventory/warehouse.py", "log", "logger"),
            ("inventory/storage.py", "product_to_dict", "serialize_product"),
            ("inventory/reports.py", "format_line", "render_row"),
            ("inventory/pricing.py", "apply_discount", "discounted"),
        ],
        "imports": [
            ("inventory/orders.py", "from decimal import Decimal"),
            ("inventory/pricing.py", "import math"),
            ("inventory/reports.py", "from collections import defaultdict"),
            ("inventory/storage.py", "import json"),
            ("inventory/warehouse.py", "from typing import Final"),
            ("inventory/models.py", "from datetime import date"),
        ],
    }
