"""Tokenize the default split's training mix and probe requests for the GPU replica screen.

Runs here (CPU, the project's own tokenizer and mix code), writes `.gpu/mix.npz` (every
example of the `call_examples: add` mix: tokens, target positions, per-target weights under
each loss weighting, its first tool, whether it is a whole chat) and `.gpu/probe.npz` (the
prompt tokens of the valid split's tool decisions up to the start of a Code Mode call).

    python results/tool-choice-gpu/prepare.py [--data data/phase33] [--out .gpu]
        [--probe-from DIR] [--mix-name mix.npz]

`--probe-from` draws the probe requests from another dataset's valid split (to compare two
datasets on the same requests); training chats whose first request is one of them are left out.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

import numpy as np  # noqa: E402

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import (  # noqa: E402
    BaseModel,
    converted_model_dir,
    embedded_gguf_path,
    load_model,
)
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402
from punie_train.config import TrainConfig  # noqa: E402
from punie_train.dataset import TokenizedExample, tokenize_chat  # noqa: E402
from punie_train.mix import call_cuts, chat_key, cut_example, weighting  # noqa: E402
from punie_train.probe import CALL_PREFIX, probe_decisions  # noqa: E402

WEIGHTINGS: dict[str, dict[str, Any]] = {
    "token": {"loss_weighting": "token", "call_weight": 1.0, "name_weight": 1.0},
    "turn": {"loss_weighting": "turn", "call_weight": 1.0, "name_weight": 1.0},
    "turn_call3": {"loss_weighting": "turn", "call_weight": 3.0, "name_weight": 1.0},
    "turn_call6": {"loss_weighting": "turn", "call_weight": 6.0, "name_weight": 1.0},
    "turn_call3_name2": {"loss_weighting": "turn", "call_weight": 3.0, "name_weight": 2.0},
    "turn_call3_name4": {"loss_weighting": "turn", "call_weight": 3.0, "name_weight": 4.0},
    "turn_call3_name8": {"loss_weighting": "turn", "call_weight": 3.0, "name_weight": 8.0},
}
"""The loss weightings each example's per-target weights are written for (TrainConfig knobs,
every one spelled out: the variants must not follow TrainConfig's defaults)."""


