"""The base model's evaluation, kept between runs: the same inputs give the same result.

A run evaluates the untrained model beside the trained one, and that never changes while
the model, the prompt, the queries and the scorer stay the same: ~8 minutes per run on the
2-core CPU. The cache key is a hash of everything the result depends on:
- the model: its resolved location and each of its files' name, size and mtime;
- the system prompt and the tools' stubs (what the model sees and what its code is checked
  against);
- every field of every query, and each query fixture's files (contents) and setup code;
- the reply budget, `SCORER_VERSION`, and the versions of mlx and mlx-lm (the numerics).
Results live as JSON under `$PUNIE_EVAL_CACHE` if set, else `$PUNIE_CACHE/eval` (default
`~/.cache/punie-tools/eval`), written aside and renamed into place. `--no-base-cache`
evaluates afresh (and stores that).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

import attrs

from punie_eval.eval_results import EvalResult
from punie_runtime.base_model import BaseModel, cache_root
from punie_runtime.engines import MLX_ENGINE
from punie_tools import EvalQuery, Registry
from punie_tools.atomic import write_text
from punie_tools.prompt import system_prompt
from punie_tools.stubs import stubs

SCORER_VERSION = 1
"""Bump when evaluation, scoring or generation change what a result holds for the same inputs."""


EVAL_CACHE_ENV = "PUNIE_EVAL_CACHE"


def cache_dir() -> Path:
    """Where cached evaluations live: `$PUNIE_EVAL_CACHE`, else beside the converted models."""
    if custom := os.environ.get(EVAL_CACHE_ENV):
        return Path(custom).expanduser()
    return cache_root().parent / "eval"


def _files_digest(root: Path, digest: hashlib._Hash) -> None:
    if root.is_file():
        stat = root.stat()
        digest.update(f"{root.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())


def _fixture_digest(registry: Registry, name: str, digest: hashlib._Hash) -> None:
    fixture = registry.fixtures().get(name)
    if fixture is None:
        digest.update(f"missing fixture {name}\n".encode())
        return
    if fixture.path.is_dir():
        for path in sorted(p for p in fixture.path.rglob("*") if p.is_file()):
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(str(path.relative_to(fixture.path)).encode() + b"\0")
            digest.update(path.read_bytes())
    if fixture.setup is not None:
        try:
            digest.update(inspect.getsource(fixture.setup).encode())
        except (OSError, TypeError):
            digest.update(repr(fixture.setup).encode())


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "absent"


def base_eval_key(
    model: BaseModel,
    registry: Registry,
    queries: Sequence[EvalQuery],
    max_tokens: int,
    engine: str = MLX_ENGINE,
) -> str:
    """The cache key of evaluating `model` (no adapter) on `queries` (see the module docstring).

    `engine` is the engine's description (`Engine.describe`: name, version, weights).
    """
    digest = hashlib.sha256()
    location = model.resolve()
    digest.update(f"model {model.kind} {location}\n".encode())
    if os.path.exists(location):
        _files_digest(Path(location), digest)
    tools = registry.tools()
    digest.update(system_prompt(tools).encode() + b"\0" + stubs(tools).encode() + b"\0")
    for query in queries:
        digest.update(json.dumps(attrs.asdict(query), sort_keys=True, default=str).encode())
    for name in sorted({q.fixture for q in queries}):
        _fixture_digest(registry, name, digest)
    digest.update(
        f"max_tokens {max_tokens} scorer {SCORER_VERSION} engine {engine} "
        f"mlx {_version('mlx')} mlx-lm {_version('mlx-lm')}\n".encode()
    )
    return digest.hexdigest()


def load_cached(key: str) -> EvalResult | None:
    """The stored evaluation for `key`; None if absent or unreadable (then it is redone)."""
    path = cache_dir() / f"{key}.json"
    try:
        return EvalResult.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def store(key: str, result: EvalResult) -> Path:
    """Keep `result` under `key`; the file is whole or absent, whatever happens."""
    directory = cache_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return write_text(directory / f"{key}.json", json.dumps(result.to_dict(), indent=1))
