"""A chat-model callable for agents: messages in, greedy reply text out, tokens streamed."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas

RUNS_DIR = Path("runs")


def latest_adapter(runs: Path = RUNS_DIR) -> Path | None:
    """The most recently written best adapter under ``runs/*/``, if training ever ran."""
    found = [p.parent for p in runs.glob("*/adapters-best/adapter_config.json")]
    return max(found, key=lambda p: p.stat().st_mtime) if found else None


def chat_model(
    *,
    model: str | None = None,
    adapter: str | None = None,
    max_tokens: int = 512,
    on_token: Callable[[str], None] | None = None,
    engine: str = "auto",
    on_engine: Callable[[str], None] | None = None,
) -> Callable[[Sequence[Mapping[str, str]]], str]:
    """Load a model (embedded default unless named) and return a reply function.

    ``adapter``: a LoRA adapter directory, ``"none"`` for the base model, or None for the
    latest trained adapter under ``runs/`` (the base model if there is none). ``engine``:
    ``auto``, ``mlx``, ``numpy`` or ``llama`` (`punie_runtime.engines`); `on_engine` hears
    which one answers. A ValueError says in one line why an engine cannot be used.
    """
    ensure_fast_blas()
    from punie_runtime.base_model import BaseModel
    from punie_runtime.engines import choose_engine, open_generator

    adapter_path: Path | None
    if adapter is None:
        adapter_path = latest_adapter()
    elif adapter.lower() == "none":
        adapter_path = None
    else:
        adapter_path = Path(adapter)
    base = BaseModel.parse(model)
    chosen = choose_engine(engine, model=base)
    generator = open_generator(chosen, base, adapter_path, max_tokens=max_tokens)
    if on_engine is not None:
        on_engine(chosen.describe(adapter_path))

    def reply(messages: Sequence[Mapping[str, str]]) -> str:
        return generator.generate(messages, on_token=on_token).text

    return reply
