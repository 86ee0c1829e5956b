"""Jinja example templates that plugins ship for training-data generation."""

from __future__ import annotations

from collections.abc import Mapping
from importlib.resources import files
from types import MappingProxyType

import attrs


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@attrs.frozen
class ExampleTemplate:
    """A Jinja template that renders a user query and the Code Mode code answering it.

    Blocks, rendered in order: ``query``, optional ``preamble``, ``code``, optional
    ``code_2``/``code_3`` (follow-up calls), and ``answer``. The blocks after code ran see
    what it gave: ``output`` (the latest printed reply), ``outputs`` (every reply),
    ``result`` (the value the latest block's last tool call returned, None if none) and
    ``results`` (every tool value so far, in call order). ``context`` holds the pools the
    template draws from with ``choice``/``sample``/``randint``.
    """

    name: str
    source: str = attrs.field(repr=False)
    fixture: str
    context: Mapping[str, object] = attrs.field(
        factory=dict, converter=_frozen_mapping, eq=False, hash=False, repr=False
    )
    plugin: str = ""


def templates_in(
    package: str, fixture: str, pools: Mapping[str, object] | None = None
) -> list[ExampleTemplate]:
    """Every ``*.jinja`` file of a package's ``templates/`` folder, sorted by name.

    A plugin's hook is ``return templates_in(__name__, FIXTURE, pools())``: each template
    runs on the fixture named ``fixture`` and draws from ``pools`` (``choice(files)``).
    """
    folder = files(package) / "templates"
    return [
        ExampleTemplate(
            name=p.name.removesuffix(".jinja"),
            source=p.read_text(encoding="utf-8"),
            fixture=fixture,
            context=pools or {},
        )
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".jinja") and p.is_file()
    ]
