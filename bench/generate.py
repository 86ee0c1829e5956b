"""Decode speed and latency per query of punie_runtime.generate, each optimisation in one run.

Usage: .venv/bin/python bench/generate.py [--model SPEC] [--adapter DIR] [--max-tokens N]
       [--queries N] [--blas] [--engines]

Every configuration answers the same coding-agent queries with the real system prompt; the
ratios compare configurations measured in this run on this machine, interleaved query by
query so that other load on the machine hits every configuration alike. `--blas` also times a
short decode under mlx's reference BLAS and with one OpenBLAS thread (subprocesses), and
`--engines` (alias `--llama`) the first replies to the eval queries by mlx, the numpy decoder
and, when llama-cpp-python is importable, llama.cpp on the fused GGUF. Prints, asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from typing import Any  # noqa: E402

import attrs  # noqa: E402

from punie_runtime.base_model import BaseModel, load_model  # noqa: E402
from punie_runtime.blas import blas_report  # noqa: E402
from punie_runtime.generate import Generation, Generator  # noqa: E402

QUERIES = (
    "How many ruff violations are there in src?",
    "Where is the function load_config defined in app/config.py?",
    "Show me the last 3 git commits.",
    "Does tests/test_orders.py pass?",
    "List the symbols defined in app/models.py.",
    "Is the Card component in components/card.py valid?",
)

CONFIGS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "baseline (fresh prefill, eos stop, 1 token/pass)",
        {"reuse_cache": False, "draft_tokens": 0, "stop_strings": ()},
    ),
    ("+ prompt-cache reuse", {"draft_tokens": 0, "stop_strings": ()}),
    ("+ stop after </tool_call>", {"draft_tokens": 0}),
    ("+ prompt-lookup drafting (all on)", {}),
)


@attrs.frozen
class Run:
    """What one configuration cost over all queries."""

    label: str
    generations: tuple[Generation, ...]

    @property
    def latency(self) -> float:
        """Mean seconds per query."""
        return sum(g.seconds for g in self.generations) / len(self.generations)

    @property
    def prefill(self) -> float:
        """Mean prefill seconds per query."""
        return sum(g.prefill_seconds for g in self.generations) / len(self.generations)

    @property
    def tokens(self) -> int:
        """Generated tokens over all queries."""
        return sum(g.generated_tokens for g in self.generations)

    @property
    def decode_rate(self) -> float:
        """Generated tokens per decode second."""
        return self.tokens / sum(g.decode_seconds for g in self.generations)


def system_prompt() -> str:
    """The agent's real system prompt, rendered from the installed plugins."""
    from punie_tools import Registry
    from punie_tools.prompt import system_prompt as render

    return render(Registry.load().tools())


# One worked example, so that an untrained base model answers in the tool-call format.
EXAMPLE = (
    {"role": "user", "content": "How many lint violations are in app/?"},
    {
        "role": "assistant",
        "content": "<tool_call><function=execute_code>\n<parameter=code>\n"
        'result = ruff_check("app")\nprint(result.violation_count)\n'
        "</parameter>\n</function></tool_call>",
    },
)


def conversation(system: str, query: str, example: bool) -> list[dict[str, str]]:
    """The messages for one query: system prompt, the worked example if asked, the query."""
    shots = list(EXAMPLE) if example else []
    return [{"role": "system", "content": system}, *shots, {"role": "user", "content": query}]


def compiled_mlp_blocks(model: Any) -> Callable[[bool], None]:
    """A switch that routes each decoder layer's norm+MLP+residual through mx.compile.

    A compiled graph cannot read arrays into numpy: while it is on, numpy's exp
    (`punie_runtime.numpy_exp`, installed by `load_model` on a CPU) is swapped for mlx's own.
    """
    import mlx.core as mx

    from punie_runtime import numpy_exp

    layers = model.model.layers
    block_type = type(layers[0])
    eager = block_type.__call__
    fused = {
        id(layer): mx.compile(
            lambda h, layer=layer: h + layer.mlp(layer.post_attention_layernorm(h))
        )
        for layer in layers
    }

    def compiled(self: Any, x: Any, mask: Any = None, cache: Any = None) -> Any:
        return fused[id(self)](x + self.self_attn(self.input_layernorm(x), mask, cache))

    with_numpy_exp = numpy_exp.installed(model)

    def switch(on: bool) -> None:
        block_type.__call__ = compiled if on else eager
        if with_numpy_exp:
            (numpy_exp.uninstall if on else numpy_exp.install)(model)

    return switch


