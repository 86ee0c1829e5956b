"""Tests for punie_runtime.blas: OpenBLAS preloading before mlx and the BLAS report."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from punie_runtime.blas import CORETYPE_VAR, ENV_VAR, blas_report, core_type_for, find_openblas

OPENBLAS = find_openblas()
needs_openblas = pytest.mark.skipif(OPENBLAS is None, reason="no OpenBLAS on this machine")

REPORT = """
import json, sys
from punie_runtime.blas import ensure_fast_blas
{before}
state = ensure_fast_blas({args})
import mlx.core
maps = open("/proc/self/maps").read()
print(json.dumps({{"kind": state.kind, "note": state.note, "mapped": "openblas" in maps}}))
"""


def run_report(before: str = "", args: str = "", env: dict[str, str] | None = None) -> dict:
    """Run ensure_fast_blas in a fresh interpreter and return what it decided."""
    import json

    environment = {k: v for k, v in os.environ.items() if k not in (ENV_VAR, "LD_PRELOAD")}
    environment.update(env or {})
    code = REPORT.format(before=before, args=args)
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        check=True,
        timeout=120,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_env_path_names_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path in PUNIE_BLAS is the library to preload."""
    library = tmp_path / "libblas.so.3"
    library.write_bytes(b"")
    monkeypatch.setenv(ENV_VAR, str(library))
    assert find_openblas() == str(library)


def test_missing_env_path_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PUNIE_BLAS path that does not exist gives no library (so the reference BLAS is used)."""
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "missing.so"))
    assert find_openblas() is None


def test_no_candidate_finds_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any candidate library on disk there is nothing to preload."""
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert find_openblas([str(tmp_path / "libopenblas.so.0")]) is None


def test_reference_can_be_forced() -> None:
    """PUNIE_BLAS=reference keeps mlx's bundled BLAS and says so."""
    report = run_report(env={ENV_VAR: "reference"})
    assert report["kind"] == "reference"
    assert "forced" in report["note"]


@needs_openblas
def test_openblas_preloaded_before_mlx() -> None:
    """Called before mlx is imported, OpenBLAS is loaded into the process."""
    report = run_report()
    assert (report["kind"], report["mapped"]) == ("openblas", True)


@needs_openblas
def test_too_late_is_reported() -> None:
    """Called after mlx was imported, the state says the reference BLAS is in use and why."""
    report = run_report(before="import mlx.core")
    assert report["kind"] == "reference"
    assert "LD_PRELOAD" in report["note"]


@needs_openblas
def test_reexec_recovers_after_mlx_import() -> None:
    """With reexec=True a process that imported mlx too early restarts itself with OpenBLAS."""
    report = run_report(before="import mlx.core", args="reexec=True")
    assert (report["kind"], report["mapped"]) == ("openblas", True)


def test_report_describes_speed() -> None:
    """The report names the BLAS and a positive measured GFLOP/s."""
    report = blas_report(size=64, repeats=2)
    assert report.gflops > 0
    assert report.describe().startswith("BLAS: ")


def test_core_type_is_named_from_the_instruction_sets() -> None:
    avx512 = {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl"}
    assert core_type_for(avx512) == "SkylakeX"
    assert core_type_for({"avx2", "fma", "avx512f"}) == "Haswell"  # AVX-512 only in part
    assert core_type_for({"avx2", "fma"}) == "Haswell"
    assert core_type_for({"sse4_2", "avx"}) is None


def test_a_core_type_the_user_set_is_kept() -> None:
    code = (
        "import os, sys\nsys.path.insert(0, '.')\n"
        "from punie_runtime.blas import ensure_fast_blas\n"
        "ensure_fast_blas()\nprint(os.environ.get('OPENBLAS_CORETYPE'))\n"
    )
    environment = {**os.environ, CORETYPE_VAR: "Haswell"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True
    )
    assert out.stdout.strip() == "Haswell"
