"""The CST tools (libcst) run through Code Mode on the sample_project fixture."""

from __future__ import annotations

import ast
import tempfile
from collections.abc import Iterator
from pathlib import Path

import punie_cst
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from punie_cst.imports import add_import
from punie_cst.tools import cst_add_import, cst_find_pattern, cst_rename

from punie_tools import Sandbox, Workspace
from tests.plugins.sample import materialize, render_and_run

TRAPS = '''\
"""A module where one name is a binding, an attribute and a keyword."""


def scale(total, factor=2):
    # total is the parameter here
    return total * factor


class Invoice:
    total = 0

    def bump(self, other):
        self.total = other.total + 1
        return dict(total=self.total, label="total")


def outer():
    total = 1

    def inner():
        nonlocal total
        total += 1
        return total

    return inner()
'''


@pytest.fixture(name="project")
def fixture_project(tmp_path: Path) -> Path:
    """A fresh copy of sample_project (CST tests may write to it)."""
    copy = materialize(tmp_path)
    (copy / "traps.py").write_text(TRAPS, encoding="utf-8")
    return copy


@pytest.fixture(name="sandbox")
def fixture_sandbox(project: Path) -> Iterator[Sandbox]:
    """A Code Mode sandbox with the CST tools bound to the project copy."""
    with Workspace(project) as ws:
        yield Sandbox(punie_cst.punie_tools(), ws)


def run(sandbox: Sandbox, code: str) -> list[str]:
    """Run Code Mode code that must succeed; return its printed lines."""
    result = sandbox.run(code)
    assert result.ok, result.error
    return result.output.splitlines()


def find(sandbox: Sandbox, file_path: str, pattern: str) -> list[str]:
    """``line:column node_type snippet`` for each match, through Code Mode."""
    lines = run(
        sandbox,
        f"""
r = cst_find_pattern({file_path!r}, {pattern!r})
print(r.success, r.match_count, r.parse_error)
for m in r.matches:
    print(f"{{m.line}}:{{m.column}} {{m.node_type}} {{m.code_snippet}}")
""",
    )
    head, matches = lines[0], lines[1:]
    assert head == f"True {len(matches)} None", head
    return matches


def test_find_classes(sandbox: Sandbox) -> None:
    """ClassDef finds the four classes of models.py at their class lines."""
    assert find(sandbox, "inventory/models.py", "ClassDef") == [
        "10:0 ClassDef class Category(Enum):",
        "19:0 ClassDef class Product:",
        "33:0 ClassDef class OrderLine:",
        "46:0 ClassDef class Customer:",
    ]


def test_find_nested_functions(sandbox: Sandbox) -> None:
    """FunctionDef finds nested functions too."""
    found = find(sandbox, "inventory/reports.py", "FunctionDef")
    assert [f.split()[0] for f in found] == ["13:0", "16:4", "29:0"]


def test_find_dotted_call(sandbox: Sandbox) -> None:
    """call:json.loads matches the dotted call in storage.py."""
    assert find(sandbox, "inventory/storage.py", "call:json.loads") == [
        '17:11 Call json.loads(path.read_text(encoding="utf-8"))'
    ]


def test_find_method_call_by_name(sandbox: Sandbox) -> None:
    """call:NAME also matches method calls obj.NAME(...)."""
    assert find(sandbox, "inventory/orders.py", "call:add_product") == [
        "57:12 Call warehouse.add_product(line.product, line.quantity)"
    ]


def test_find_decorator_calls_and_dotted(sandbox: Sandbox) -> None:
    """decorator:dataclass matches @dataclass(frozen=True), @dataclasses.dataclass, @dataclass."""
    assert find(sandbox, "inventory/models.py", "decorator:dataclass") == [
        "18:0 Decorator @dataclass(frozen=True)",
        "32:0 Decorator @dataclasses.dataclass",
        "45:0 Decorator @dataclass",
    ]


def test_find_subscript_call(sandbox: Sandbox, project: Path) -> None:
    """call:Inject also matches Inject[...] subscripts."""
    (project / "svc.py").write_text("def view(db: Inject[Database]) -> None: ...\n")
    assert find(sandbox, "svc.py", "call:Inject") == ["1:13 Subscript Inject[Database]"]


