"""The LSP tools against a real ``ty server`` on fresh copies of the sample_project fixture."""

from __future__ import annotations

import ast
import io
import os
import signal
import time
import tokenize
from collections.abc import Iterator
from pathlib import Path

import punie_lsp
import pytest
from punie_lsp.pools import DEFINITIONS, USES, Site
from punie_lsp.tools import lsp_session

from punie_datagen.render import RanSoFar, RenderSession, clean_code, clean_text
from punie_tools import ExampleTemplate, Registry, Sandbox, ToolSpec, Workspace

FIXTURE = "sample_project"


@pytest.fixture(name="registry", scope="module")
def fixture_registry() -> Registry:
    """The installed plugins (punie_validation declares the fixture)."""
    return Registry.load()


@pytest.fixture(name="specs", scope="module")
def fixture_specs() -> list[ToolSpec]:
    """The five LSP tool specs."""
    return punie_lsp.punie_tools()


def _copy(registry: Registry, dest: Path) -> Path:
    return registry.fixture(FIXTURE).materialize(dest)


@pytest.fixture(name="project", scope="module")
def fixture_project(registry: Registry, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of the fixture shared by the read-only tests of this module."""
    return _copy(registry, tmp_path_factory.mktemp("lsp"))


@pytest.fixture(name="workspace", scope="module")
def fixture_workspace(project: Path) -> Iterator[Workspace]:
    """One workspace (so one language server) for the whole module."""
    with Workspace(project) as ws:
        yield ws


@pytest.fixture(name="sandbox", scope="module")
def fixture_sandbox(specs: list[ToolSpec], workspace: Workspace) -> Sandbox:
    """Code Mode bound to the shared workspace."""
    return Sandbox(specs, workspace)


def run(sandbox: Sandbox, code: str) -> list[str]:
    """Run Code Mode code, fail on an error, return the printed lines."""
    result = sandbox.run(code)
    assert result.error is None, result.error
    return result.output.splitlines()


def _children() -> dict[int, str]:
    """Processes whose parent is this test process: pid -> command name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            found[int(entry.name)] = name
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return state[state.rindex(")") + 2] != "Z"


def test_goto_definition_of_shared_class_lands_on_class_line(
    sandbox: Sandbox, project: Path
) -> None:
    """goto_definition from a use of Product lands on the `class Product:` line."""
    lines = run(
        sandbox,
        'r = goto_definition("inventory/orders.py", 25, 28, "Product")\n'
        "loc = r.locations[0]\n"
        "print(r.success, len(r.locations))\n"
        "print(loc.file, loc.line, loc.column, loc.end_line, loc.end_column)\n"
        "print(loc.preview)",
    )
    assert lines[0] == "True 1"
    file, line, column, end_line, end_column = lines[1].split()
    source = (project / file).read_text().splitlines()[int(line) - 1]
    assert (file, source) == ("inventory/models.py", "class Product:")
    assert source[int(column) - 1 : int(end_column) - 1] == "Product"
    assert end_line == line
    assert lines[2] == "class Product:"


def test_goto_definition_searches_the_file_when_the_position_misses(sandbox: Sandbox) -> None:
    """A guessed position (line 1, column 0) still resolves the named symbol."""
    lines = run(
        sandbox,
        'r = goto_definition("tests/conftest.py", 1, 0, "Warehouse")\n'
        "print(r.locations[0].file, r.locations[0].line)",
    )
    assert lines == ["inventory/warehouse.py 23"]


def _name_tokens(root: Path, name: str) -> set[tuple[str, int, int]]:
    """Every identifier token ``name`` in the project's Python files (1-based)."""
    found = set()
    for path in root.rglob("*.py"):
        source = path.read_text()
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and tok.string == name:
                rel = path.relative_to(root).as_posix()
                found.add((rel, tok.start[0], tok.start[1] + 1))
    return found


def test_find_references_finds_every_use_of_the_shared_class(
    sandbox: Sandbox, project: Path
) -> None:
    """find_references on Product returns exactly the Product identifiers in the project."""
    lines = run(
        sandbox,
        'r = find_references("inventory/models.py", 19, 7, "Product")\n'
        "print(r.reference_count)\n"
        "for ref in r.references:\n"
        '    print(f"{ref.file} {ref.line} {ref.column}")',
    )
    refs = {(f, int(a), int(b)) for f, a, b in (line.split() for line in lines[1:])}
    assert refs == _name_tokens(project, "Product")
    assert int(lines[0]) == len(refs)
    assert {f for f, _, _ in refs} >= {
        "inventory/warehouse.py",
        "inventory/orders.py",
        "inventory/reports.py",
        "inventory/storage.py",
        "tests/conftest.py",
    }


def test_references_carry_the_source_line_as_preview(sandbox: Sandbox, project: Path) -> None:
    """Each reference's preview is its stripped source line."""
    lines = run(
        sandbox,
        'r = find_references("inventory/pricing.py", 10, 5, "apply_discount")\n'
        "for ref in r.references:\n"
        '    print(f"{ref.file}|{ref.line}|{ref.preview}")',
    )
    assert lines
    for line in lines:
        file, number, preview = line.split("|")
        assert (project / file).read_text().splitlines()[int(number) - 1].strip() == preview


def test_document_symbols_lists_classes_and_functions_with_children(
    sandbox: Sandbox, project: Path
) -> None:
    """document_symbols of warehouse.py matches its classes, methods and nested function."""
    lines = run(
        sandbox,
        'r = document_symbols("inventory/warehouse.py")\n'
        "print(r.success, r.file_path, r.symbol_count)\n"
        "for s in r.symbols:\n"
        '    print(f"{s.kind} {s.name} {s.line} {s.end_line}")\n'
        "    for c in s.children:\n"
        '        print(f"  {c.kind} {s.name}.{c.name} {c.line}")\n'
        "        for g in c.children:\n"
        '            print(f"    {g.kind} {c.name}.{g.name} {g.line}")',
    )
    assert lines[0].startswith("True inventory/warehouse.py ")
    tree = ast.parse((project / "inventory/warehouse.py").read_text())
    classes = {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)}
    top = {tuple(line.split()[:3]) for line in lines[1:] if not line.startswith(" ")}
    assert {("5", name, str(node.lineno)) for name, node in classes.items()} <= top
    methods = {
        f"Warehouse.{n.name}"
        for n in classes["Warehouse"].body
        if isinstance(n, ast.FunctionDef) and n.name != "__init__"
    }
    children = {line.split()[1] for line in lines if line.startswith("  6 ")}
    assert methods <= children
    assert "    12 restock.receive 50" in lines
    assert int(lines[0].split()[2]) == len(lines) - 1


