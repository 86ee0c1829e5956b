"""The options of a dataset build: one attrs class, from which the CLI is generated."""

from __future__ import annotations

from pathlib import Path

import attrs

from punie_tools.options_cli import option


def _path_or_none(value: object) -> Path | None:
    return None if value is None or value == "" else Path(str(value))


def _paths(value: object) -> tuple[Path, ...]:
    if value is None:
        return ()
    if isinstance(value, str | Path):
        return (Path(value),)
    assert isinstance(value, list | tuple)
    return tuple(Path(v) for v in value)


DEFAULT_OUT = Path("data/phase33")
"""Where the default dataset lives (``python -m punie_train`` reads and builds it there too)."""
DEFAULT_MAX_SEQ_LENGTH = 2048
"""The longest example in tokens (the training default truncates at the same length)."""


@attrs.frozen
class DatagenOptions:
    """Everything that decides a dataset build (``workers`` changes only the speed)."""

    out: Path = attrs.field(
        default=DEFAULT_OUT,
        converter=Path,
        metadata=option(
            "output folder; train.jsonl, valid.jsonl and manifest.json are written there "
            "(the dataset's name is the folder's name)",
            metavar="DIR",
        ),
    )
    seed: int = attrs.field(
        default=33,
        metadata=option(
            "random seed for template sampling and the split; same seed and "
            "plugins give byte-identical files",
            metavar="N",
        ),
    )
    per_tool: int = attrs.field(
        default=60,
        validator=attrs.validators.ge(0),
        metadata=option(
            "generated examples per tool, shared by the templates whose first "
            "call is that tool (0 = foundation and extras only)",
            metavar="N",
        ),
    )
    foundation: Path | None = attrs.field(
        default=None,
        converter=_path_or_none,
        metadata=option(
            "foundation JSONL file or folder of *.jsonl (default: the Phase 28 "
            "set vendored in punie_datagen/foundation_data)",
            metavar="PATH",
        ),
    )
    workers: int = attrs.field(
        default=2,
        validator=attrs.validators.ge(1),
        metadata=option(
            "processes that execute generated examples (output does not depend on it)", metavar="N"
        ),
    )
    max_seq_length: int = attrs.field(
        default=DEFAULT_MAX_SEQ_LENGTH,
        validator=attrs.validators.ge(1),
        metadata=option(
            "reject examples longer than this many tokens of the embedded "
            "model (skipped with a warning when its tokenizer is unavailable)",
            metavar="N",
        ),
    )
    extra: tuple[Path, ...] = attrs.field(
        default=(),
        converter=_paths,
        metadata=option(
            "folder (or file) of agent transcripts in the same JSONL message "
            "format, validated like everything else and merged; repeatable",
            metavar="PATH",
        ),
    )
    valid_fraction: float = attrs.field(
        default=0.1,
        validator=[attrs.validators.ge(0.0), attrs.validators.lt(1.0)],
        metadata=option(
            "share of each stratum (tool category and first tool) that goes to valid", metavar="F"
        ),
    )
    near_duplicate: float = attrs.field(
        default=0.85,
        validator=[attrs.validators.gt(0.0), attrs.validators.le(1.0)],
        metadata=option(
            "Jaccard similarity at or above which two examples (or an example "
            "and an eval query) count as near duplicates",
            metavar="F",
        ),
    )

    type_check: bool = attrs.field(
        default=False,
        metadata=option(
            "also type-check every code block against the tools' stubs with monty "
            "(slower; the default ast check already catches unknown calls and attributes)",
            metavar="",
        ),
    )

    @property
    def name(self) -> str:
        """The dataset's name: the output folder's name."""
        return self.out.name

    def recorded(self) -> dict[str, object]:
        """The options that decide the output's bytes, as stored in the manifest."""
        return {
            "seed": self.seed,
            "per_tool": self.per_tool,
            "foundation": str(self.foundation) if self.foundation else None,
            "max_seq_length": self.max_seq_length,
            "extra": [str(p) for p in self.extra],
            "valid_fraction": self.valid_fraction,
            "near_duplicate": self.near_duplicate,
            "type_check": self.type_check,
        }