def test_find_import(sandbox: Sandbox) -> None:
    """import:models matches ``from inventory.models import ...``."""
    found = find(sandbox, "inventory/orders.py", "import:models")
    assert found == ["9:0 ImportFrom from inventory.models import Customer, OrderLine, Product"]


def test_unknown_pattern_lists_valid_ones(sandbox: Sandbox) -> None:
    """A pattern outside the grammar gives success=False naming the valid patterns."""
    lines = run(sandbox, 'r = cst_find_pattern("inventory/models.py", "Lambda")\nprint(r)')
    assert "success=False" in lines[0]
    assert "valid patterns: FunctionDef, ClassDef" in lines[0]


def test_rename_local_keeps_attribute_and_keyword(sandbox: Sandbox, project: Path) -> None:
    """Renaming subtotal in reports.py leaves line.subtotal and subtotal= alone; no write."""
    before = (project / "inventory/reports.py").read_text()
    lines = run(
        sandbox,
        """
r = cst_rename("inventory/reports.py", "subtotal", "gross")
print(r.success, r.rename_count, r.parse_error)
print(r.modified_source)
""",
    )
    assert lines[0] == "True 2 None"
    source = "\n".join(lines[1:])
    assert "    gross = sum(line.subtotal for line in order.lines)" in source
    assert "        subtotal=gross," in source
    assert (project / "inventory/reports.py").read_text() == before


def test_rename_is_scope_aware(project: Path) -> None:
    """Bindings and references change in every scope; attributes, keywords, strings do not."""
    with Workspace(project) as ws:
        result = cst_rename("traps.py", "total", "amount", ws)
    assert result.success, result.parse_error
    source = result.modified_source or ""
    assert "def scale(amount, factor=2):" in source
    assert "return amount * factor" in source
    assert "    amount = 0" in source  # the class attribute binding
    assert "self.total = other.total + 1" in source
    assert 'dict(total=self.total, label="total")' in source
    assert "nonlocal amount" in source and "amount += 1" in source
    assert "# total is the parameter here" in source
    assert result.rename_count == 7
    ast.parse(source)


def test_rename_import_keeps_module(project: Path) -> None:
    """Renaming an imported name aliases the import instead of changing what is imported."""
    with Workspace(project) as ws:
        result = cst_rename("inventory/reports.py", "Product", "Item", ws)
    source = result.modified_source or ""
    assert "from inventory.models import Category, Product as Item" in source
    assert "def format_line(product: Item) -> str:" in source


def test_rename_write_saves_file(sandbox: Sandbox, project: Path) -> None:
    """write=True saves exactly the modified source."""
    lines = run(
        sandbox,
        'r = cst_rename("inventory/warehouse.py", "log", "logger", write=True)\n'
        "print(r.rename_count)",
    )
    assert lines == ["2"]
    text = (project / "inventory/warehouse.py").read_text()
    assert "logger = logging.getLogger(__name__)" in text
    assert 'logger.warning("ignoring delivery' in text
    assert not list(project.glob("inventory/.*.tmp"))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("nothing", "x", "no variable, function, class or import named 'nothing'"),
        ("subtotal", "class", "new_name 'class' is not a valid Python identifier"),
        ("subtotal", "total", "'total' is already defined in the same scope"),
    ],
)
def test_rename_refusals(project: Path, old: str, new: str, message: str) -> None:
    """Impossible renames give success=False and a clear parse_error."""
    with Workspace(project) as ws:
        result = cst_rename("inventory/reports.py", old, new, ws)
    assert (result.success, result.modified_source) == (False, None)
    assert message in (result.parse_error or "")


def test_add_import(sandbox: Sandbox, project: Path) -> None:
    """cst_add_import adds a new import, reports existing ones, and writes nothing."""
    before = (project / "inventory/pricing.py").read_text()
    lines = run(
        sandbox,
        """
a = cst_add_import("inventory/pricing.py", "import math")
print(a.success, a.import_added, "import math" in a.modified_source)
b = cst_add_import("inventory/storage.py", "import json")
print(b.success, b.import_added)
""",
    )
    assert lines == ["True True True", "True False"]
    assert (project / "inventory/pricing.py").read_text() == before


