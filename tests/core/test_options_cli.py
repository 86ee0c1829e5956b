"""The one options-to-CLI generator (`punie_tools.options_cli`) on a toy options class."""

from __future__ import annotations

import argparse
from pathlib import Path

import attrs
from hypothesis import given
from hypothesis import strategies as st

from punie_tools.options_cli import add_options, given_options, option


@attrs.frozen
class Inner:
    """A nested options class."""

    rank: int = attrs.field(default=8, metadata=option("LoRA rank.", flag="--lora-rank"))


@attrs.frozen
class Toy:
    """Every kind of field the generator knows."""

    out: Path = attrs.field(default=Path("data/x"), metadata=option("folder", metavar="DIR"))
    seed: int = attrs.field(default=33, metadata=option("seed", metavar="N"))
    rate: float = attrs.field(default=0.1, metadata=option("rate"))
    mode: str = attrs.field(default="a", metadata=option("mode", choices=("a", "b")))
    strict: bool = attrs.field(default=False, metadata=option("strict"))
    extra: tuple[Path, ...] = attrs.field(default=(), metadata=option("extra", metavar="PATH"))
    scales: tuple[float, ...] = attrs.field(default=(), metadata=option("scales"))
    hidden: str = attrs.field(default="h", metadata=option("yaml only", cli=False))
    inner: Inner = attrs.field(factory=Inner, metadata=option("nested"))


def parser() -> argparse.ArgumentParser:
    """A parser with Toy's options."""
    p = argparse.ArgumentParser(prog="toy")
    add_options(p, Toy, {"inner": Inner})
    return p


def test_unset_options_leave_nothing_and_set_ones_come_back_typed() -> None:
    assert given_options(parser().parse_args([]), Toy) == {}
    args = parser().parse_args(
        ["--out", "o", "--seed", "5", "--rate", "0.5", "--mode", "b", "--strict",
         "--extra", "a", "--extra", "b", "--scales", "1", "2", "--lora-rank", "4"]
    )  # fmt: skip
    assert given_options(args, Toy) == {
        "out": Path("o"),
        "seed": 5,
        "rate": 0.5,
        "mode": "b",
        "strict": True,
        "extra": [Path("a"), Path("b")],
        "scales": [1.0, 2.0],
        "inner.rank": 4,
    }


def test_help_shows_every_option_with_its_default_and_hides_yaml_only_ones() -> None:
    text = parser().format_help()
    for flag in ("--out DIR", "--seed N", "--mode {a,b}", "--strict, --no-strict", "--lora-rank"):
        assert flag in text
    assert "(default: data/x)" in text and "(default: 33)" in text
    assert "--hidden" not in text


@given(st.integers(-(10**6), 10**6), st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_round_trip_through_the_command_line(seed: int, rate: float) -> None:
    args = parser().parse_args([f"--seed={seed}", f"--rate={rate!r}"])
    assert given_options(args, Toy) == {"seed": seed, "rate": rate}
