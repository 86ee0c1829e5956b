"""``python -m punie_train export``: fuse a trained LoRA adapter and write a GGUF file.

``punie_train.cli.main`` hands over here when the first argument is ``export``. Only light
modules are imported at the top: mlx must not load before ``ensure_fast_blas()``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas

DESCRIPTION = """\
Fuse a LoRA adapter into its base model (the embedded SmolLM2-135M-Instruct unless the
adapter names another .gguf base) and write one GGUF file that llama.cpp, ollama and
LM Studio load: the base file's metadata (tokenizer, chat template, hyperparameters) with
the fused weights under the base file's tensor names, Q/K rows in llama.cpp's layout."""

EPILOG = """\
examples:
  python -m punie_train export --gguf punie.gguf
  python -m punie_train export --gguf punie-f16.gguf --type f16 --adapter runs/phase33/adapters-best
then:
  llama-cli -m punie.gguf -cnv
  printf 'FROM ./punie.gguf\\n' > Modelfile && ollama create punie -f Modelfile"""


def build_parser() -> argparse.ArgumentParser:
    """The ``export`` subcommand's argument parser."""
    from punie_runtime.gguf_export import DEFAULT_TYPE, OUT_TYPES

    parser = argparse.ArgumentParser(
        prog="python -m punie_train export",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    parser.add_argument(
        "--gguf",
        type=Path,
        required=True,
        metavar="FILE",
        help="the GGUF file to write (replaced if it exists; written beside it, then renamed)",
    )
    parser.add_argument(
        "--adapter",
        type=Path,
        metavar="DIR",
        help="the mlx-lm LoRA adapter directory to fuse (default: the most recently written "
        "runs/*/adapters-best)",
    )
    parser.add_argument(
        "--type",
        dest="out_type",
        choices=OUT_TYPES,
        default=DEFAULT_TYPE,
        help=f"GGML type of the weight matrices: q8_0 (smallest, ~1/4 of f32), f16, or f32 "
        f"(exact); norm vectors stay f32 (default: {DEFAULT_TYPE})",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the export; returns the exit status (2 with one ``error:`` line for bad input)."""
    ensure_fast_blas()  # before anything imports mlx
    args = build_parser().parse_args(argv)
    from punie_runtime.chat_model import RUNS_DIR, latest_adapter
    from punie_runtime.gguf_export import ExportError, export_gguf

    adapter: Path | None = args.adapter or latest_adapter()
    if adapter is None:
        print(
            f"error: no trained adapter found ({RUNS_DIR}/*/adapters-best): train one with "
            "`python -m punie_train` or pass --adapter DIR",
            file=sys.stderr,
        )
        return 2

    def progress(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    try:
        result = export_gguf(args.gguf, adapter, args.out_type, progress)
    except ExportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stopped: interrupted; nothing was written", file=sys.stderr)
        return 130
    print(
        f"wrote {result.path} ({result.size / 1e6:.1f} MB, {result.out_type}, "
        f"{result.tensors} tensors): {result.adapter} fused into {result.base}"
    )
    return 0