def test_workspace_symbols_finds_a_class_by_partial_name(sandbox: Sandbox) -> None:
    """A partial query finds Warehouse at its class line, exact matches ranked first."""
    lines = run(
        sandbox,
        'r = workspace_symbols("Wareh")\n'
        "print(r.success, r.query, r.symbol_count)\n"
        "for s in r.symbols:\n"
        '    print(f"{s.name} {s.kind} {s.file} {s.line} {s.container_name}")',
    )
    assert lines[0].startswith("True Wareh ")
    assert "Warehouse 5 inventory/warehouse.py 23 None" in lines[1:]


def test_workspace_symbols_fills_the_container_and_the_name_line(sandbox: Sandbox) -> None:
    """Methods carry their class as container; decorated classes their `class` line."""
    lines = run(
        sandbox,
        'for q in ["restock", "Product"]:\n'
        "    for s in workspace_symbols(q).symbols:\n"
        "        if s.name == q:\n"
        '            print(f"{s.name} {s.file} {s.line} {s.container_name}")',
    )
    assert lines == [
        "restock inventory/warehouse.py 47 Warehouse",
        "Product inventory/models.py 19 None",
    ]


def test_hover_returns_signature_and_docstring(sandbox: Sandbox) -> None:
    """hover on add_product returns its signature and docstring as markdown."""
    lines = run(
        sandbox,
        'h = hover("inventory/warehouse.py", 31, 9, "add_product")\n'
        "print(h.success, h.language, h.symbol)\n"
        "print(h.content)",
    )
    assert lines[0] == "True markdown add_product"
    content = "\n".join(lines[1:])
    assert "def add_product(" in content
    assert "Register a product and put some units on the shelf." in content


