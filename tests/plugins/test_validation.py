"""The validation tools (ty, ruff, pytest) run for real on the sample_project fixture."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import punie_validation
import pytest
from hypothesis import given
from hypothesis import strategies as st
from punie_validation import tools
from punie_validation._parse import OutputError, parse_junit, parse_ruff_json, parse_ty_gitlab
from punie_validation._process import ProgramError, find_program, run_program

from punie_tools import Sandbox, Workspace
from tests.plugins.sample import materialize, render_and_run

FAILING = "tests/test_orders.py::test_bulk_discount_applies_at_threshold"


@pytest.fixture(name="project", scope="module")
def fixture_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh copy of sample_project shared by the read-only tests of this module."""
    return materialize(tmp_path_factory.mktemp("validation"))


@pytest.fixture(name="sandbox", scope="module")
def fixture_sandbox(project: Path) -> Sandbox:
    """A Code Mode sandbox with the validation tools bound to the project copy."""
    return Sandbox(punie_validation.punie_tools(), Workspace(project))


def run(sandbox: Sandbox, code: str) -> list[str]:
    """Run Code Mode code that must succeed; return its printed lines."""
    result = sandbox.run(code)
    assert result.ok, result.error
    return result.output.splitlines()


@pytest.fixture(name="suite", scope="module")
def fixture_suite(sandbox: Sandbox) -> list[str]:
    """The printed facts of one pytest_run over the fixture's tests (run once per module)."""
    return run(
        sandbox,
        """
r = pytest_run("tests")
print(r.success, r.passed, r.failed, r.errors, r.skipped, len(r.tests), r.duration > 0)
for t in r.tests:
    print(t.outcome, t.name, t.duration >= 0, repr(t.message))
""",
    )


