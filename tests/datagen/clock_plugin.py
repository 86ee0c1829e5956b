"""A drop-in test plugin whose tools have time limits, as real tools (ty, the LSP) do.

``crunch(rounds)`` does a fixed amount of CPU work against a wall-clock budget
(``DEMO_CLOCK_BUDGET`` seconds, default 0.5): quick on a quiet machine, over budget on a
saturated one. ``needs(seconds)`` stands for a tool that takes ``seconds``: it fits when
its (scaled) 1-second limit allows that much, and hits the limit otherwise, at any load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

PLUGIN = "demo_clock"

INIT = '''
"""A drop-in test plugin: tools that enforce time limits."""

import hashlib
import os
import time
from pathlib import Path

import attrs

from punie_tools import Fixture, ToolSpec, hookimpl, templates_in, timelimits

HERE = Path(__file__).parent


@attrs.frozen
class ClockResult:
    """What a timed tool computed."""

    success: bool
    value: str = ""
    parse_error: str | None = None


def crunch(rounds: int) -> ClockResult:
    """Hash a block of bytes ``rounds`` times within the time budget.

    Args:
        rounds: how many thousand rounds of hashing
    """
    limit = timelimits.seconds(float(os.environ.get("DEMO_CLOCK_BUDGET", "0.5")))
    deadline = time.monotonic() + limit
    digest = b"punie"
    for n in range(rounds * 1000):
        digest = hashlib.sha256(digest).digest()
        if n % 100 == 0 and time.monotonic() > deadline:
            timelimits.hit(f"crunch took longer than {limit:g} s")
            return ClockResult(False, parse_error=f"timed out after {limit:g} s")
    return ClockResult(True, digest.hex()[:16])


def needs(seconds: float) -> ClockResult:
    """Pretend to work for ``seconds`` against a 1-second limit.

    Args:
        seconds: the time the work takes
    """
    limit = timelimits.seconds(1.0)
    if seconds > limit:
        timelimits.hit(f"needs({seconds:g}) took longer than {limit:g} s")
        return ClockResult(False, parse_error=f"timed out after {limit:g} s")
    return ClockResult(True, f"done in {seconds:g} s")


@hookimpl
def punie_tools():
    return [
        ToolSpec.from_function(crunch, category="clock"),
        ToolSpec.from_function(needs, category="clock"),
    ]


@hookimpl
def punie_fixtures():
    return [Fixture("empty", HERE / "fixtures" / "empty")]


@hookimpl
def punie_example_templates():
    return templates_in(__name__, "empty")
'''

CRUNCH = """\
{% set n = randint(20, 40) %}
{% block query %}{{ choice(["Crunch", "Hash", "Churn through"]) }} {{ n }}k rounds{% endblock %}
{% block code %}
r = crunch({{ n }})
print(r.value if r.success else r.parse_error)
{% endblock %}
{% block answer %}The result is {{ output }}.{% endblock %}
"""

NEEDS = """\
{% set s = SECONDS %}
{% block query %}Do {{ s }} seconds of work, variant {{ randint(1, 999) }}{% endblock %}
{% block code %}
r = needs({{ s }})
print(r.value if r.success else r.parse_error)
{% endblock %}
{% block answer %}{{ output }}{% endblock %}
"""
TEMPLATES = {
    "crunch": CRUNCH,
    "fits": NEEDS.replace("SECONDS", "0.5"),
    "retried": NEEDS.replace("SECONDS", "5"),
    "never": NEEDS.replace("SECONDS", "50"),
}


def work(rounds: int) -> str:
    """What ``crunch`` computes (to time it in the test process)."""
    digest = b"punie"
    for _ in range(rounds * 1000):
        digest = hashlib.sha256(digest).digest()
    return digest.hex()[:16]


def write_plugin(root: Path, templates: dict[str, str] | None = None) -> Path:
    """Write the demo_clock plugin package under ``root``; return the package folder."""
    package = Path(root) / PLUGIN
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text(INIT)
    for name, source in (templates or TEMPLATES).items():
        (package / "templates" / f"{name}.jinja").write_text(source)
    (package / "fixtures" / "empty").mkdir(parents=True)
    (package / "fixtures" / "empty" / "README").write_text("nothing here\n")
    return package
