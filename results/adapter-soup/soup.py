"""Average the weight changes of several LoRA adapters of one base model, exactly, as one adapter.

Adapter i changes a layer's weight by `scale * a_i @ b_i` (mlx-lm's LoRALinear, `a` of shape
(in, r), `b` of shape (r, out)). Their mean is `scale * [a_1 .. a_n] @ [b_1; ..; b_n] / n`: an
adapter of rank n*r whose `a` is the `a`s side by side and whose `b` is the `b`s stacked and
divided by n. The result loads wherever an adapter does (one model, no ensemble at run time):

    python results/adapter-soup/soup.py --out runs/soup/adapters-best \
        runs/contrast-1127f/adapters-best runs/name4-1127g/adapters-best
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, cast

import mlx.core as mx

WEIGHTS = "adapters.safetensors"
CONFIG = "adapter_config.json"


def soup(adapters: list[Path]) -> tuple[dict[str, mx.array], dict[str, Any]]:
    """The averaged adapter's weights and config (the first adapter's, rank multiplied)."""
    configs = [json.loads((path / CONFIG).read_text()) for path in adapters]
    scales = {c["lora_parameters"]["scale"] for c in configs}
    if len(scales) != 1:
        raise SystemExit(f"adapters with different LoRA scales: {sorted(scales)}")
    weights = [cast(dict[str, mx.array], mx.load(str(path / WEIGHTS))) for path in adapters]
    keys = set(weights[0])
    if any(set(w) != keys for w in weights):
        raise SystemExit("adapters adapt different modules")
    merged = {}
    for key in sorted(keys):
        if key.endswith(".lora_a"):
            merged[key] = mx.concatenate([w[key] for w in weights], axis=1)
        elif key.endswith(".lora_b"):
            merged[key] = mx.concatenate([w[key] for w in weights], axis=0) / len(weights)
        else:
            raise SystemExit(f"not a LoRA weight: {key}")
    config = dict(configs[0])
    config["lora_parameters"] = dict(
        config["lora_parameters"], rank=sum(c["lora_parameters"]["rank"] for c in configs)
    )
    config["soup_of"] = [str(path) for path in adapters]
    return merged, config


def main() -> None:
    """Write the averaged adapter to --out."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="directory for the new adapter")
    parser.add_argument("adapters", type=Path, nargs="+", help="adapter directories")
    args = parser.parse_args()
    weights, config = soup(args.adapters)
    args.out.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(args.out / WEIGHTS), weights)
    (args.out / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
    rank = config["lora_parameters"]["rank"]
    print(f"{args.out}: mean of {len(args.adapters)} adapters, rank {rank}")


if __name__ == "__main__":
    main()
