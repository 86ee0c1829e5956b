"""Fast float32 BLAS for mlx on Linux CPUs: preload OpenBLAS before mlx is imported.

The `mlx[cpu]` wheel links a bundled reference BLAS that runs float32 matmuls tens of times
slower than OpenBLAS. mlx binds `cblas_sgemm` when it is imported, so a BLAS loaded with
`RTLD_GLOBAL` before that import wins (like `LD_PRELOAD`); one loaded afterwards changes nothing.
Every entry point therefore calls `ensure_fast_blas()` before anything imports mlx.
"""

from __future__ import annotations

import ctypes
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import attrs

ENV_VAR = "PUNIE_BLAS"
"""`reference` forces mlx's bundled BLAS; a path names the BLAS library to preload."""
REEXEC_MARKER = "PUNIE_BLAS_REEXEC"
CORETYPE_VAR = "OPENBLAS_CORETYPE"
"""OpenBLAS's own override of its CPU detection; set here when unset (see `core_type_for`)."""
INSTALL_HINT = "apt-get install libopenblas0-pthread"

CANDIDATES: tuple[str, ...] = (
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread/libblas.so.3",
    "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
    "/usr/lib64/libopenblas.so.0",
    "/usr/lib/libopenblas.so.0",
)


@attrs.frozen
class BlasState:
    """Which BLAS mlx uses in this process and why."""

    kind: Literal["openblas", "reference", "platform"]  # platform: macOS Accelerate/Metal
    library: str | None
    note: str  # "name" or "name: what to do about it"


@attrs.frozen
class BlasReport:
    """The active BLAS and its measured float32 matmul speed."""

    state: BlasState
    gflops: float

    def describe(self) -> str:
        """One line for a CLI, e.g. `BLAS: OpenBLAS (pthread) 45.3 GFLOP/s`."""
        name, _, hint = self.state.note.partition(": ")
        line = f"BLAS: {name} {self.gflops:.1f} GFLOP/s"
        return f"{line}: {hint}" if hint else line


_state: BlasState | None = None


def find_openblas(candidates: Sequence[str] = CANDIDATES) -> str | None:
    """The first OpenBLAS library that exists, honouring a path given in `PUNIE_BLAS`."""
    wanted = os.environ.get(ENV_VAR, "")
    if wanted and wanted not in ("reference", "auto"):
        return wanted if Path(wanted).exists() else None
    return next((path for path in candidates if Path(path).exists()), None)


def core_type_for(cpu_flags: set[str]) -> str | None:
    """The OpenBLAS kernel family for an x86 CPU with these /proc/cpuinfo flags, or None.

    Debian 12's OpenBLAS 0.3.21 does not know newer Xeons' model numbers and falls back to its
    generic Prescott kernels: mlx's float32 matmul at 15-54 instead of 140-230 GFLOP/s on this
    machine kind (`results/speed-numpy-exp/`). Naming the family by the instruction sets
    avoids that.
    """
    if {"avx512f", "avx512bw", "avx512dq", "avx512vl"} <= cpu_flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= cpu_flags:
        return "Haswell"
    return None


def _cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set[str]:
    try:
        text = cpuinfo.read_text()
    except OSError:
        return set()
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return set(line.partition(":")[2].split())


def _hint_core_type() -> None:
    """Set `OPENBLAS_CORETYPE` from the CPU's flags unless the user set it."""
    if CORETYPE_VAR not in os.environ:
        core = core_type_for(_cpu_flags())
        if core is not None:
            os.environ[CORETYPE_VAR] = core


def _openblas_note(library: str) -> str:
    flavour = "pthread" if "pthread" in library else "openmp" if "openmp" in library else ""
    return f"OpenBLAS ({flavour})" if flavour else "OpenBLAS"


def _preloaded_via_env() -> str | None:
    return next(
        (p for p in os.environ.get("LD_PRELOAD", "").split() if "blas" in Path(p).name.lower()),
        None,
    )


def _reference_state(why: str) -> BlasState:
    return BlasState("reference", None, f"reference BLAS (slow): {why}")


def ensure_fast_blas(*, reexec: bool = False) -> BlasState:
    """Make mlx use OpenBLAS if the machine has it; call before the first `import mlx`.

    With `reexec=True` and mlx already imported, the process restarts itself with
    `LD_PRELOAD` set (for command-line entry points only). `PUNIE_BLAS=reference` keeps the
    bundled BLAS, for benchmarks.
    """
    global _state
    if _state is not None:
        return _state
    if not sys.platform.startswith("linux"):
        _state = BlasState("platform", None, "platform BLAS")
        return _state
    if os.environ.get(ENV_VAR) == "reference":
        _state = _reference_state(f"forced by {ENV_VAR}=reference")
        return _state
    preloaded = _preloaded_via_env()
    if preloaded is not None:
        _state = BlasState("openblas", preloaded, _openblas_note(preloaded))
        return _state
    library = find_openblas()
    if library is None:
        wanted = os.environ.get(ENV_VAR, "")
        missing = f"{ENV_VAR}={wanted} does not exist" if wanted not in ("", "auto") else ""
        _state = _reference_state(missing or INSTALL_HINT)
        return _state
    _hint_core_type()
    if "mlx.core" in sys.modules:
        if reexec and not os.environ.get(REEXEC_MARKER):
            env = {**os.environ, "LD_PRELOAD": library, REEXEC_MARKER: "1"}
            os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)
        _state = _reference_state(
            f"mlx was imported before ensure_fast_blas(); set LD_PRELOAD={library}"
        )
        return _state
    try:
        ctypes.CDLL(library, mode=ctypes.RTLD_GLOBAL)
    except OSError as error:
        _state = _reference_state(f"could not load {library} ({error}); {INSTALL_HINT}")
        return _state
    _state = BlasState("openblas", library, _openblas_note(library))
    return _state


def measure_gflops(size: int = 512, repeats: int = 4) -> float:
    """Float32 matmul speed of mlx in GFLOP/s, from a short timed run."""
    import mlx.core as mx

    with mx.stream(mx.cpu):
        a = mx.random.normal((size, size), dtype=mx.float32)
        b = mx.random.normal((size, size), dtype=mx.float32)
        mx.eval(a @ b)
        start = time.perf_counter()
        for _ in range(repeats):
            mx.eval(a @ b)
        elapsed = time.perf_counter() - start
    return 2 * size**3 * repeats / elapsed / 1e9


def blas_report(size: int = 512, repeats: int = 4) -> BlasReport:
    """Which BLAS mlx uses and how fast a float32 matmul runs with it."""
    state = _state or ensure_fast_blas()
    return BlasReport(state, measure_gflops(size, repeats))
