"""What the LSP templates draw from: symbols of the ``sample_project`` fixture.

A static table (checked against the fixture's files by tests/plugins/test_lsp.py), so
loading templates costs nothing. Lines and columns are 1-based and point at the name.
"""

from __future__ import annotations

import attrs
from punie_validation.sample_project import MODULE_FILES

FIXTURE = "sample_project"


@attrs.frozen
class Site:
    """One occurrence of a fixture symbol: a definition or a use."""

    symbol: str
    file: str
    line: int
    column: int
    kind: str  # "class", "function" or "method": what the symbol names

    @property
    def noun(self) -> str:
        """How a user names it: ``the Warehouse class``, ``the add_product method``."""
        return f"the {self.symbol} {self.kind}"


# Uses of a symbol defined elsewhere (or higher up): where goto_definition starts.
USES = (
    Site("Product", "inventory/orders.py", 25, 28, "class"),
    Site("Warehouse", "inventory/orders.py", 51, 44, "class"),
    Site("order_total", "inventory/orders.py", 38, 16, "function"),
    Site("OutOfStockError", "inventory/orders.py", 62, 16, "class"),
    Site("OrderLine", "inventory/orders.py", 27, 16, "class"),
    Site("with_vat", "inventory/reports.py", 37, 24, "function"),
    Site("format_price", "inventory/reports.py", 38, 17, "function"),
    Site("Category", "inventory/storage.py", 23, 22, "class"),
    Site("product_to_dict", "inventory/storage.py", 31, 16, "function"),
    Site("apply_discount", "inventory/pricing.py", 20, 18, "function"),
    Site("Warehouse", "tests/conftest.py", 16, 13, "class"),
    Site("Customer", "tests/conftest.py", 26, 12, "class"),
    Site("add_product", "tests/conftest.py", 17, 11, "method"),
    Site("quantity", "inventory/reports.py", 17, 37, "method"),
    Site("remove", "inventory/orders.py", 61, 23, "method"),
    Site("release_all", "inventory/orders.py", 63, 13, "function"),
    Site("receive", "inventory/warehouse.py", 57, 20, "function"),
    Site("format_line", "inventory/reports.py", 25, 26, "function"),
)

# Definitions: where find_references and hover start.
DEFINITIONS = (
    Site("Product", "inventory/models.py", 19, 7, "class"),
    Site("OrderLine", "inventory/models.py", 33, 7, "class"),
    Site("Customer", "inventory/models.py", 46, 7, "class"),
    Site("Category", "inventory/models.py", 10, 7, "class"),
    Site("label", "inventory/models.py", 27, 9, "method"),
    Site("subtotal", "inventory/models.py", 40, 9, "method"),
    Site("Warehouse", "inventory/warehouse.py", 23, 7, "class"),
    Site("OutOfStockError", "inventory/warehouse.py", 13, 7, "class"),
    Site("add_product", "inventory/warehouse.py", 31, 9, "method"),
    Site("quantity", "inventory/warehouse.py", 36, 9, "method"),
    Site("remove", "inventory/warehouse.py", 40, 9, "method"),
    Site("restock", "inventory/warehouse.py", 47, 9, "method"),
    Site("products", "inventory/warehouse.py", 59, 9, "method"),
    Site("order_total", "inventory/pricing.py", 17, 5, "function"),
    Site("apply_discount", "inventory/pricing.py", 10, 5, "function"),
    Site("with_vat", "inventory/pricing.py", 23, 5, "function"),
    Site("format_price", "inventory/pricing.py", 28, 5, "function"),
    Site("Order", "inventory/orders.py", 18, 7, "class"),
    Site("process_order", "inventory/orders.py", 51, 5, "function"),
    Site("total", "inventory/orders.py", 35, 9, "method"),
    Site("units", "inventory/orders.py", 31, 9, "method"),
    Site("stock_report", "inventory/reports.py", 13, 5, "function"),
    Site("order_summary", "inventory/reports.py", 29, 5, "function"),
    Site("load_catalogue", "inventory/storage.py", 15, 5, "function"),
    Site("save_catalogue", "inventory/storage.py", 29, 5, "function"),
    Site("product_to_dict", "inventory/storage.py", 10, 5, "function"),
)

MODULES = (
    *MODULE_FILES,
    "tests/conftest.py",
    "tests/test_orders.py",
)

# Whole or partial names a user might search the workspace for.
QUERIES = (
    "Warehouse",
    "Product",
    "Order",
    "order",
    "catalogue",
    "stock",
    "price",
    "discount",
    "total",
    "Customer",
    "restock",
    "OutOfStock",
    "vat",
    "label",
)


def pools() -> dict[str, object]:
    """The Jinja context of the LSP templates."""
    return {
        "uses": list(USES),
        "definitions": list(DEFINITIONS),
        "classes": [s for s in DEFINITIONS if s.kind == "class"],
        # Classes that define methods (the outline-then-hover workflow hovers each one).
        "method_classes": [
            s for s in DEFINITIONS if s.symbol in {"Product", "OrderLine", "Warehouse", "Order"}
        ],
        "modules": list(MODULES),
        "queries": list(QUERIES),
    }
