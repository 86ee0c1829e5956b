"""The options of one ``python -m punie_train`` run, and the error a user can fix.

`RunOptions` is the training config plus the run, evaluation and report options, read from
the parsed command line; `UserError` stops a run with one line and status 2.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import attrs

from punie_eval.evaluate import DEFAULT_MAX_TOKENS
from punie_runtime.engines import choose_engine
from punie_train.config import ConfigError, TrainConfig
from punie_train.config_file import cli_overrides, load_config


class UserError(Exception):
    """A mistake the user can fix (bad flag, missing file, unknown model); no traceback."""


@attrs.frozen
class RunOptions:
    """What one run does: the training config plus the run, evaluation and report options."""

    config: TrainConfig
    run_dir: Path = Path("runs/phase33")
    resume: bool = False
    skip_train: bool = False
    adapter: Path | None = None
    skip_eval: bool = False
    skip_base: bool = False
    base_cache: bool = True
    eval_limit: int | None = None
    queries: tuple[str, ...] = ()
    eval_max_tokens: int = DEFAULT_MAX_TOKENS
    engine: str = "auto"

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        """Options from the CLI's parsed arguments; UserError for contradictions."""
        try:
            config = load_config(args.config, cli_overrides(args))
        except ConfigError as error:
            raise UserError(str(error)) from None
        if args.eval_limit is not None and args.eval_limit < 1:
            raise UserError(f"--eval-limit must be at least 1, got {args.eval_limit}")
        if args.eval_max_tokens is not None and args.eval_max_tokens < 1:
            raise UserError(f"--eval-max-tokens must be at least 1, got {args.eval_max_tokens}")
        if args.engine == "llama":  # checked now, not after an hour of training
            try:
                choose_engine(args.engine)
            except ValueError as error:
                raise UserError(str(error)) from None
        skip_train = args.skip_train or args.adapter is not None
        if skip_train and args.resume:
            raise UserError("--resume continues training; it cannot go with --skip-train/--adapter")
        if skip_train and args.skip_eval:
            raise UserError("--skip-train with --skip-eval leaves nothing to do")
        return cls(
            config=config,
            run_dir=args.run_dir,
            resume=args.resume,
            skip_train=skip_train,
            adapter=args.adapter,
            skip_eval=args.skip_eval,
            skip_base=args.skip_base,
            base_cache=not args.no_base_cache,
            eval_limit=args.eval_limit,
            queries=tuple(args.queries),
            eval_max_tokens=args.eval_max_tokens or DEFAULT_MAX_TOKENS,
            engine=args.engine,
        )