def run_all(
    model: Any, tokenizer: Any, chats: Sequence[list[dict[str, str]]], max_tokens: int
) -> list[Run]:
    """Every configuration on every conversation, interleaved so load changes hit all alike."""
    switch = compiled_mlp_blocks(model)
    configs: list[tuple[str, dict[str, Any]]] = [
        *CONFIGS,
        ("all on + mx.compile of each MLP block (mlx's exp)", {}),
    ]
    generators = [
        Generator(model, tokenizer, max_tokens=max_tokens, **options) for _, options in configs
    ]
    outs: list[list[Generation]] = [[] for _ in configs]
    try:
        for messages in chats:
            for index, generator in enumerate(generators):
                switch(index == len(configs) - 1)
                outs[index].append(generator.generate(messages))
    finally:
        switch(False)
    return [Run(label, tuple(out)) for (label, _), out in zip(configs, outs, strict=True)]


def print_run(run: Run, baseline: Run) -> None:
    """One table row, with ratios to the baseline."""
    print(
        f"{run.label:52} {run.latency:7.2f} s/query ({baseline.latency / run.latency:4.2f}x)"
        f"  prefill {run.prefill:5.2f} s  decode {run.decode_rate:5.1f} tok/s"
        f" ({run.decode_rate / baseline.decode_rate:4.2f}x)  {run.tokens} tokens"
    )


SHORT_DECODE = """
import json, time
from punie_runtime.blas import ensure_fast_blas, blas_report
state = ensure_fast_blas()
from punie_runtime.base_model import load_model
from punie_runtime.generate import Generator
model, tok = load_model()
g = Generator(model, tok, draft_tokens=0, max_tokens=16, stop_strings=())
out = g.generate([{"role": "user", "content": "Write a Python function that adds two numbers."}])
print(json.dumps({"note": state.note, "gflops": blas_report().gflops,
                  "prefill": out.prefill_seconds, "prompt": out.prompt_tokens,
                  "rate": out.tokens_per_second}))
"""


def blas_variants() -> None:
    """Short decodes in subprocesses under each BLAS setting."""
    variants = {
        "reference BLAS": {"PUNIE_BLAS": "reference"},
        "OpenBLAS, 1 thread": {"OPENBLAS_NUM_THREADS": "1"},
        "OpenBLAS, default threads": {},
    }
    print("\nBLAS (16-token decode of a short prompt, plain loop):")
    results = {}
    for label, extra in variants.items():
        env = {k: v for k, v in os.environ.items() if k not in ("PUNIE_BLAS", "LD_PRELOAD")}
        env.update(extra)
        done = subprocess.run(
            [sys.executable, "-c", SHORT_DECODE],
            capture_output=True,
            text=True,
            env=env,
            cwd=Path(__file__).resolve().parents[1],
        )
        if done.returncode:
            print(f"  {label}: failed: {done.stderr.strip().splitlines()[-1:]}")
            continue
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    base = results.get("reference BLAS")
    for label, r in results.items():
        ratio = f" ({r['rate'] / base['rate']:4.2f}x decode vs reference)" if base else ""
        print(
            f"  {label:26} {r['gflops']:6.1f} GFLOP/s  prefill {r['prompt']} tokens"
            f" {r['prefill']:5.2f} s  decode {r['rate']:5.1f} tok/s{ratio}"
        )


def tool_calls(text: str, tool_names: Sequence[str]) -> tuple[Any, ...] | None:
    """The tool calls of a reply's Code Mode code (name, arguments), None when it has none."""
    from punie_tools.callsite import extract_calls
    from punie_tools.codemode import parse_tool_call

    call = parse_tool_call(text)
    code = call.code if call is not None and call.function == "execute_code" else None
    sites = extract_calls(code, tool_names) if code else None
    return tuple((s.tool, repr(s.args), repr(sorted(s.kwargs))) for s in sites or ())


