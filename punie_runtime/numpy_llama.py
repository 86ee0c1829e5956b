"""A llama-architecture decoder in numpy, for greedy decoding on a CPU.

mlx on the CPU runs each operation of a forward pass one after another on one stream thread,
so a one-token pass of SmolLM2-135M takes ~71 ms here; numpy calls OpenBLAS directly with
little per-operation cost and takes ~31 ms (a pass of 2-17 tokens: ~75-95 ms against mlx's
~80-110, OpenBLAS's small-matrix `sgemm` being slow in both; `results/speed-mlx-decode/`).
The weights come from a loaded mlx-lm model (adapters fused), the KV cache is numpy's own, and
the arithmetic is float32 like mlx's, so the logits agree to ~1e-4. Only the llama family that
mlx-lm's ``llama`` module runs is supported (RoPE without scaling, no biases), which
`NumpyLlama.from_mlx` checks.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

_INITIAL_CAPACITY = 1024


class UnsupportedModelError(ValueError):
    """A model the numpy decoder cannot run; the message says what differs."""


@attrs.frozen
class LayerWeights:
    """One transformer block's float32 weights, matmul-ready (inputs on the left)."""

    attention_norm: np.ndarray
    qkv: np.ndarray  # (hidden, (heads + 2 * kv_heads) * head_dim): q, k, v side by side
    output: np.ndarray  # (heads * head_dim, hidden)
    mlp_norm: np.ndarray
    gate_up: np.ndarray  # (hidden, 2 * intermediate): gate, up side by side
    down: np.ndarray  # (intermediate, hidden)


@attrs.frozen
class Shape:
    """The sizes and constants of the architecture."""

    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    rope_theta: float
    norm_eps: float

    @classmethod
    def of(cls, args: Any) -> Shape:
        """The shape of a loaded mlx-lm llama model (its `args`)."""
        heads = args.num_attention_heads
        return cls(
            heads=heads,
            kv_heads=args.num_key_value_heads or heads,
            head_dim=getattr(args, "head_dim", None) or args.hidden_size // heads,
            intermediate=args.intermediate_size,
            rope_theta=float(args.rope_theta),
            norm_eps=float(args.rms_norm_eps),
        )

    @property
    def inverse_frequencies(self) -> np.ndarray:
        """RoPE's rotation speeds, one per pair of a head's dimensions."""
        half = self.head_dim // 2
        steps = np.arange(0, half, dtype=np.float32) * 2 / self.head_dim
        return 1.0 / (self.rope_theta**steps)


def float32_copy(value: Any) -> np.ndarray:
    """A float32 numpy copy of an array (mlx or numpy)."""
    return np.array(value, dtype=np.float32, copy=True)


def _weight(layer: Any, fuse: bool) -> np.ndarray:
    """A linear layer's weight; an adapter layer's fused into a copy when `fuse`."""
    if fuse and hasattr(layer, "fuse"):
        return float32_copy(layer.fuse().weight)
    return float32_copy(layer.weight)


def layer_weights(block: Any, weight: Callable[[Any], np.ndarray]) -> LayerWeights:
    """A mlx-lm llama block's weights, each linear layer's read by `weight`."""
    attn, mlp = block.self_attn, block.mlp
    qkv = [weight(m) for m in (attn.q_proj, attn.k_proj, attn.v_proj)]
    gate_up = [weight(mlp.gate_proj), weight(mlp.up_proj)]
    return LayerWeights(
        attention_norm=float32_copy(block.input_layernorm.weight),
        qkv=np.ascontiguousarray(np.concatenate(qkv).T),
        output=np.ascontiguousarray(weight(attn.o_proj).T),
        mlp_norm=float32_copy(block.post_attention_layernorm.weight),
        gate_up=np.ascontiguousarray(np.concatenate(gate_up).T),
        down=np.ascontiguousarray(weight(mlp.down_proj).T),
    )


_CONFIG_KEYS = (
    "model_type",
    "rope_scaling",
    "rope_traditional",
    "attention_bias",
    "mlp_bias",
    "sliding_window",
    "quantization",
)


