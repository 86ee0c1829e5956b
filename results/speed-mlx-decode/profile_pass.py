"""Where an mlx float32 decode pass spends its time on this CPU (issue 13).

Times forward passes of 1 to 17 tokens of the embedded model over a ~400-token KV cache (the
evaluation's shape: system prompt cached, then a one-token step or a drafted pass of 1 + 8
tokens) on mlx and on the numpy decoder (`punie_runtime.numpy_llama`), beside: the mlx pass's
matmuls alone (every projection and the tied lm_head as one graph, no other ops), and the mlx
pass with the q/k/v and gate/up projections each fused into one matmul.
Run: PYTHONPATH=.:plugins .venv/bin/python results/speed-mlx-decode/profile_pass.py
Prints medians; asserts nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from punie_runtime.blas import ensure_fast_blas

ensure_fast_blas(reexec=True)

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from typing import Any  # noqa: E402

import mlx.core as mx  # noqa: E402
import mlx.nn as nn  # noqa: E402
from mlx_lm.models.activations import swiglu  # noqa: E402
from mlx_lm.models.base import scaled_dot_product_attention  # noqa: E402
from mlx_lm.models.cache import make_prompt_cache, trim_prompt_cache  # noqa: E402

from punie_runtime.base_model import load_model  # noqa: E402
from punie_runtime.numpy_llama import NumpyLlama  # noqa: E402


def median_ms(fn: Callable[[], object], repeat: int) -> float:
    """Median wall milliseconds of fn() over `repeat` calls after one warm-up."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def fuse_projections(model: nn.Module) -> None:
    """Replace each layer's q/k/v and gate/up projections by one matmul each (in place)."""
    for layer in model.model.layers:
        layer.self_attn = FusedAttention(layer.self_attn)
        layer.mlp = FusedMLP(layer.mlp)


class FusedAttention(nn.Module):
    """mlx-lm's llama attention with q, k and v from one matmul."""

    def __init__(self, attn: nn.Module) -> None:
        super().__init__()
        self.qkv = mx.concatenate([attn.q_proj.weight, attn.k_proj.weight, attn.v_proj.weight])
        q, k = attn.q_proj.weight.shape[0], attn.k_proj.weight.shape[0]
        self.splits = [q, q + k]
        self.n_heads, self.n_kv_heads, self.scale = attn.n_heads, attn.n_kv_heads, attn.scale
        self.rope, self.o_proj = attn.rope, attn.o_proj

    def __call__(self, x: mx.array, mask: Any = None, cache: Any = None) -> mx.array:
        B, L, _ = x.shape
        queries, keys, values = mx.split(x @ self.qkv.T, self.splits, axis=-1)
        queries = queries.reshape(B, L, self.n_heads, -1).transpose(0, 2, 1, 3)
        keys = keys.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        values = values.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        queries = self.rope(queries, offset=cache.offset)
        keys = self.rope(keys, offset=cache.offset)
        keys, values = cache.update_and_fetch(keys, values)
        out = scaled_dot_product_attention(
            queries, keys, values, cache=cache, scale=self.scale, mask=mask
        )
        return self.o_proj(out.transpose(0, 2, 1, 3).reshape(B, L, -1))


class FusedMLP(nn.Module):
    """mlx-lm's llama MLP with gate and up from one matmul."""

    def __init__(self, mlp: nn.Module) -> None:
        super().__init__()
        self.gate_up = mx.concatenate([mlp.gate_proj.weight, mlp.up_proj.weight])
        self.hidden = mlp.gate_proj.weight.shape[0]
        self.down_proj = mlp.down_proj

    def __call__(self, x: mx.array) -> mx.array:
        gate, up = mx.split(x @ self.gate_up.T, [self.hidden], axis=-1)
        return self.down_proj(swiglu(gate, up))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--context", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    model, _ = load_model(None)
    cache = make_prompt_cache(model)
    prompt = mx.array([[i % 1000 + 100 for i in range(args.context)]])
    mx.eval(model(prompt, cache=cache))
    inner = model.model

    def one_pass(width: int) -> Callable[[], object]:
        tokens = mx.array([[1234] * width])

        def run() -> object:
            out = model(tokens, cache=cache)
            mx.eval(out)
            trim_prompt_cache(cache, width)
            return out

        return run

    weights = []
    for layer in inner.layers:
        a, m = layer.self_attn, layer.mlp
        weights += [a.q_proj.weight, a.k_proj.weight, a.v_proj.weight, a.o_proj.weight]
        weights += [m.gate_proj.weight, m.up_proj.weight, m.down_proj.weight]
    head = inner.embed_tokens.weight

    def matmuls(width: int) -> Callable[[], object]:
        x = mx.ones((1, width, 576))
        h = mx.ones((1, width, 1536))

        def run() -> object:
            outs = [(h if w.shape[1] == 1536 else x) @ w.T for w in weights]
            outs.append(x @ head.T)
            mx.eval(outs)
            return outs

        return run

    decoder = NumpyLlama.from_mlx(model)
    decoder.feed(list(range(100, 100 + args.context)))

    def numpy_pass(width: int) -> Callable[[], object]:
        def run() -> object:
            out = decoder.feed([1234] * width)
            decoder.trim(width)
            return out

        return run

    widths = (1, 2, 5, 9, 17)
    on_numpy = {w: median_ms(numpy_pass(w), args.repeat) for w in widths}
    stock = {w: median_ms(one_pass(w), args.repeat) for w in widths}
    alone = {w: median_ms(matmuls(w), args.repeat) for w in (1, 9)}
    probe = mx.array([[4321, 99, 7]])
    before = model(probe, cache=cache)
    mx.eval(before)
    trim_prompt_cache(cache, 3)
    fuse_projections(model)
    after = model(probe, cache=cache)
    mx.eval(after)
    trim_prompt_cache(cache, 3)
    fused = {w: median_ms(one_pass(w), args.repeat) for w in (1, 9)}
    print(
        "| tokens in the pass | mlx | mlx, its matmuls alone | mlx, q/k/v and gate/up fused "
        "| numpy decoder |"
    )
    print("|---|---|---|---|---|")
    for width in widths:
        cells = [stock[width], alone.get(width), fused.get(width), on_numpy[width]]
        text = " | ".join("" if c is None else f"{c:.1f} ms" for c in cells)
        print(f"| {width} | {text} |")
    print(
        f"fused vs stock logits: max |diff| {mx.abs(before - after).max().item():.2e}, "
        f"same argmax {bool(mx.all(before.argmax(-1) == after.argmax(-1)).item())}"
    )
    # Ops per pass, from the graph.
    print(f"weights read per pass: {(sum(w.size for w in weights) + head.size) * 4 / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
