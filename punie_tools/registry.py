"""The plugin registry: discovers plugins with pluggy and serves their tools and data.

This is the only module that imports pluggy.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import sys
import traceback
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TypeVar

import attrs
import pluggy

from punie_tools import hookspecs
from punie_tools.evalqueries import EvalQuery
from punie_tools.fixtures import Fixture
from punie_tools.spec import ToolSpec
from punie_tools.templates import ExampleTemplate

ENTRY_POINT_GROUP = "punie_tools"
PLUGIN_PATH_ENV = "PUNIE_PLUGIN_PATH"
ALLOW_ENV = "PUNIE_LOAD_PLUGINS"
BLOCK_ENV = "PUNIE_DISABLED_PLUGINS"

T = TypeVar("T")


class RegistryError(Exception):
    """The plugin set is inconsistent (for example two tools share a name)."""


@attrs.frozen
class PluginError:
    """A plugin that failed to import or returned bad data, with the reason."""

    plugin: str
    error: str

    def __str__(self) -> str:
        return f"plugin {self.plugin!r}: {self.error}"


def get_plugin_manager(
    *, entry_points: bool = True, plugin_path: str | None = None, errors: list[PluginError]
) -> pluggy.PluginManager:
    """Create a PluginManager with punie's hookspecs and every plugin loaded.

    Loading errors are appended to ``errors`` and never stop other plugins from loading.
    ``PUNIE_LOAD_PLUGINS`` (comma list) is an allow list, ``PUNIE_DISABLED_PLUGINS`` a
    block list; both name entry points or drop-in modules.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    allow = _names_from_env(ALLOW_ENV)
    for name in _names_from_env(BLOCK_ENV) or ():
        pm.set_blocked(name)

    def wanted(name: str) -> bool:
        return (allow is None or name in allow) and not pm.is_blocked(name)

    if entry_points:
        eps = importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(eps, key=lambda e: e.name):
            if not wanted(ep.name) or pm.has_plugin(ep.name):
                continue
            _register(pm, ep.name, ep.load, errors)
    path_text = os.environ.get(PLUGIN_PATH_ENV, "") if plugin_path is None else plugin_path
    for directory in filter(None, path_text.split(os.pathsep)):
        for name, loader in _drop_ins(Path(directory), errors):
            if wanted(name):
                _register(pm, name, loader, errors)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        errors.append(PluginError(getattr(exc, "plugin_name", "?"), str(exc)))
    return pm


def _names_from_env(var: str) -> set[str] | None:
    value = os.environ.get(var)
    if value is None:
        return None
    return {n.strip() for n in value.split(",") if n.strip()}


def _register(
    pm: pluggy.PluginManager, name: str, load: Callable[[], Any], errors: list[PluginError]
) -> None:
    try:
        plugin = load()
        pm.register(plugin, name=name)
    except Exception as exc:
        errors.append(PluginError(name, _describe(exc)))


def _describe(exc: BaseException) -> str:
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _drop_ins(
    directory: Path, errors: list[PluginError]
) -> Iterator[tuple[str, Callable[[], ModuleType]]]:
    """Yield (name, loader) for each package or module in a drop-in directory."""
    if not directory.is_dir():
        errors.append(PluginError(str(directory), f"{PLUGIN_PATH_ENV} entry is not a directory"))
        return
    for entry in sorted(directory.iterdir()):
        if entry.name.startswith((".", "_")):
            continue
        if entry.is_dir() and (entry / "__init__.py").is_file():
            yield entry.name, _module_loader(entry.name, entry / "__init__.py", package=True)
        elif entry.suffix == ".py":
            yield entry.stem, _module_loader(entry.stem, entry, package=False)


def _module_loader(name: str, path: Path, *, package: bool) -> Callable[[], ModuleType]:
    def load() -> ModuleType:
        if name in sys.modules and getattr(sys.modules[name], "__file__", None) == str(path):
            return sys.modules[name]
        spec = importlib.util.spec_from_file_location(
            name, path, submodule_search_locations=[str(path.parent)] if package else None
        )
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module

    return load