def test_add_import_write_is_idempotent(project: Path) -> None:
    """Writing the same import twice changes the file once."""
    with Workspace(project) as ws:
        first = cst_add_import("inventory/models.py", "from datetime import date", ws, write=True)
        second = cst_add_import("inventory/models.py", "from datetime import date", ws, write=True)
    assert (first.import_added, second.import_added) == (True, False)
    assert (project / "inventory/models.py").read_text() == first.modified_source


@pytest.mark.parametrize("stmt", ["from x import *", "x = 1", "import", "print('hi')"])
def test_add_import_rejects_non_imports(project: Path, stmt: str) -> None:
    """Statements that are not plain imports give a parse_error."""
    with Workspace(project) as ws:
        result = cst_add_import("inventory/models.py", stmt, ws)
    assert not result.success
    assert result.parse_error


def test_bad_files_give_parse_error(sandbox: Sandbox, project: Path) -> None:
    """Missing files, directories, escaping paths and syntax errors are parse_errors."""
    (project / "broken.py").write_text("def f(:\n    pass\n")
    lines = run(
        sandbox,
        """
for path in ["missing.py", "inventory", "../x.py", "broken.py"]:
    print(cst_find_pattern(path, "Call").parse_error)
    print(cst_rename(path, "f", "g").parse_error)
    print(cst_add_import(path, "import os").parse_error)
""",
    )
    assert len(lines) == 12
    assert all(line != "None" for line in lines)
    assert lines[-1] == "syntax error in broken.py at line 1, column 7: invalid syntax"


python_fragments = st.sampled_from(
    [
        "import os",
        "from typing import Any",
        "x = 1",
        "def f(a, b=2):\n    return a + b",
        "class C:\n    y = 2\n    def m(self):\n        return self.y",
        "@dataclass(frozen=True)\nclass D:\n    z: int",
        "print(f(x, b=x))",
        "json.loads('{}')",
        "for i in range(3):\n    x += i",
        "async def g():\n    await h()",
        "lambda q: q",
        "try:\n    pass\nexcept E as err:\n    pass",
        "def (",
        "  indented = 1",
        "'''unterminated",
    ]
)
sources = st.one_of(st.text(max_size=120), st.lists(python_fragments, max_size=6).map("\n".join))
patterns = st.sampled_from(
    ["FunctionDef", "Call", "Name", "call:f", "call:json.loads", "decorator:dataclass", "bad"]
)
names = st.sampled_from(["x", "f", "C", "a", "err", "q", "1bad", "class"])
imports = st.sampled_from(["import os", "from typing import Any", "import json as j", "junk"])


@pytest.fixture(name="scratch", scope="module")
def fixture_scratch() -> Iterator[Workspace]:
    """An empty workspace for hypothesis examples."""
    with tempfile.TemporaryDirectory() as tmp, Workspace(tmp) as ws:
        yield ws


@settings(max_examples=50, deadline=None)
@given(source=sources, pattern=patterns, old=names, new=names, stmt=imports)
def test_cst_tools_never_raise(
    scratch: Workspace, source: str, pattern: str, old: str, new: str, stmt: str
) -> None:
    """On any source text the three tools return a result (parse_error on failure)."""
    (scratch.root / "m.py").write_text(source, encoding="utf-8", newline="")
    found = cst_find_pattern("m.py", pattern, scratch)
    renamed = cst_rename("m.py", old, new, scratch)
    added = cst_add_import("m.py", stmt, scratch)
    for result in (found, renamed, added):
        assert result.success == (result.parse_error is None)


@settings(max_examples=50, deadline=None)
@given(source=st.lists(python_fragments, max_size=6).map("\n".join), stmt=imports)
def test_add_import_twice_equals_once(source: str, stmt: str) -> None:
    """Adding an import to source that already got it changes nothing."""
    try:
        once = add_import(source, stmt)
    except Exception:  # not parseable or not an import: nothing to compare
        return
    assert add_import(once, stmt) == once


@pytest.mark.parametrize("name", [t.name for t in punie_cst.punie_example_templates()])
def test_templates_run(name: str, tmp_path: Path) -> None:
    """Each CST template renders, runs in the sandbox and answers from the output."""
    assert all(render_and_run("cst", name, tmp_path, indexes=(0, 1, 2)))
