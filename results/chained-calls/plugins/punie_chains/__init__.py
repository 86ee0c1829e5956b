"""punie_chains: a drop-in plugin of one-block chained-call templates (an experiment, issue 12).

Each ``templates/<plugin package>/*.jinja`` runs on that plugin's fixture and draws from its
pools, so a template here reads exactly like one in the plugin it would move into if adopted.
Load it with ``PUNIE_PLUGIN_PATH=results/chained-calls/plugins``.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from punie_tools import ExampleTemplate, hookimpl

HERE = Path(__file__).parent


@hookimpl
def punie_example_templates() -> list[ExampleTemplate]:
    """Every template under ``templates/<package>/``, on that package's fixture and pools."""
    found: list[ExampleTemplate] = []
    for folder in sorted(p for p in (HERE / "templates").iterdir() if p.is_dir()):
        pools_module = importlib.import_module(f"{folder.name}.pools")
        for path in sorted(folder.glob("*.jinja")):
            found.append(
                ExampleTemplate(
                    name=f"{folder.name.removeprefix('punie_')}_{path.stem}",
                    source=path.read_text(encoding="utf-8"),
                    fixture=pools_module.FIXTURE,
                    context=pools_module.pools(),
                )
            )
    return found
