"""punie_cst: libcst-based code tools (find patterns, scope-aware rename, add imports)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from punie_cst.tools import cst_add_import, cst_find_pattern, cst_rename
from punie_tools import (
    EvalQuery,
    ExampleTemplate,
    ToolSpec,
    hookimpl,
    load_eval_queries,
    load_templates,
)

CATEGORY = "cst"
_HERE = Path(str(files(__name__)))

# Pools the templates draw from: facts of the sample_project fixture.
TEMPLATE_CONTEXT: dict[str, object] = {
    "module_files": [
        "inventory/models.py",
        "inventory/warehouse.py",
        "inventory/orders.py",
        "inventory/pricing.py",
        "inventory/reports.py",
        "inventory/storage.py",
    ],
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


@hookimpl
def punie_tools() -> list[ToolSpec]:
    """The three CST tools; rename and add-import can write the file, so they are marked."""
    return [
        ToolSpec.from_function(cst_find_pattern, category=CATEGORY),
        ToolSpec.from_function(cst_rename, category=CATEGORY, writes=True, preview_flag="write"),
        ToolSpec.from_function(
            cst_add_import, category=CATEGORY, writes=True, preview_flag="write"
        ),
    ]


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Templates rendered against the sample_project fixture."""
    return load_templates(_HERE / "templates", "sample_project", TEMPLATE_CONTEXT)


@hookimpl
def punie_eval_queries() -> list[EvalQuery]:
    """Held-out queries for the CST tools."""
    return load_eval_queries(_HERE / "eval.toml")