def model_config(model: Any) -> dict[str, Any]:
    """The keys `unsupported` reads, from a loaded mlx-lm model's args."""
    args = getattr(model, "args", None)
    return {key: getattr(args, key, None) for key in _CONFIG_KEYS}


def unsupported(config: Mapping[str, Any], subject: str = "the numpy decoder") -> str | None:
    """Why a model with this config (config.json, or `model_config`) cannot run here, or None.

    `subject` names what cannot run it in the message.
    """
    kind = config.get("model_type")
    if kind != "llama":
        return f"{subject} runs llama models, not {kind!r}"
    flags = {
        "rope_scaling": config.get("rope_scaling") is not None,
        "rope_traditional": bool(config.get("rope_traditional", False)),
        "attention_bias": bool(config.get("attention_bias", False)),
        "mlp_bias": bool(config.get("mlp_bias", False)),
        "sliding_window": config.get("sliding_window") is not None,
        "quantization": config.get("quantization") is not None,
    }
    problems = [name for name, present in flags.items() if present]
    return f"{subject} does not support {', '.join(problems)}" if problems else None


def _check_supported(model: Any, fuse: bool) -> None:
    reason = unsupported(model_config(model))
    if reason is not None:
        raise UnsupportedModelError(reason)
    for name, module in model.named_modules():
        if (hasattr(module, "fuse") and not fuse) or hasattr(module, "scales"):
            raise UnsupportedModelError(f"{name} is an adapter or quantized layer: fuse it first")


