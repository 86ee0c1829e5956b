"""The base evaluation cache: same inputs, same key; any input changed, another key; round trip."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from punie_eval.eval_cache import base_eval_key, cache_dir, load_cached, store
from punie_eval.evaluate import evaluate
from punie_runtime.base_model import BaseModel
from punie_tools import Registry
from tests.train.test_evaluate import scripted
from tests.train.toy_plugin import write_toy_plugin


@pytest.fixture(name="registry")
def fixture_registry(tmp_path: Path) -> Registry:
    """A registry holding only the toy eval plugin (its fixture is a real directory)."""
    directory = tmp_path / "plugins"
    directory.mkdir()
    write_toy_plugin(directory)
    return Registry.load(entry_points=False, plugin_path=str(directory))


@pytest.fixture(name="model")
def fixture_model(tmp_path: Path) -> BaseModel:
    """A local model directory (only its files' names, sizes and times enter the key)."""
    directory = tmp_path / "model"
    directory.mkdir()
    (directory / "config.json").write_text("{}", encoding="utf-8")
    (directory / "model.safetensors").write_bytes(b"weights")
    return BaseModel.parse(str(directory))


def test_the_key_is_stable_and_follows_every_input(registry, model, tmp_path):
    queries = registry.eval_queries()
    key = base_eval_key(model, registry, queries, 384)
    assert key == base_eval_key(model, registry, queries, 384)
    assert key != base_eval_key(model, registry, queries, 128)
    assert key != base_eval_key(model, registry, queries[:-1], 384)
    changed = [attrs.evolve(queries[0], query=queries[0].query + "!"), *queries[1:]]
    assert key != base_eval_key(model, registry, changed, 384)
    (Path(model.location) / "model.safetensors").write_bytes(b"other weights")
    assert key != base_eval_key(model, registry, queries, 384)
    fixture = registry.fixture(queries[0].fixture)
    after_weights = base_eval_key(model, registry, queries, 384)
    next(p for p in fixture.path.rglob("*") if p.is_file()).write_text("changed\n")
    assert after_weights != base_eval_key(model, registry, queries, 384)


def test_a_stored_result_comes_back_equal(registry, model, tmp_path, monkeypatch):
    monkeypatch.setenv("PUNIE_CACHE", str(tmp_path / "cache"))
    queries = registry.eval_queries()[:2]
    result = evaluate(registry, scripted({}), label="base", queries=queries)
    key = base_eval_key(model, registry, queries, 384)
    assert load_cached(key) is None
    path = store(key, result)
    assert path.parent == cache_dir() and path.parent.is_relative_to(tmp_path / "cache")
    assert load_cached(key) == result
    path.write_text("{not json", encoding="utf-8")
    assert load_cached(key) is None  # unreadable: evaluated again, never an error
