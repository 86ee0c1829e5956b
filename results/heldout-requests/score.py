"""First-tool accuracy on the held-out request set, for datasets (classifier) and adapters (probe).

Run from the repository root:

    PYTHONPATH=.:plugins .venv/bin/python results/heldout-requests/score.py \
        --data data/phase33 --adapter runs/NAME/adapters-best [--base]

`--data DIR` (repeatable) fits the report's bag-of-words classifier on DIR/train.jsonl;
`--adapter DIR` (repeatable) asks the model with that adapter fused in, through the training
probe (`punie_train.probe`: the system prompt, the request, greedy decoding up to the first
tool name); `--base` asks the base model. Each prints one row: overall and per-category
accuracy on `requests.jsonl` (or `--requests FILE`, e.g. `../heldout-requests-2/`);
`--dump FILE` also writes every request with each scorer's choice. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_eval.baseline import fit_classifier  # noqa: E402
from punie_eval.first_call import Decision  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402

HERE = Path(__file__).parent


def load_requests(path: Path) -> list[dict[str, str]]:
    """The held-out requests: id, category, tool (the expected first tool), query."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def row(label: str, requests: Sequence[dict[str, str]], chosen: Sequence[str]) -> str:
    """One markdown row: overall and per-category accuracy."""
    right = [r["tool"] == c for r, c in zip(requests, chosen, strict=True)]
    cats = sorted({r["category"] for r in requests})
    cells = []
    for cat in cats:
        hits = [h for r, h in zip(requests, right, strict=True) if r["category"] == cat]
        cells.append(f"{sum(hits)}/{len(hits)}")
    overall = f"{sum(right)}/{len(right)} = {sum(right) / len(right):.1%}"
    return f"| {label} | {overall} | " + " | ".join(cells) + " |"


def main() -> None:
    """Score every dataset and adapter given on the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, action="append", default=[])
    parser.add_argument("--adapter", type=Path, action="append", default=[])
    parser.add_argument("--base", action="store_true")
    parser.add_argument("--requests", type=Path, default=HERE / "requests.jsonl")
    parser.add_argument(
        "--dump", type=Path, help="also write each request with every scorer's choice (JSONL)"
    )
    args = parser.parse_args()
    requests = load_requests(args.requests)
    registry = Registry.load()
    names = [s.name for s in registry.tools()]
    cats = sorted({r["category"] for r in requests})
    print("| scored | overall | " + " | ".join(cats) + " |")
    print("|---" * (len(cats) + 2) + "|")
    choices: dict[str, list[str]] = {}
    for data in args.data:
        classifier = fit_classifier(read_chat_jsonl(data / "train.jsonl"), names)
        chosen = classifier.predict([r["query"] for r in requests])
        print(row(f"classifier on {data}", requests, chosen), flush=True)
        choices[f"classifier on {data}"] = list(chosen)
    models = [(f"model, {a}", a) for a in args.adapter]
    if args.base:
        models.insert(0, ("base model", None))
    if models:
        choices.update(score_models(models, requests, registry, names))
    if args.dump is not None:
        lines = [
            json.dumps({**r, "chosen": {k: v[i] for k, v in choices.items()}})
            for i, r in enumerate(requests)
        ]
        args.dump.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def score_models(
    models: Sequence[tuple[str, Path | None]],
    requests: Sequence[dict[str, str]],
    registry: Registry,
    names: Sequence[str],
) -> dict[str, list[str]]:
    """Probe each (label, adapter) on the requests, print its row; the choices by label."""
    from punie_runtime.base_model import BaseModel, load_model
    from punie_runtime.engines import fuse_adapters
    from punie_train.probe import ToolProbe

    probe = ToolProbe(
        [Decision(r["query"], r["tool"]) for r in requests], system_prompt(registry.tools()), names
    )
    choices = {}
    for label, adapter in models:
        model, tokenizer = load_model(BaseModel.parse("default"), adapter)
        if adapter is not None:
            fuse_adapters(model)
        result = probe.run(model, tokenizer)
        print(row(f"{label} ({result.seconds:.0f} s)", requests, result.chosen), flush=True)
        choices[label] = list(result.chosen)
    return choices


if __name__ == "__main__":
    main()