def targets_of(
    example: TokenizedExample, weights_array: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """An example's target positions and each target's loss weight."""
    index = np.nonzero(example.mask[1:])[0] + 1
    if weights_array is None:
        return index, np.full(len(index), 1.0 / len(index), dtype=np.float32)
    return index, weights_array[index].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=Path("data/phase33"))
    parser.add_argument("--out", type=Path, default=Path(".gpu"))
    parser.add_argument("--probe", type=int, default=256)
    parser.add_argument("--call-cut", default="line", choices=("line", "turn"))
    parser.add_argument("--probe-from", type=Path, default=None, help="valid split's dataset")
    parser.add_argument("--mix-name", default=None, help="file name of the mix (default by cut)")
    parser.add_argument(
        "--heldout",
        type=Path,
        default=None,
        help="requests.jsonl of results/heldout-requests: also write heldout.npz (no training)",
    )
    args = parser.parse_args()
    probe_from = args.probe_from or args.data
    args.out.mkdir(parents=True, exist_ok=True)
    registry = Registry.load()
    names = [s.name for s in registry.tools()]
    _, tokenizer = load_model(BaseModel.parse("default"))
    chats = read_chat_jsonl(args.data / "train.jsonl")
    valid = read_chat_jsonl(probe_from / "valid.jsonl")
    held = {d.query for d in probe_decisions(valid, names, limit=args.probe, seed=0)}
    first_query = [next(m["content"] for m in c if m["role"] == "user") for c in chats]
    dropped = sum(q in held for q in first_query)
    chats = [c for c, q in zip(chats, first_query, strict=True) if q not in held]
    tokens, offsets, tpos, toff = [], [0], [], [0]
    weights: dict[str, list[np.ndarray]] = {k: [] for k in WEIGHTINGS}
    keys, full, chat_index = [], [], []
    configs = {
        wname: TrainConfig(call_examples="add", call_cut=args.call_cut, **knobs)
        for wname, knobs in WEIGHTINGS.items()
    }
    for ci, messages in enumerate(chats):
        variants = {}
        for wname, config in configs.items():
            examples = [
                tokenize_chat(
                    messages,
                    tokenizer,
                    mask_prompt=True,
                    weighting=weighting(config, names),
                    key=chat_key(messages, names),
                )
            ]
            examples += [
                cut_example(messages, i, t, tokenizer, config, names)
                for i, t in call_cuts(messages)
            ]
            variants[wname] = examples
        base = variants["token"]
        for j, example in enumerate(base):
            index, _ = targets_of(example, example.weights)
            if len(index) == 0 or len(example.tokens) > 2048:
                continue
            tokens.append(example.tokens.astype(np.uint16))
            offsets.append(offsets[-1] + len(example.tokens))
            tpos.append(index.astype(np.int32))
            toff.append(toff[-1] + len(index))
            for wname in WEIGHTINGS:
                other = variants[wname][j]
                assert np.array_equal(other.tokens, example.tokens)
                weights[wname].append(targets_of(other, other.weights)[1])
            keys.append(example.key)
            full.append(j == 0)
            chat_index.append(ci)
    arrays: dict[str, Any] = {
        "tokens": np.concatenate(tokens),
        "offsets": np.array(offsets, dtype=np.int64),
        "tpos": np.concatenate(tpos),
        "toff": np.array(toff, dtype=np.int64),
        "keys": np.array(keys),
        "full": np.array(full),
        "chat": np.array(chat_index, dtype=np.int32),
    }
    arrays |= {f"w_{k}": np.concatenate(v) for k, v in weights.items()}
    name = args.mix_name or ("mix.npz" if args.call_cut == "line" else f"mix_{args.call_cut}.npz")
    np.savez_compressed(args.out / name, **arrays)
    system = system_prompt(registry.tools())
    prefix = list(tokenizer.encode(CALL_PREFIX, add_special_tokens=False))
    decisions = probe_decisions(valid, names, limit=args.probe, seed=0)
    small = {(d.query, d.tool) for d in probe_decisions(valid, names, limit=64, seed=0)}
    prompts, poff, expected, in64 = [], [0], [], []

    def request_ids(query: str) -> list[int]:
        """The prompt tokens of one request, up to the start of a Code Mode call."""
        text = tokenizer.apply_chat_template(
            [{"role": "system", "content": system}, {"role": "user", "content": query}],
            tokenize=False,
            add_generation_prompt=True,
        )
        return list(tokenizer.encode(text, add_special_tokens=False)) + prefix

    for d in decisions:
        ids = request_ids(d.query)
        prompts.append(np.array(ids, dtype=np.int32))
        poff.append(poff[-1] + len(ids))
        expected.append(d.tool)
        in64.append((d.query, d.tool) in small)
    np.savez_compressed(
        args.out / "probe.npz",
        tokens=np.concatenate(prompts),
        offsets=np.array(poff, dtype=np.int64),
        expected=np.array(expected),
        in64=np.array(in64),
        names=np.array(names),
    )
    if args.heldout:
        rows = [json.loads(line) for line in args.heldout.read_text().splitlines() if line]
        ids_list = [np.array(request_ids(row["query"]), dtype=np.int32) for row in rows]
        np.savez_compressed(
            args.out / "heldout.npz",
            tokens=np.concatenate(ids_list),
            offsets=np.cumsum([0] + [len(i) for i in ids_list]).astype(np.int64),
            expected=np.array([row["tool"] for row in rows]),
            category=np.array([row["category"] for row in rows]),
            ids=np.array([row["id"] for row in rows]),
            names=np.array(names),
        )
    model_dir = converted_model_dir(embedded_gguf_path())
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(model_dir / name, args.out / name)
    print(
        json.dumps(
            {
                "examples": len(keys),
                "tokens": int(offsets[-1]),
                "dropped_for_probe": dropped,
                "full": int(sum(full)),
                "probe": len(expected),
                "in64": int(sum(in64)),
            }
        )
    )


if __name__ == "__main__":
    main()
