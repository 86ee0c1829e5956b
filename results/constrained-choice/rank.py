"""First tool by greedy decoding vs by ranking every tool name's likelihood, on three query sets.

Run from the repository root:

    PYTHONPATH=.:plugins .venv/bin/python results/constrained-choice/rank.py \
        --adapter runs/NAME/adapters-best [--adapter ...] [--dump FILE]

For each request (the 69 eval queries and both held-out request sets) the model sees the
system prompt, the request and the start of a Code Mode call up to ``result =`` (the first
line of nearly every training call). "greedy" is the training probe's answer (greedy decoding
to the first tool name); "ranked" scores every registered tool name as a continuation:
log P(name tokens) + log P(next token opens with ``(``), one batched forward pass per request
over a KV cache shared by all candidates. Prints a table per adapter; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas()

import mlx.core as mx  # noqa: E402
from mlx_lm.models.cache import KVCache  # noqa: E402

from punie_eval.first_call import Decision  # noqa: E402
from punie_tools import Registry  # noqa: E402
from punie_tools.prompt import system_prompt  # noqa: E402
from punie_train.probe import CALL_PREFIX, ToolProbe  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
LEAD = "result ="


def query_sets(registry: Registry) -> dict[str, list[tuple[str, frozenset[str]]]]:
    """Each set's (query, expected first tools)."""
    sets = {
        "eval": [(q.query, frozenset(e.tool for e in q.expected)) for q in registry.eval_queries()]
    }
    for label, folder in (("held-out 1", "heldout-requests"), ("held-out 2", "heldout-requests-2")):
        lines = (ROOT / folder / "requests.jsonl").read_text(encoding="utf-8").splitlines()
        sets[label] = [(r["query"], frozenset([r["tool"]])) for r in map(json.loads, lines) if r]
    return sets


class NameRanker:
    """Ranks tool names as the continuation of the call's first line (see module docstring)."""

    def __init__(self, model, tokenizer, system: str, names: list[str]) -> None:
        from punie_runtime.generate import Generator

        self.model, self.tokenizer, self.names = model, tokenizer, names
        self.generator = Generator(model, tokenizer)  # its KV cache keeps the system prompt
        self.render = self.generator.render
        self.system = system
        lead = list(tokenizer.encode(LEAD, add_special_tokens=False))
        self.tails = []
        for name in names:
            full = list(tokenizer.encode(LEAD + " " + name + '("', add_special_tokens=False))
            assert full[: len(lead)] == lead, name
            self.tails.append(full[len(lead) : -1])  # the name's tokens, the "(" token left off
        self.suffix = list(tokenizer.encode(CALL_PREFIX, add_special_tokens=False)) + lead
        vocab = range(tokenizer.vocab_size)
        paren = [i for i in vocab if tokenizer.decode([i]).startswith("(")]
        self.paren = mx.array(paren)

    def rank(self, query: str) -> list[tuple[float, str]]:
        """(log-likelihood, name) of every tool, best first."""
        messages = [{"role": "system", "content": self.system}, {"role": "user", "content": query}]
        prompt = self.render(messages) + self.suffix
        gen = self.generator
        reused = gen._prepare_cache(prompt)
        logits = gen._feed(prompt[reused:])[-1]
        cache = gen._cache
        first = logits - mx.logsumexp(logits)
        width = max(len(t) for t in self.tails)
        batch = len(self.tails)
        tiled = []
        for c in cache:
            k, v = c.keys[..., : c.offset, :], c.values[..., : c.offset, :]
            t = KVCache()
            t.keys = mx.repeat(k, batch, axis=0)
            t.values = mx.repeat(v, batch, axis=0)
            t.offset = c.offset
            tiled.append(t)
        pad = [t + [t[-1]] * (width - len(t)) for t in self.tails]
        out = self.model(mx.array(pad), cache=tiled)
        logp = out - mx.logsumexp(out, axis=-1, keepdims=True)
        paren = mx.logsumexp(logp[:, :, self.paren], axis=-1)
        mx.eval(first, logp, paren)
        scores = []
        for b, (name, tail) in enumerate(zip(self.names, self.tails, strict=True)):
            s = float(first[tail[0]])
            for j in range(1, len(tail)):
                s += float(logp[b, j - 1, tail[j]])
            s += float(paren[b, len(tail) - 1])
            scores.append((s, name))
        return sorted(scores, reverse=True)


def main() -> None:
    """Greedy vs ranked first tool for each adapter on every set."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--adapter", type=Path, action="append", default=[])
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    from punie_runtime.base_model import BaseModel, load_model
    from punie_runtime.engines import fuse_adapters

    registry = Registry.load()
    names = [s.name for s in registry.tools()]
    system = system_prompt(registry.tools())
    sets = query_sets(registry)
    dump = []
    print("| adapter | set | n | greedy | ranked | both right | greedy only | ranked only | s |")
    print("|---|---|---|---|---|---|---|---|---|")
    for adapter in args.adapter:
        model, tokenizer = load_model(BaseModel.parse("default"), adapter)
        fuse_adapters(model)
        model.eval()
        ranker = NameRanker(model, tokenizer, system, names)
        for label, items in sets.items():
            start = time.perf_counter()
            probe = ToolProbe([Decision(q, sorted(e)[0]) for q, e in items], system, names)
            greedy = probe.run(model, tokenizer).chosen
            ranked = [ranker.rank(q) for q, _ in items]
            g = [c in e for c, (_, e) in zip(greedy, items, strict=True)]
            r = [rk[0][1] in e for rk, (_, e) in zip(ranked, items, strict=True)]
            both = sum(a and b for a, b in zip(g, r, strict=True))
            print(
                f"| {adapter} | {label} | {len(items)} | {sum(g)} | {sum(r)} | {both} | "
                f"{sum(g) - both} | {sum(r) - both} | {time.perf_counter() - start:.0f} |",
                flush=True,
            )
            for (q, e), gc, rk in zip(items, greedy, ranked, strict=True):
                dump.append(
                    {
                        "adapter": str(adapter),
                        "set": label,
                        "query": q,
                        "expected": sorted(e),
                        "greedy": gc,
                        "ranked": [[round(s, 3), n] for s, n in rk[:3]],
                    }
                )
    if args.dump:
        args.dump.write_text("".join(json.dumps(d) + "\n" for d in dump), encoding="utf-8")


if __name__ == "__main__":
    main()
