"""Parsers for the machine-readable reports of ty (gitlab JSON), ruff (JSON) and pytest (junit)."""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from punie_validation.results import RuffViolation, TestCase, TypeCheckError


class OutputError(ValueError):
    """A program's output is not in the format we asked for."""


# ty's gitlab format maps its "error" level to "major" and "warning" to "minor".
_TY_ERROR_SEVERITIES = {"blocker", "critical", "major"}


def parse_ty_gitlab(text: str, relative: Callable[[str], str]) -> list[TypeCheckError]:
    """Read ``ty check --output-format gitlab`` output (a JSON list, possibly empty)."""
    items = _json_list(text, "ty")
    out = []
    for item in items:
        location = _dict(item.get("location"))
        begin = _dict(_dict(location.get("positions")).get("begin"))
        code = str(item.get("check_name") or "unknown")
        message = str(item.get("description") or "")
        message = message.removeprefix(f"{code}: ")
        severity = "error" if item.get("severity") in _TY_ERROR_SEVERITIES else "warning"
        path = str(location.get("path") or "")
        out.append(
            TypeCheckError(
                file=relative(path) if path else "",
                line=_int(begin.get("line")),
                column=_int(begin.get("column")),
                severity=severity,
                code=code,
                message=message,
            )
        )
    return sorted(out, key=lambda e: (e.file, e.line, e.column, e.code))


def parse_ruff_json(text: str, relative: Callable[[str], str]) -> list[RuffViolation]:
    """Read ``ruff check --output-format json`` output; a safe fix makes a violation fixable."""
    out = []
    for item in _json_list(text, "ruff"):
        location = _dict(item.get("location"))
        fix = item.get("fix")
        fixable = isinstance(fix, dict) and fix.get("applicability") == "safe"
        out.append(
            RuffViolation(
                file=relative(str(item.get("filename") or "")),
                line=_int(location.get("row")),
                column=_int(location.get("column")),
                code=str(item.get("code") or item.get("name") or "unknown"),
                message=str(item.get("message") or ""),
                fixable=fixable,
            )
        )
    return out


def parse_junit(text: str, root: Path) -> tuple[list[TestCase], float]:
    """Read a pytest junit XML report (xunit1 family): the test cases and the total time."""
    try:
        tree = ET.fromstring(text)
    except ET.ParseError as exc:
        raise OutputError(f"pytest's junit report is not valid XML: {exc}") from exc
    suites = [tree] if tree.tag == "testsuite" else tree.findall("testsuite")
    cases: list[TestCase] = []
    duration = 0.0
    for suite in suites:
        duration += _float(suite.get("time"))
        for case in suite.iter("testcase"):
            cases.append(_test_case(case, root))
    return cases, round(duration, 3)


def _test_case(case: ET.Element, root: Path) -> TestCase:
    outcome, message = "passed", None
    for tag, name in (("failure", "failed"), ("error", "error"), ("skipped", "skipped")):
        child = case.find(tag)
        if child is not None:
            outcome = name
            message = child.get("message") or (child.text or "").strip() or None
            break
    if outcome == "error" and message == "collection failure":
        message = _collection_error(case.find("error"), root)
    return TestCase(
        name=node_id(case.get("classname", ""), case.get("name", ""), case.get("file"), root),
        outcome=outcome,
        duration=round(_float(case.get("time")), 3),
        message=message,
    )


_FILE_LINE = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


def _collection_error(element: ET.Element | None, root: Path) -> str:
    """``collection failure: <exception line> (<file>, line N)`` from the error's traceback."""
    text = (element.text or "") if element is not None else ""
    errors = [line[1:].strip() for line in text.splitlines() if line.startswith("E ")]
    if not errors:
        return "collection failure"
    message = f"collection failure: {errors[-1]}"
    for line in reversed(errors):
        match = _FILE_LINE.search(line)
        if match:
            path = Path(match["file"])
            shown = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
            return f"{message} ({shown}, line {match['line']})"
    return message


def node_id(classname: str, name: str, file: str | None, root: Path) -> str:
    """Rebuild pytest's node id (``tests/test_x.py::TestY::test_z``) from junit attributes."""
    parts = [p for p in classname.split(".") if p]
    if not parts:  # a collection error: the name is the dotted module path
        return _module_path(name.split("."), root) or name
    if file:
        module = file.removesuffix(".py").replace("/", ".").replace("\\", ".")
        rest = classname.removeprefix(module).lstrip(".")
        if rest != classname:
            return "::".join([file, *filter(None, rest.split(".")), name])
    for cut in range(len(parts), 0, -1):
        path = _module_path(parts[:cut], root)
        if path:
            return "::".join([path, *parts[cut:], name])
    return "::".join([*parts, name])


def _module_path(parts: list[str], root: Path) -> str | None:
    candidate = "/".join(parts) + ".py"
    return candidate if (root / candidate).is_file() else None


def _json_list(text: str, program: str) -> list[dict[str, Any]]:
    if not text.strip():
        return []
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise OutputError(f"{program} output is not JSON: {exc}: {text[:200]!r}") from exc
    if not isinstance(data, list):
        raise OutputError(f"{program} output is not a JSON list: {text[:200]!r}")
    return [item for item in data if isinstance(item, dict)]


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        return 0
    try:
        return int(value)
    except ValueError:
        return 0


def _float(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        number = float(value)
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0
