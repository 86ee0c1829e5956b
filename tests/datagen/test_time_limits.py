"""The dataset does not depend on machine load: time limits retry or reject the same way.

A job during which a time limit stopped a tool runs again with limits ten times longer; if
one still stops it, the example is rejected at stage ``limit`` with the limit named in the
manifest. Retries depend on load, so they are listed in ``timings.json`` only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from punie_datagen import DatagenOptions, build_dataset
from punie_tools import timelimits
from tests.datagen import clock_plugin

REPO = Path(__file__).parents[2]
FILES = ("train.jsonl", "valid.jsonl", "manifest.json")


@pytest.fixture(name="clock_env")
def fixture_clock_env(words_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The demo_clock plugin beside demo_words on PUNIE_PLUGIN_PATH, only it loaded."""
    clock_plugin.write_plugin(words_env)
    monkeypatch.setenv("PUNIE_LOAD_PLUGINS", clock_plugin.PLUGIN)
    return words_env


def test_watch_scales_limits_and_collects_hits() -> None:
    """Outside a watch limits are as given and hits dropped; inside, scaled and collected."""
    timelimits.hit("dropped")
    assert timelimits.seconds(2.0) == 2.0
    with timelimits.watch(10.0) as hits:
        assert timelimits.seconds(2.0) == 20.0
        timelimits.hit("ty took longer than 20 s")
    assert hits == ["ty took longer than 20 s"] and timelimits.seconds(2.0) == 2.0


def test_limit_hits_are_retried_then_rejected_and_recorded(
    clock_env: Path, options: DatagenOptions, tmp_path: Path
) -> None:
    """Work that fits only with more time is retried and kept; work that never fits is
    rejected at stage ``limit``, the limit named; two builds give the same bytes."""
    outs = [tmp_path / f"b{n}" / "demo" for n in (1, 2)]
    for out in outs:
        build_dataset(attrs.evolve(options, out=out, per_tool=6), token_counter=False)
    assert all((outs[0] / f).read_bytes() == (outs[1] / f).read_bytes() for f in FILES)
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    limited = {r["id"]: r for r in manifest["rejected"] if r["stage"] == "limit"}
    assert limited and all("demo_clock/never" in key for key in limited)
    for rejection in limited.values():
        assert rejection["reason"] == (
            "a time limit stopped it even x10 longer: needs(50) took longer than 10 s"
        )
    kept = (outs[0] / "train.jsonl").read_text() + (outs[0] / "valid.jsonl").read_text()
    assert "done in 5 s" in kept and "done in 0.5 s" in kept and "timed out" not in kept
    retried = json.loads((outs[0] / "timings.json").read_text())["retried_after_a_time_limit"]
    assert {k.split("#")[0] for k in retried} == {
        "generated:demo_clock/retried",
        "generated:demo_clock/never",
    }
    assert set(retried.values()) == {
        "needs(5) took longer than 1 s",
        "needs(50) took longer than 1 s",
    }


@pytest.fixture(name="saturated")
def fixture_saturated() -> Iterator[None]:
    """Three busy loops (one more than this machine's two cores) at this test's priority."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(3)]
    try:
        yield
    finally:
        for loop in loops:
            loop.kill()
            loop.wait()


def crunch_seconds() -> float:
    """The longest of three timings of the plugin's largest crunch, in a fresh process now."""
    code = (
        "import time\nfrom tests.datagen.clock_plugin import work\nworst = 0.0\n"
        "for _ in range(3):\n    t = time.perf_counter(); work(40)\n"
        "    worst = max(worst, time.perf_counter() - t)\nprint(worst)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    return float(done.stdout)


def _rejected(out: Path) -> list[tuple[str, str, str]]:
    """A build's rejections: (id, stage, reason)."""
    manifest = json.loads((out / "manifest.json").read_text())
    return [(r["id"], r["stage"], r["reason"]) for r in manifest["rejected"]]


def _retried(outs: list[Path]) -> list[dict[str, str]]:
    """Each build's jobs retried after a time limit, with the limit."""
    return [
        json.loads((out / "timings.json").read_text())["retried_after_a_time_limit"] for out in outs
    ]


def test_build_under_cpu_saturation_is_byte_identical(
    clock_env: Path, foundation_file: Path, tmp_path: Path, saturated: None
) -> None:
    """Two builds (language server and validation tools, a load-sensitive tool) while busy
    loops saturate every core write identical files, whichever jobs hit a limit and retried."""
    clock_plugin.write_plugin(tmp_path / "crunch_only", {"crunch": clock_plugin.CRUNCH})
    env = {
        **os.environ,
        "PUNIE_PLUGIN_PATH": str(tmp_path / "crunch_only"),
        # The language server's tools, the validation tools (and their sample_project).
        "PUNIE_LOAD_PLUGINS": f"lsp,validation,{clock_plugin.PLUGIN}",
        # Half what the largest crunch takes under this load: most crunches hit it and retry.
        "DEMO_CLOCK_BUDGET": f"{crunch_seconds() / 2:.4f}",
    }
    outs = [tmp_path / f"b{n}" / "loaded" for n in (1, 2)]
    started = time.perf_counter()
    for out in outs:
        cli = ["--out", str(out), "--foundation", str(foundation_file), "--per-tool", "1"]
        command = [sys.executable, "-m", "tests.datagen.driver", "--", *cli, "--seed", "11"]
        command += ["--workers", "2"]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
    rejected = [_rejected(out) for out in outs]
    assert rejected[0] == rejected[1], f"rejections differ: {rejected}; retried: {_retried(outs)}"
    for name in FILES:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    manifest = json.loads((outs[0] / "manifest.json").read_text())
    assert manifest["sources"]["generated"]["kept"] >= 6
    kept = (outs[0] / "train.jsonl").read_text() + (outs[0] / "valid.jsonl").read_text()
    assert "timed out" not in kept and "did not answer" not in kept
    print(f"two loaded builds in {time.perf_counter() - started:.0f} s; retried:")
    for retried in _retried(outs):
        print(retried)
