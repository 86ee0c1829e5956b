"""Probe one adapter: first-tool accuracy on the valid split's requests; prints one JSON line.

python results/tool-choice-screen/probe_adapter.py ADAPTER_DIR [--limit 64] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import BaseModel, load_model  # noqa: E402
from punie_runtime.engines import fuse_adapters  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402
from punie_train.probe import ToolProbe, probe_decisions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter", type=Path)
    parser.add_argument("--limit", type=int, default=64)
    parser.add_argument("--data", type=Path, default=Path("data/phase33"))
    args = parser.parse_args()
    registry = Registry.load()
    names = [s.name for s in registry.tools()]
    model, tokenizer = load_model(BaseModel.parse("default"), args.adapter)
    fuse_adapters(model)
    chosen = probe_decisions(
        read_chat_jsonl(args.data / "valid.jsonl"), names, limit=args.limit, seed=0
    )
    result = ToolProbe(chosen, system_prompt(registry.tools()), names).run(model, tokenizer)
    print(
        json.dumps(
            {
                "probe_accuracy": result.accuracy,
                "probe_n": result.n,
                "probe_s": result.seconds,
                "probe_per_tool": result.per_tool(),
            }
        )
    )


if __name__ == "__main__":
    main()
