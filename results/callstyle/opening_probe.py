"""First-tool accuracy of one adapter with the code's opening left to the model or forced.

python results/callstyle/opening_probe.py ADAPTER_DIR [--limit 120] [--data DIR]

The probe (`punie_train.probe`) on the valid split's requests three ways: the model writes
the code from its first token (the training probe), the code forced to open with
``result =`` (the tool name follows as `` find``, `` c``, ...), and forced to open with
``print(`` (the name follows as ``find``, ``c``, ...). Prints a table by category and the
share of free replies that opened each way.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import BaseModel, load_model  # noqa: E402
from punie_runtime.engines import fuse_adapters  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402
from punie_train.probe import CALL_PREFIX, ToolProbe, probe_decisions  # noqa: E402

OPENINGS = {"free": "", "result =": "result =", "print(": "print("}


class OpeningProbe(ToolProbe):
    """The probe with the code's first characters given."""

    extra: list[int] = []  # noqa: RUF012 - set per instance before `run`

    def _ask(self, generator: Any, prefix: list[int], query: str) -> str:
        return super()._ask(generator, prefix + self.extra, query)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("adapter", type=Path)
    parser.add_argument("--limit", type=int, default=120)
    parser.add_argument("--data", type=Path, default=Path("data/phase33"))
    args = parser.parse_args()
    registry = Registry.load()
    specs = registry.tools()
    names = [s.name for s in specs]
    category = {s.name: s.category for s in specs}
    model, tokenizer = load_model(BaseModel.parse("default"), args.adapter)
    fuse_adapters(model)
    chosen = probe_decisions(
        read_chat_jsonl(args.data / "valid.jsonl"), names, limit=args.limit, seed=0
    )
    rows: dict[str, dict[str, float]] = {}
    for label, opening in OPENINGS.items():
        probe = OpeningProbe(chosen, system_prompt(specs), names)
        probe.extra = list(tokenizer.encode(opening, add_special_tokens=False))
        result = probe.run(model, tokenizer)
        hits: dict[str, list[bool]] = {}
        for e, c in zip(result.expected, result.chosen, strict=True):
            hits.setdefault(category[e], []).append(e == c)
        rows[label] = {k: sum(v) / len(v) for k, v in sorted(hits.items())}
        rows[label]["overall"] = result.accuracy
        print(f"{label}: {result.accuracy:.3f} on {result.n} ({result.seconds:.0f} s)", flush=True)
    cats = list(rows["free"])
    print("\n| opening | " + " | ".join(cats) + " |")
    print("|---|" + "---|" * len(cats))
    for label, row in rows.items():
        print(f"| {label} | " + " | ".join(f"{100 * row[c]:.0f}%" for c in cats) + " |")
    print(f"\n(call prefix {CALL_PREFIX!r}; {args.adapter})")


if __name__ == "__main__":
    main()