def ruff_json(project: Path, target: str) -> list[dict[str, object]]:
    """What ``ruff check --output-format json`` reports, run directly."""
    ruff = find_program("ruff")
    assert ruff is not None
    out = subprocess.run(
        [ruff, "check", "--no-cache", "--output-format", "json", target],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(out.stdout)


def test_typecheck_finds_planted_error(sandbox: Sandbox) -> None:
    """ty's invalid-explicit-return error is reported at inventory/pricing.py:30:12."""
    lines = run(
        sandbox,
        """
r = typecheck(".")
print(r.success, r.error_count, r.warning_count, r.parse_error)
for e in r.errors:
    print(f"{e.file}:{e.line}:{e.column} {e.severity} {e.code}")
""",
    )
    assert lines[0] == "False 1 1 None"
    assert "inventory/pricing.py:30:12 error invalid-explicit-return" in lines
    assert "inventory/reports.py:17:17 warning redundant-cast" in lines


def test_typecheck_ignores_our_pythonpath(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's PYTHONPATH (here: this checkout, whose own tests/ package shadows the
    fixture's) does not reach ty: the same one error and one warning."""
    root = Path(__file__).resolve().parents[2]
    monkeypatch.setenv("PYTHONPATH", f"{root}{os.pathsep}{root / 'plugins'}")
    lines = run(sandbox, 'r = typecheck(".")\nprint(r.error_count, r.warning_count)\n')
    assert lines[0] == "1 1"


def test_typecheck_agrees_with_ty_concise(project: Path, sandbox: Sandbox) -> None:
    """The gitlab-format reading gives the same diagnostics as ty's concise output."""
    ty = find_program("ty")
    assert ty is not None
    concise = subprocess.run(
        [ty, "check", "--output-format", "concise", "--python", sys.executable, "inventory"],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    expected = {
        line.split(": ", 1)[0] + " " + line.split(": ", 1)[1].split(" ", 1)[0]
        for line in concise.splitlines()
        if line.startswith("inventory/")
    }
    lines = run(
        sandbox,
        """
for e in typecheck("inventory").errors:
    print(f"{e.file}:{e.line}:{e.column} {e.severity}[{e.code}]")
""",
    )
    assert set(lines) == expected


def test_typecheck_clean_file_succeeds(sandbox: Sandbox) -> None:
    """A file without diagnostics gives success=True and no errors."""
    assert run(sandbox, 'r = typecheck("inventory/models.py")\nprint(r.success, r.errors)') == [
        "True []"
    ]


def test_ruff_counts_match_ruff_json(project: Path, sandbox: Sandbox) -> None:
    """violation_count and fixable_count equal ruff's own JSON report (safe fixes)."""
    raw = ruff_json(project, ".")
    fixable = [v for v in raw if isinstance(v["fix"], dict) and v["fix"]["applicability"] == "safe"]
    lines = run(
        sandbox,
        """
r = ruff_check(".")
print(r.success, r.violation_count, r.fixable_count)
for v in r.violations:
    print(f"{v.file}:{v.line}:{v.column} {v.code} {v.fixable}")
""",
    )
    assert lines[0] == f"False {len(raw)} {len(fixable)}"
    assert (len(raw), len(fixable)) == (7, 3)
    assert "inventory/orders.py:6:8 F401 True" in lines
    assert "inventory/storage.py:12:89 E501 False" in lines


def test_ruff_single_file(project: Path, sandbox: Sandbox) -> None:
    """A file path checks only that file."""
    raw = ruff_json(project, "inventory/storage.py")
    lines = run(sandbox, 'r = ruff_check("inventory/storage.py")\nprint(r.violation_count)')
    assert lines == [str(len(raw))]


def test_pytest_counts(suite: list[str]) -> None:
    """12 tests pass and 1 fails; every test has an outcome and a duration."""
    assert suite[0] == "False 12 1 0 0 13 True"
    assert all(line.split()[2] == "True" for line in suite[1:])


def test_pytest_failing_test_and_message(suite: list[str]) -> None:
    """The failing test's node id and assertion message come from pytest's report."""
    failed = [line for line in suite[1:] if line.startswith("failed ")]
    assert len(failed) == 1
    assert failed[0].split()[1] == FAILING
    assert "10 or more units get 10% off: expected 90.0, got 100.0" in failed[0]
    passed = [line for line in suite[1:] if line.startswith("passed ")]
    assert all(line.endswith(" None") for line in passed)


def test_pytest_node_id(sandbox: Sandbox) -> None:
    """A node id runs just that test."""
    lines = run(sandbox, f'r = pytest_run("{FAILING}")\nprint(r.failed, [t.name for t in r.tests])')
    assert lines == [f"1 ['{FAILING}']"]


def test_template_pool_test_ids_are_the_tests_pytest_runs(suite: list[str]) -> None:
    """The templates' `test_ids` pool names exactly the fixture's tests, as pytest_run does."""
    from punie_validation.pools import pools

    ran = {line.split()[1] for line in suite[1:]}
    ids = pools()["test_ids"]
    assert isinstance(ids, list) and FAILING in ids
    assert set(ids) == ran


def test_bad_paths_give_parse_error(sandbox: Sandbox) -> None:
    """Missing files and paths leaving the workspace are parse_errors, not exceptions."""
    lines = run(
        sandbox,
        """
for tool in [typecheck, ruff_check, pytest_run]:
    for path in ["no/such/file.py", "../outside", "/etc"]:
        r = tool(path)
        print(r.success, r.parse_error)
""",
    )
    assert len(lines) == 9
    assert all(line.startswith("False ") and line != "False None" for line in lines)
    assert any("no such file" in line for line in lines)
    assert any("leaves the workspace" in line for line in lines)


def test_missing_programs_give_parse_error(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without ty and ruff installed the tools say so in parse_error."""
    monkeypatch.setattr(sys, "executable", str(tmp_path / "python"))
    monkeypatch.setenv("PATH", str(tmp_path))
    lines = run(
        sandbox,
        'print(typecheck(".").parse_error)\nprint(ruff_check(".").parse_error)',
    )
    assert lines[0].startswith("ty is not installed")
    assert lines[1].startswith("ruff is not installed")


def test_pytest_reports_class_tests_skips_and_collection_errors(tmp_path: Path) -> None:
    """Node ids follow pytest's for classes and parameters; a broken module is an error."""
    tests_dir = tmp_path / "tests"
    tests_dir.mkdir()
    (tests_dir / "test_kinds.py").write_text(
        "import pytest\n\n"
        "class TestGroup:\n    def test_method(self):\n        assert True\n\n"
        "@pytest.mark.parametrize('n', [1, 2])\ndef test_param(n):\n    assert n < 2, 'too big'\n\n"
        "@pytest.mark.skip(reason='later')\ndef test_skipped():\n    pass\n",
        encoding="utf-8",
    )
    (tests_dir / "test_broken.py").write_text("def test_x(:\n    pass\n", encoding="utf-8")
    with Workspace(tmp_path) as ws:
        result = tools.pytest_run("tests", ws)
    names = {t.name: t for t in result.tests}
    assert set(names) == {
        "tests/test_broken.py",
        "tests/test_kinds.py::TestGroup::test_method",
        "tests/test_kinds.py::test_param[1]",
        "tests/test_kinds.py::test_param[2]",
        "tests/test_kinds.py::test_skipped",
    }
    assert (result.passed, result.failed, result.errors, result.skipped) == (2, 1, 1, 1)
    assert not result.success
    assert (names["tests/test_kinds.py::test_param[2]"].message or "").startswith(
        "AssertionError: too big"
    )
    assert names["tests/test_kinds.py::test_skipped"].message == "later"
    assert names["tests/test_broken.py"].outcome == "error"
    assert "SyntaxError" in (names["tests/test_broken.py"].message or "")


def test_pytest_no_tests_is_not_success(sandbox: Sandbox) -> None:
    """A path with no tests gives success=False and says so."""
    lines = run(sandbox, 'r = pytest_run("inventory/models.py")\nprint(r.success, r.parse_error)')
    assert lines == ["False pytest collected no tests in 'inventory/models.py'"]


def _processes_mentioning(marker: str) -> list[str]:
    """Command lines of live processes that contain ``marker``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(cmdline)
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    """A program that runs too long is stopped together with the children it spawned."""
    marker = f"punie-sleeper-{time.time_ns()}"
    child = f"import time; time.sleep(60)  # {marker}"
    parent = (
        "import subprocess, sys, time; "
        f"subprocess.Popen([sys.executable, '-c', {child!r}]); time.sleep(60)"
    )
    with pytest.raises(ProgramError, match="timed out after 1 s"):
        run_program([sys.executable, "-c", parent], cwd=tmp_path, timeout=1)
    deadline = time.monotonic() + 5
    while _processes_mentioning(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_mentioning(marker) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_pytest_timeout_is_a_parse_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A hanging test suite gives success=False with a timeout parse_error."""
    (tmp_path / "test_hang.py").write_text("import time\n\ndef test_hang():\n    time.sleep(120)\n")
    monkeypatch.setattr(tools, "PYTEST_TIMEOUT", 1.0)
    with Workspace(tmp_path) as ws:
        result = tools.pytest_run("test_hang.py", ws)
    assert not result.success
    assert result.parse_error is not None and "timed out" in result.parse_error
    assert _processes_mentioning(str(tmp_path)) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_no_pytest_processes_left(project: Path, suite: list[str]) -> None:
    """After the pytest runs of this module no pytest process on the fixture is alive."""
    assert suite
    left = [c for c in _processes_mentioning(str(project)) if "pytest" in c]
    assert left == []


@pytest.mark.parametrize(
    "name",
    [
        t.name
        for t in punie_validation.punie_example_templates()
        if t.name != "failing_test_then_types"  # slow: its own test below
    ],
)
def test_templates_run(name: str, tmp_path: Path) -> None:
    """Each validation template renders, runs in the sandbox and answers from the output."""
    answers = render_and_run("validation", name, tmp_path, indexes=(0,))
    assert all(answers)


@pytest.mark.slow
def test_failing_test_template_runs(tmp_path: Path) -> None:
    """The call-response template reruns the failing test and type-checks its module."""
    (answer,) = render_and_run("validation", "failing_test_then_types", tmp_path, indexes=(0,))
    assert FAILING in answer


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@given(st.one_of(st.text(max_size=200), json_values.map(json.dumps)))
def test_json_parsers_never_crash(text: str) -> None:
    """The ty and ruff readers accept any text or raise OutputError, nothing else."""
    for parse in (parse_ty_gitlab, parse_ruff_json):
        with contextlib.suppress(OutputError):
            parse(text, lambda p: p)


@given(st.text(max_size=300))
def test_junit_parser_never_crashes(text: str) -> None:
    """The junit reader accepts any text or raises OutputError, nothing else."""
    with contextlib.suppress(OutputError):
        parse_junit(text, Path("/nonexistent"))