def test_hover_with_column_zero_uses_the_symbol_on_the_line(sandbox: Sandbox) -> None:
    """The data's `hover(path, sym.line, 0, name)` pattern hovers the named method."""
    lines = run(
        sandbox,
        'h = hover("inventory/orders.py", 35, 0, "total")\nprint(h.success)\nprint(h.content)',
    )
    assert lines[0] == "True"
    assert "def total(self) -> float" in "\n".join(lines[1:]).replace("\n    ", "")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('goto_definition("inventory/nope.py", 1, 1, "x")', "file not found: inventory/nope.py"),
        ('find_references("inventory", 1, 1, "x")', "not a file: inventory"),
        ('hover("README.md", 1, 1, "x")', "not a Python file: README.md"),
        ('goto_definition("../outside.py", 1, 1, "x")', "leaves the workspace"),
        ('document_symbols("/etc/passwd")', "outside the workspace"),
        (
            'hover("inventory/pricing.py", 400, 3, "nothing_here")',
            "line 400 is out of range: inventory/pricing.py has 30 lines and no identifier",
        ),
        ('workspace_symbols("  ")', "query is empty"),
    ],
)
def test_bad_input_gives_a_clear_parse_error(sandbox: Sandbox, code: str, message: str) -> None:
    """Bad arguments come back as success=False with a parse_error, not an exception."""
    lines = run(sandbox, f"r = {code}\nprint(r.success)\nprint(r.parse_error)")
    assert lines[0] == "False"
    assert message in lines[1]


def test_warm_requests_reuse_the_server(sandbox: Sandbox, workspace: Workspace) -> None:
    """Every call of a session talks to the same server process."""
    run(sandbox, 'document_symbols("inventory/models.py")')
    pid = lsp_session(workspace).pid
    run(
        sandbox,
        'hover("inventory/models.py", 19, 7, "Product")\n'
        'workspace_symbols("Order")\n'
        'goto_definition("inventory/orders.py", 25, 28, "Product")',
    )
    assert pid is not None
    assert lsp_session(workspace).pid == pid


def test_server_sees_files_edited_during_the_session(
    registry: Registry, specs: list[ToolSpec], tmp_path: Path
) -> None:
    """After a file changes on disk, the next request answers from the new text."""
    with Workspace(_copy(registry, tmp_path)) as ws:
        sandbox = Sandbox(specs, ws)
        code = 'print([s.name for s in document_symbols("inventory/pricing.py").symbols])'
        before = run(sandbox, code)
        pricing = ws.root / "inventory/pricing.py"
        pricing.write_text(
            pricing.read_text() + "\n\ndef shipping_cost() -> float:\n    return 4.5\n"
        )
        after = run(sandbox, code)
        found = run(sandbox, 'print([s.file for s in workspace_symbols("shipping_cost").symbols])')
    assert "shipping_cost" not in before[0]
    assert "shipping_cost" in after[0]
    assert found == ["['inventory/pricing.py']"]


def test_no_server_is_left_after_the_workspace_closes(
    registry: Registry, specs: list[ToolSpec], tmp_path: Path
) -> None:
    """Closing the workspace stops its language server."""
    with Workspace(_copy(registry, tmp_path)) as ws:
        run(Sandbox(specs, ws), 'document_symbols("inventory/models.py")')
        pid = lsp_session(ws).pid
        assert pid is not None and _running(pid)
    assert not _running(pid)
    assert pid not in _children()


def test_no_server_is_left_after_code_that_raised(
    registry: Registry, specs: list[ToolSpec], tmp_path: Path
) -> None:
    """A failing Code Mode run, then an exception in the session, still stop the server."""
    pid = None
    with pytest.raises(RuntimeError), Workspace(_copy(registry, tmp_path)) as ws:
        result = Sandbox(specs, ws).run('hover("inventory/models.py", 19, 7, "Product")\n1 / 0')
        assert result.error is not None and "ZeroDivisionError" in result.error
        pid = lsp_session(ws).pid
        raise RuntimeError("the session failed")
    assert pid is not None
    assert not _running(pid)


def test_a_crashed_server_is_restarted_on_the_next_call(
    registry: Registry, specs: list[ToolSpec], tmp_path: Path
) -> None:
    """If the server dies, the next call starts a new one instead of failing forever."""
    with Workspace(_copy(registry, tmp_path)) as ws:
        sandbox = Sandbox(specs, ws)
        run(sandbox, 'document_symbols("inventory/models.py")')
        first = lsp_session(ws).pid
        assert first is not None
        os.kill(first, signal.SIGKILL)
        for _ in range(100):
            if lsp_session(ws).pid is None:
                break
            time.sleep(0.05)
        lines = run(sandbox, 'print(document_symbols("inventory/models.py").success)')
        second = lsp_session(ws).pid
    assert lines == ["True"]
    assert second is not None and second != first
    assert not _running(second)


