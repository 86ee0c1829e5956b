"""``python -m punie_train``: build the data if missing, train, evaluate base and trained, report.

Only light modules are imported at the top: mlx must not load before ``ensure_fast_blas()``
has put OpenBLAS in place, so everything that imports it is imported inside ``main``.
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from collections.abc import Generator, Sequence
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas
from punie_runtime.engines import ENGINES
from punie_train.config_file import add_arguments

DESCRIPTION = """\
Fine-tune a small model to call punie-tools through Code Mode, then measure it.

With no arguments this runs the tool-choice recipe on the embedded SmolLM2-135M-Instruct,
offline: build the dataset with punie_datagen if the default --data folder has none, train LoRA
adapters on one call example per tool call plus 30% of the chats whole, each tool an equal
share, the calling turns and their tool names weighted up (2000 iterations, batch 1, gradient
accumulation 8, rank 8, scale 20, lr 5e-4 with warm-up and cosine decay), probe the first tool
on valid requests at each validation, evaluate the base model and the best adapter (probe
accuracy, then validation loss) on every plugin's eval queries beside a bag-of-words
classifier, and write report.json, report.md, report.png and confusion.png into the run
directory. The seed's Phase 33 knobs: --config configs/phase33.yaml. Training knobs come from
defaults, then --config YAML (mlx-lm's keys), then the flags below."""

EPILOG = """\
examples:
  python -m punie_train                                  the full default run
  python -m punie_train --iters 50 --eval-limit 8        a quick look
  python -m punie_train --resume                         continue an interrupted run
  python -m punie_train --skip-train --adapter runs/phase33/adapters-best
  python -m punie_train --skip-train --skip-base --queries 'git*'
  python -m punie_train export --gguf punie.gguf         fuse the adapter, write a GGUF
                                                         (see: python -m punie_train export -h)"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser: run options, evaluation options, then every training knob."""
    parser = argparse.ArgumentParser(
        prog="python -m punie_train",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    run = parser.add_argument_group("run")
    run.add_argument(
        "--config",
        type=Path,
        metavar="YAML",
        help="YAML file of training knobs with mlx-lm's key names; unknown keys are an error",
    )
    run.add_argument(
        "--run-dir",
        type=Path,
        default=Path("runs/phase33"),
        metavar="DIR",
        help="where checkpoints, adapters, the training log and the report go "
        "(default: runs/phase33)",
    )
    run.add_argument(
        "--resume",
        action="store_true",
        help="continue from the run dir's newest checkpoint at the same iteration, learning "
        "rate, optimizer state and data order",
    )
    run.add_argument(
        "--skip-train",
        action="store_true",
        help="only evaluate: the adapter given by --adapter, else the run dir's best adapter",
    )
    run.add_argument(
        "--adapter",
        type=Path,
        metavar="PATH",
        help="an mlx-lm adapter directory to evaluate (implies --skip-train)",
    )
    ev = parser.add_argument_group("evaluation")
    ev.add_argument(
        "--skip-eval", action="store_true", help="train only; no evaluation and no report"
    )
    ev.add_argument(
        "--skip-base",
        action="store_true",
        help="do not evaluate the base model (the report then has no base column)",
    )
    ev.add_argument(
        "--no-base-cache",
        action="store_true",
        help="evaluate the base model afresh instead of reusing the result of an earlier run "
        "with the same model, prompt, queries, fixtures and scorer (kept in "
        "~/.cache/punie-tools/eval)",
    )
    ev.add_argument(
        "--eval-limit",
        type=int,
        metavar="N",
        help="evaluate at most N eval queries, taken round-robin over categories",
    )
    ev.add_argument(
        "--queries",
        action="append",
        default=[],
        metavar="PATTERN",
        help="only eval queries whose id or category matches this glob (repeatable), "
        "e.g. 'git*' or 'lsp-hover-1'",
    )
    ev.add_argument(
        "--eval-max-tokens",
        type=int,
        default=None,
        metavar="N",
        help="token budget of each model reply during evaluation (default: 384)",
    )
    ev.add_argument(
        "--engine",
        choices=ENGINES,
        default="auto",
        help="what answers the eval queries: llama.cpp on the trained adapter fused into a "
        "Q8_0 GGUF (kept beside the adapter) and on the base GGUF, needs llama-cpp-python; "
        "numpy or mlx on the float32 model (numpy: llama-family models, ~2x mlx's speed on a "
        "CPU); auto: llama.cpp when installed, else numpy, else mlx (default: auto)",
    )
    add_arguments(parser)
    return parser


def _stop_like_ctrl_c(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"received {signal.Signals(signum).name}")


@contextlib.contextmanager
def interrupt_on_signals() -> Generator[None]:
    """Make SIGTERM and SIGHUP stop the run like Ctrl-C, so training saves a checkpoint.

    SIGINT is restored too: a shell starting a background job ignores it.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    wanted = {
        signal.SIGINT: signal.default_int_handler,
        signal.SIGTERM: _stop_like_ctrl_c,
        signal.SIGHUP: _stop_like_ctrl_c,
    }
    previous = {sig: signal.signal(sig, handler) for sig, handler in wanted.items()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m punie_train``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    with interrupt_on_signals():
        if args[:1] == ["export"]:  # the one subcommand; the flat options stay as they were
            from punie_train.export_cli import main as export_main

            return export_main(args[1:])
        return _main(args)


def _main(argv: Sequence[str] | None) -> int:
    blas = ensure_fast_blas()  # before anything imports mlx
    args = build_parser().parse_args(argv)
    from rich.console import Console

    from punie_train.run import run
    from punie_train.run_options import RunOptions, UserError

    console = Console(stderr=True, highlight=False)
    try:
        options = RunOptions.from_args(args)
        report = run(options, blas, console)
    except UserError as error:
        console.print(f"[red]error:[/red] {error}", soft_wrap=True)
        return 2
    except KeyboardInterrupt as stop:
        console.print(f"[yellow]stopped:[/yellow] {stop or 'interrupted'}", soft_wrap=True)
        return 130
    if report is not None:
        from punie_eval.report import console_table

        Console(highlight=False).print(console_table(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