class NumpyLlama:
    """A llama decoder with its KV cache: feed tokens, get logits, trim the cache back."""

    def __init__(
        self,
        layers: Sequence[LayerWeights],
        embedding: np.ndarray,
        head: np.ndarray,
        final_norm: np.ndarray,
        shape: Shape,
    ) -> None:
        self.layers = tuple(layers)
        self.embedding = embedding  # (vocab, hidden)
        self.head = head  # (hidden, vocab)
        self.final_norm = final_norm
        self.shape = shape
        half = shape.head_dim // 2
        self._inverse_frequencies = shape.inverse_frequencies
        self.length = 0
        self._capacity = 0
        self._keys: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._cos = np.zeros((0, half), np.float32)
        self._sin = np.zeros((0, half), np.float32)

    @classmethod
    def from_mlx(cls, model: Any, *, fuse_adapters: bool = False) -> NumpyLlama:
        """Copy a loaded mlx-lm llama model's weights.

        Adapter layers must be fused already, unless `fuse_adapters`: then each is fused into
        the copy and the mlx model is left as it is (a model in training can be probed).
        """
        _check_supported(model, fuse_adapters)
        args = model.args
        layers = [
            layer_weights(block, lambda m: _weight(m, fuse_adapters))
            for block in model.model.layers
        ]
        embedding = float32_copy(model.model.embed_tokens.weight)
        tied = getattr(args, "tie_word_embeddings", True)
        head = embedding if tied else _weight(model.lm_head, fuse_adapters)
        final_norm = float32_copy(model.model.norm.weight)
        return cls(layers, embedding, np.ascontiguousarray(head.T), final_norm, Shape.of(args))

    def reset(self) -> None:
        """Empty the KV cache."""
        self.length = 0

    def trim(self, count: int) -> None:
        """Drop the last `count` positions of the KV cache."""
        self.length = max(0, self.length - max(0, count))

    def feed(self, tokens: Sequence[int], *, last_only: bool = False) -> np.ndarray:
        """Run tokens after the cached ones; their logits, (n, vocab) or (1, vocab)."""
        count = len(tokens)
        if count == 0:
            raise ValueError("no tokens to feed")
        start, end = self.length, self.length + count
        self._reserve(end)
        cos, sin = self._cos[start:end], self._sin[start:end]
        mask = None
        if count > 1:
            mask = np.triu(np.full((count, end), -np.inf, np.float32), start + 1)
        x = self.embedding[np.asarray(tokens)]
        for index, layer in enumerate(self.layers):
            x = x + self._attention(index, layer, x, cos, sin, mask, start, end)
            x = x + self._mlp(layer, x)
        if last_only:
            x = x[-1:]
        self.length = end
        return self._norm(x, self.final_norm) @ self.head

    def _attention(
        self,
        index: int,
        layer: LayerWeights,
        x: np.ndarray,
        cos: np.ndarray,
        sin: np.ndarray,
        mask: np.ndarray | None,
        start: int,
        end: int,
    ) -> np.ndarray:
        s = self.shape
        count, group = x.shape[0], s.heads // s.kv_heads
        qkv = self._norm(x, layer.attention_norm) @ layer.qkv
        q_end, k_end = s.heads * s.head_dim, (s.heads + s.kv_heads) * s.head_dim
        queries = qkv[:, :q_end].reshape(count, s.heads, s.head_dim).transpose(1, 0, 2)
        keys = qkv[:, q_end:k_end].reshape(count, s.kv_heads, s.head_dim).transpose(1, 0, 2)
        values = qkv[:, k_end:].reshape(count, s.kv_heads, s.head_dim).transpose(1, 0, 2)
        cached_keys, cached_values = self._keys[index], self._values[index]
        cached_keys[:, start:end] = rope(keys, cos, sin)
        cached_values[:, start:end] = values
        # Heads h * group ... h * group + group - 1 share key/value head h.
        queries = rope(queries, cos, sin).reshape(s.kv_heads, group * count, s.head_dim)
        scores = queries @ cached_keys[:, :end].transpose(0, 2, 1)
        scores *= np.float32(s.head_dim**-0.5)
        if mask is not None:
            scores = (scores.reshape(s.kv_heads, group, count, end) + mask).reshape(
                s.kv_heads, group * count, end
            )
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        scores /= scores.sum(axis=-1, keepdims=True)
        out = scores @ cached_values[:, :end]
        out = out.reshape(s.heads, count, s.head_dim).transpose(1, 0, 2).reshape(count, -1)
        return out @ layer.output

    def _mlp(self, layer: LayerWeights, x: np.ndarray) -> np.ndarray:
        gate_up = self._norm(x, layer.mlp_norm) @ layer.gate_up
        gate, up = gate_up[:, : self.shape.intermediate], gate_up[:, self.shape.intermediate :]
        return (gate / (1 + np.exp(-gate)) * up) @ layer.down

    def _norm(self, x: np.ndarray, weight: np.ndarray) -> np.ndarray:
        return x * inverse_rms(x, np.float32(self.shape.norm_eps)) * weight

    def _reserve(self, size: int) -> None:
        """Grow the KV cache and RoPE tables to hold `size` positions."""
        if size <= self._capacity:
            return
        capacity = max(_INITIAL_CAPACITY, self._capacity)
        while capacity < size:
            capacity *= 2
        s = self.shape
        for buffers in (self._keys, self._values):
            grown = []
            for layer in range(len(self.layers)):
                buffer = np.zeros((s.kv_heads, capacity, s.head_dim), np.float32)
                if buffers:
                    buffer[:, : self._capacity] = buffers[layer][:, : self._capacity]
                grown.append(buffer)
            buffers[:] = grown
        angles = np.outer(np.arange(capacity, dtype=np.float32), self._inverse_frequencies)
        self._cos, self._sin = np.cos(angles), np.sin(angles)
        self._capacity = capacity


def inverse_rms(x: np.ndarray, eps: np.float32) -> np.ndarray:
    """1 / RMS of each row of `x` (over the last axis), as RMSNorm scales it."""
    return 1 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)


def rope(x: np.ndarray, cos: np.ndarray, sin: np.ndarray) -> np.ndarray:
    """Rotary position embedding on halves (mlx-lm's non-traditional RoPE).

    `cos`/`sin` broadcast against `x`'s halves (for example x (heads, n, dim) with (n, dim / 2),
    or x (n, heads, dim) with (n, 1, dim / 2)); `-sin` applies the inverse rotation.
    """
    half = x.shape[-1] // 2
    first, second = x[..., :half], x[..., half:]
    return np.concatenate([first * cos - second * sin, first * sin + second * cos], axis=-1)