def test_missing_server_gives_a_clear_error(
    specs: list[ToolSpec], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server command that is not installed is reported, not raised."""
    monkeypatch.setenv("PUNIE_LSP_SERVER", "no-such-language-server --stdio")
    with Workspace(project) as ws:
        lines = run(
            Sandbox(specs, ws),
            'r = goto_definition("inventory/orders.py", 25, 28, "Product")\n'
            "print(r.success)\nprint(r.parse_error)",
        )
    assert lines[0] == "False"
    assert "'no-such-language-server' not found on PATH" in lines[1]


def test_unresponsive_server_times_out_and_is_killed(
    specs: list[ToolSpec], project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that never answers gives a timeout error and leaves no process behind."""
    monkeypatch.setenv("PUNIE_LSP_SERVER", "sleep 60")
    monkeypatch.setenv("PUNIE_LSP_TIMEOUT", "1")
    before = set(_children())
    with Workspace(project) as ws:
        lines = run(
            Sandbox(specs, ws),
            'r = workspace_symbols("Product")\nprint(r.success)\nprint(r.parse_error)',
        )
    assert lines == [
        "False",
        "the language server did not answer starting the language server within 1 s",
    ]
    assert set(_children()) <= before


@pytest.mark.parametrize("site", [*USES, *DEFINITIONS], ids=lambda s: f"{s.file}:{s.line}")
def test_template_sites_point_at_their_symbol(project: Path, site: Site) -> None:
    """Every site in the template pools names its symbol at its line and column."""
    line = (project / site.file).read_text().splitlines()[site.line - 1]
    start = site.column - 1
    assert line[start : start + len(site.symbol)] == site.symbol
    if site in DEFINITIONS:
        keyword = "class" if site.kind == "class" else "def"
        assert line[:start].strip() == keyword


def _render(template: ExampleTemplate, sandbox: Sandbox, seed: int) -> tuple[list[str], str]:
    """Render one example the way punie_datagen does: code blocks run for real."""
    session = RenderSession(template, seed, 0)
    assert clean_text(session.block("query"))
    ran = RanSoFar()
    for name in session.code_blocks():
        code = clean_code(session.block(name, **ran.context()))
        if not code:
            break
        result = sandbox.run(code)
        assert result.error is None, f"{name}:\n{code}\n{result.error}"
        ran.add(result.reply, result.values)
    answer = clean_text(session.block("answer", **ran.context()))
    return ran.outputs, answer


@pytest.mark.parametrize("seed", range(3))
def test_templates_render_and_run_on_the_fixture(
    registry: Registry, sandbox: Sandbox, seed: int
) -> None:
    """Every LSP template renders, its code runs without error and the answer uses it."""
    templates = [t for t in registry.templates() if t.plugin == "lsp"]
    assert len(templates) >= 8
    for template in templates:
        _, answer = _render(template, sandbox, seed)
        assert answer, template.name
        assert "couldn't" not in answer and "no information" not in answer, (template.name, answer)


def test_multi_tool_templates_make_a_follow_up_call(registry: Registry, sandbox: Sandbox) -> None:
    """The workflow templates run a second code block built from the first one's output."""
    multi = [t for t in registry.templates() if t.plugin == "lsp" and "code_2" in t.source]
    assert len(multi) >= 3
    for template in multi:
        outputs, _ = _render(template, sandbox, 7)
        assert len(outputs) == 2, template.name


def test_eval_queries_call_lsp_tools_with_their_arguments(
    registry: Registry, specs: list[ToolSpec]
) -> None:
    """Each tool has two or more held-out queries whose expected args fit its signature."""
    by_name = {s.name: s for s in specs}
    queries = [q for q in registry.eval_queries() if q.category == "lsp"]
    counts = dict.fromkeys(by_name, 0)
    for query in queries:
        assert query.fixture == FIXTURE
        for call in query.expected:
            params = {p.name for p in by_name[call.tool].parameters}
            assert set(call.args) <= params, query.id
            counts[call.tool] += not query.multi_step
    assert min(counts.values()) >= 2
    assert any(q.multi_step and len(q.expected) >= 2 for q in queries)


def test_language_server_ignores_our_pythonpath(
    registry: Registry, specs: list[ToolSpec], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's PYTHONPATH (this checkout, whose tests/ package shadows the fixture's) does
    not reach ty's server: the use of ``label`` through ``tests.conftest.HAMMER`` is found."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", f"{root}{os.pathsep}{root / 'plugins'}")
    with Workspace(_copy(registry, tmp_path / "copy")) as ws:
        code = 'r = find_references("inventory/models.py", 27, 9, "label")\nprint(r.references)'
        output = Sandbox(specs, ws).run(code).output
    assert "tests/test_models.py" in output