def engines(
    model_spec: str,
    adapter: str | None,
    queries: int,
    max_tokens: int,
    types: Sequence[str],
    drafts: Sequence[int] = (0,),
    numpy_drafts: Sequence[int] = (8,),
) -> None:
    """mlx float32 vs numpy float32 vs llama.cpp on the fused model as GGUF, on eval queries.

    Each engine answers the first turn of the same eval queries (real system prompt, greedy,
    the evaluation's stops); prints decode speed and mean latency with ratios to mlx float32,
    and how many replies give the same tool calls (and the same text) as mlx. The numpy
    decoder runs once per entry of `numpy_drafts`, each GGUF type (llama.cpp, when
    llama-cpp-python is importable and an adapter is given) once per entry of `drafts`
    (prompt-lookup draft tokens per pass; 0: none).
    """
    import tempfile

    from punie_eval.evaluate import CALL_WITHIN_TOKENS
    from punie_runtime.engines import fuse_adapters, llama_available, llama_version
    from punie_runtime.gguf_export import export_gguf
    from punie_runtime.numpy_generate import NumpyGenerator
    from punie_runtime.numpy_llama import NumpyLlama
    from punie_tools import Registry

    if types and not llama_available():
        print("\nengines: llama-cpp-python is not importable; llama.cpp rows skipped")
        types = ()
    if types and adapter is None:
        print("\nengines: llama.cpp rows need --adapter (the export fuses it); skipped")
        types = ()
    registry = Registry.load()
    names = [spec.name for spec in registry.tools()]
    system = system_prompt()
    chats = [
        [{"role": "system", "content": system}, {"role": "user", "content": q.query}]
        for q in registry.eval_queries()[:queries]
    ]
    model, tokenizer = load_model(BaseModel.parse(model_spec), adapter)
    fuse_adapters(model)
    mlx = Generator(model, tokenizer, max_tokens=max_tokens, call_within=CALL_WITHIN_TOKENS)
    generators: list[tuple[str, Any]] = [("mlx float32", mlx)]
    for draft in numpy_drafts:
        numpy_generator = NumpyGenerator(
            NumpyLlama.from_mlx(model),
            tokenizer,
            max_tokens=max_tokens,
            call_within=CALL_WITHIN_TOKENS,
            draft_tokens=draft,
        )
        generators.append((f"numpy float32 draft {draft}", numpy_generator))
    with tempfile.TemporaryDirectory(prefix="punie-engines-") as tmp:
        for out_type in types:
            from punie_runtime.llama_generate import LlamaGenerator

            assert adapter is not None
            path = Path(tmp) / f"model-{out_type}.gguf"
            export_gguf(path, Path(adapter), out_type)
            for draft in drafts:
                label = f"llama.cpp {out_type} ({path.stat().st_size / 1e6:.0f} MB)"
                label += f" draft {draft}" if draft else ""
                llama = LlamaGenerator(
                    path,
                    tokenizer,
                    max_tokens=max_tokens,
                    call_within=CALL_WITHIN_TOKENS,
                    draft_tokens=draft,
                )
                generators.append((label, llama))
        for _, generator in generators:
            generator.prefill(chats[0][:1])
        outs: list[list[Generation]] = [[] for _ in generators]
        for number, messages in enumerate(chats, 1):
            for index, (_, generator) in enumerate(generators):
                outs[index].append(generator.generate(messages))
            seconds = " ".join(f"{out[-1].seconds:5.2f}" for out in outs)
            print(f"  query {number}/{len(chats)}: {seconds} s", flush=True)
    runs = [Run(label, tuple(out)) for (label, _), out in zip(generators, outs, strict=True)]
    print(
        f"\nengines on {len(chats)} eval queries (first reply, greedy, max {max_tokens} tokens;"
        f" llama-cpp-python {llama_version() or 'not installed'}):"
    )
    first = runs[0]
    reference = [tool_calls(g.text, names) for g in first.generations]
    for run in runs:
        pairs = list(zip(run.generations, first.generations, reference, strict=True))
        same_calls = sum(tool_calls(g.text, names) == ref for g, _, ref in pairs)
        same_text = sum(g.text == m.text for g, m, _ in pairs)
        print(
            f"  {run.label:36} {run.latency:6.2f} s/query ({first.latency / run.latency:4.2f}x)"
            f"  decode {run.decode_rate:5.1f} tok/s ({run.decode_rate / first.decode_rate:4.2f}x)"
            f"  same tool calls {same_calls}/{len(chats)}, same text {same_text}/{len(chats)}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default", help="base model spec (default: embedded)")
    parser.add_argument("--adapter", default=None, help="LoRA adapter directory")
    parser.add_argument("--max-tokens", type=int, default=64, help="reply cap per query")
    parser.add_argument(
        "--eval-max-tokens", type=int, default=384, help="reply cap per query for --engines"
    )
    parser.add_argument("--queries", type=int, default=4, help="how many queries (max 6)")
    parser.add_argument(
        "--zero-shot", action="store_true", help="no worked example (for trained adapters)"
    )
    parser.add_argument("--blas", action="store_true", help="also compare BLAS settings")
    parser.add_argument(
        "--engines",
        "--llama",
        dest="engines",
        action="store_true",
        help="also compare engines on the eval queries: mlx float32, the numpy decoder, and"
        " llama.cpp on the fused model exported as GGUF (with --adapter and llama-cpp-python)",
    )
    parser.add_argument(
        "--llama-types",
        default="f32,f16,q8_0",
        help="GGUF types to export and time with --engines (comma-separated)",
    )
    parser.add_argument(
        "--numpy-drafts",
        default="8",
        help="prompt-lookup draft tokens per pass to time for the numpy decoder with --engines "
        "(comma-separated; 0: no drafting)",
    )
    parser.add_argument(
        "--llama-drafts",
        default="0",
        help="prompt-lookup draft tokens per pass to time for each --llama-types GGUF "
        "(comma-separated; 0: no drafting)",
    )
    parser.add_argument(
        "--engine-queries", type=int, default=69, help="eval queries for --engines (default: all)"
    )
    args = parser.parse_args(argv)

    print(blas_report(512).describe())
    model, tokenizer = load_model(BaseModel.parse(args.model), args.adapter)
    system = system_prompt()
    chats = [conversation(system, q, not args.zero_shot) for q in QUERIES[: args.queries]]
    shared = len(Generator(model, tokenizer).render(chats[0][:-1]))
    print(
        f"{len(chats)} queries, shared prefix (system prompt + example) {shared} tokens, "
        f"max {args.max_tokens} tokens per reply\n"
    )
    runs = run_all(model, tokenizer, chats, args.max_tokens)
    for run in runs:
        print_run(run, runs[0])
    all_on, compiled = runs[-2], runs[-1]
    print(
        f"  mx.compile vs without: {all_on.latency / compiled.latency:4.2f}x latency, "
        f"{compiled.decode_rate / all_on.decode_rate:4.2f}x decode"
    )
    passes = sum(g.forward_passes for g in all_on.generations)
    print(f"  drafting: {all_on.tokens} tokens in {passes} forward passes")
    pairs = zip(runs[2].generations, all_on.generations, strict=True)
    print(
        f"  replies identical with and without drafting: {all(a.text == b.text for a, b in pairs)}"
    )
    print(f"  stops (all on): {[g.stop for g in all_on.generations]}")
    print("\nfirst reply (all on):", repr(all_on.generations[0].text[:200]))
    if args.blas:
        blas_variants()
    if args.engines:
        engines(
            args.model,
            args.adapter,
            args.engine_queries,
            args.eval_max_tokens,
            [t for t in args.llama_types.split(",") if t],
            [int(d) for d in args.llama_drafts.split(",") if d],
            [int(d) for d in args.numpy_drafts.split(",") if d],
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