class Registry:
    """The tools, templates, eval queries and fixtures of every loaded plugin."""

    def __init__(self, pm: pluggy.PluginManager, errors: Iterable[PluginError] = ()) -> None:
        self._pm = pm
        self.errors: list[PluginError] = list(errors)
        self._tools: dict[str, ToolSpec] = {}
        self._tool_plugin: dict[str, str] = {}
        for plugin, specs in self._collect("punie_tools", ToolSpec):
            for spec in specs:
                if spec.name in self._tools:
                    raise RegistryError(
                        f"tool {spec.name!r} is defined by both plugin "
                        f"{self._tool_plugin[spec.name]!r} and plugin {plugin!r}"
                    )
                self._tools[spec.name] = spec
                self._tool_plugin[spec.name] = plugin
        self._templates = [
            attrs.evolve(t, plugin=plugin)
            for plugin, ts in self._collect("punie_example_templates", ExampleTemplate)
            for t in ts
        ]
        self._queries = [q for _, qs in self._collect("punie_eval_queries", EvalQuery) for q in qs]
        self._fixtures: dict[str, Fixture] = {}
        for plugin, fixtures in self._collect("punie_fixtures", Fixture):
            for f in fixtures:
                if f.name in self._fixtures and self._fixtures[f.name].path != f.path:
                    self.errors.append(PluginError(plugin, f"fixture {f.name!r} defined twice"))
                    continue
                self._fixtures[f.name] = f

    @classmethod
    def load(cls, *, entry_points: bool = True, plugin_path: str | None = None) -> Registry:
        """Discover plugins from entry points and ``PUNIE_PLUGIN_PATH`` and build a registry."""
        errors: list[PluginError] = []
        pm = get_plugin_manager(entry_points=entry_points, plugin_path=plugin_path, errors=errors)
        return cls(pm, errors)

    def _collect(self, hook_name: str, item_type: type[T]) -> list[tuple[str, list[T]]]:
        """Call one hook plugin by plugin, keeping good results and recording bad ones."""
        out: list[tuple[str, list[T]]] = []
        impls = getattr(self._pm.hook, hook_name).get_hookimpls()
        for impl in sorted(impls, key=lambda i: i.plugin_name):
            try:
                result = impl.function()
            except Exception as exc:
                self.errors.append(
                    PluginError(impl.plugin_name, f"{hook_name}(): {_describe(exc)}")
                )
                continue
            if not isinstance(result, list | tuple) or not all(
                isinstance(x, item_type) for x in result
            ):
                self.errors.append(
                    PluginError(
                        impl.plugin_name,
                        f"{hook_name}() must return a list of {item_type.__name__}, "
                        f"got {_short(result)}",
                    )
                )
                continue
            out.append((impl.plugin_name, list(result)))
        return out

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[ToolSpec]:
        return iter(self.tools())

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"<Registry tools={len(self._tools)} plugins={self.plugin_names()}>"

    def tools(self) -> list[ToolSpec]:
        """Every tool, grouped by category (categories in plugin order)."""
        order = {
            c: i for i, c in enumerate(dict.fromkeys(s.category for s in self._tools.values()))
        }
        return sorted(self._tools.values(), key=lambda s: order[s.category])

    def tool(self, name: str) -> ToolSpec:
        """The tool called ``name``; KeyError with the known names if there is none."""
        try:
            return self._tools[name]
        except KeyError:
            raise KeyError(
                f"no tool {name!r}; known tools: {', '.join(sorted(self._tools))}"
            ) from None

    def plugin_of(self, tool_name: str) -> str:
        """The name of the plugin that provides a tool."""
        return self._tool_plugin[tool_name]

    def categories(self) -> list[str]:
        """Tool categories in registry order."""
        return list(dict.fromkeys(s.category for s in self.tools()))

    def plugin_names(self) -> list[str]:
        """Names of the loaded plugins, sorted."""
        return sorted(n for n, p in self._pm.list_name_plugin() if p is not None)

    def templates(self) -> list[ExampleTemplate]:
        """Every plugin's example templates, each tagged with its plugin name."""
        return list(self._templates)

    def eval_queries(self) -> list[EvalQuery]:
        """Every plugin's eval queries."""
        return list(self._queries)

    def fixtures(self) -> dict[str, Fixture]:
        """Fixtures by name."""
        return dict(self._fixtures)

    def fixture(self, name: str) -> Fixture:
        """The fixture called ``name``; KeyError naming the known fixtures if absent."""
        try:
            return self._fixtures[name]
        except KeyError:
            raise KeyError(
                f"no fixture {name!r}; known fixtures: {', '.join(sorted(self._fixtures))}"
            ) from None


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 80 else text[:77] + "..."
