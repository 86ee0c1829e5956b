"""The tool-choice probe on the numpy decoder vs on mlx: seconds and the same choices (issue 13).

Builds the trainer's probe (64 requests of the valid split, seed 0, the real system prompt) and
asks a model with its LoRA adapter loaded unfused, as in training, once through the numpy
decoder on a fused copy (what `ToolProbe.run` now uses on a CPU) and once through mlx.
Run: PYTHONPATH=.:plugins .venv/bin/python results/speed-mlx-decode/probe_time.py \
         [--adapter DIR] [--data data/phase33]
Prints; asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
from typing import Any  # noqa: E402

from punie_datagen.jsonl import read_chat_jsonl  # noqa: E402
from punie_runtime.base_model import load_model  # noqa: E402
from punie_runtime.generate import Generator  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402
from punie_train import probe as probe_module  # noqa: E402
from punie_train.probe import ToolProbe, probe_decisions  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adapter", default=None, help="LoRA adapter directory (unfused)")
    parser.add_argument("--data", default="data/phase33", help="dataset with valid.jsonl")
    parser.add_argument("--examples", type=int, default=64, help="probe requests")
    args = parser.parse_args()
    registry = Registry.load()
    names = [spec.name for spec in registry.tools()]
    valid = read_chat_jsonl(Path(args.data) / "valid.jsonl")
    probe = ToolProbe(
        probe_decisions(valid, names, limit=args.examples, seed=0),
        system_prompt(registry.tools()),
        names,
    )
    model, tokenizer = load_model(None, args.adapter)
    on_numpy = probe.run(model, tokenizer)
    numpy_generator = probe_module._generator

    def mlx_generator(model: Any, tokenizer: Any, max_tokens: int) -> Any:
        return Generator(model, tokenizer, max_tokens=max_tokens, stop_strings=("(",))

    setattr(probe_module, "_generator", mlx_generator)  # noqa: B010 (a module attribute)
    try:
        on_mlx = probe.run(model, tokenizer)
    finally:
        setattr(probe_module, "_generator", numpy_generator)  # noqa: B010
    same = sum(a == b for a, b in zip(on_numpy.chosen, on_mlx.chosen, strict=True))
    print(f"probe of {on_numpy.n} valid requests, adapter {args.adapter}:")
    print(f"  mlx    {on_mlx.seconds:6.1f} s  accuracy {on_mlx.accuracy:.1%}")
    print(
        f"  numpy  {on_numpy.seconds:6.1f} s  accuracy {on_numpy.accuracy:.1%}  "
        f"({on_mlx.seconds / on_numpy.seconds:.2f}x)  same choice {same}/{on_numpy.n}"
    )


if __name__ == "__main__":
    main()
