"""The training loss and its LoRA gradient computed in numpy, for llama models on the CPU.

mlx's CPU backend runs a training update as thousands of small operations one after another
on one stream thread, with a scalar `exp` (`results/speed-profile/`): an update of 8 examples
takes ~19 s for ~0.5 TFLOP that OpenBLAS does in ~3 s on large matrices. Here the same loss
(`punie_train.forward.batch_loss`: the shared prefix once, each example's suffix on top of it,
logits only where a token is trained, weighted cross-entropy) runs as one packed sequence:
every linear layer is one matrix product over all of the batch's tokens (prefix and suffixes
laid end to end) with its adapters merged into the frozen weight for the call (the same merged
weight gives the backward's input gradient), attention runs per segment (the prefix causally;
each suffix on the prefix's keys and its own, causally), the head's softmax runs a few rows
at a time in one buffer, and the backward is written out by hand. Only the LoRA matrices get
a gradient; the frozen weights are read once from the mlx model, the adapters at every call.
`NumpyGradient` has the signature of `mlx.nn.value_and_grad(model, batch_loss)`, so the
trainer's loop, optimizer, checkpoints and ranks stay mlx's.

`unsupported(model)` says why a model cannot be trained this way (not llama, DoRA, LoRA
dropout, quantized or biased layers); the trainer then keeps mlx's `value_and_grad`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, cast

import attrs
import mlx.core as mx
import mlx.nn as nn
import numpy as np
from mlx.utils import tree_flatten, tree_map_with_path
from mlx_lm.tuner.lora import LoRALinear

from punie_runtime.numpy_llama import (
    LayerWeights,
    Shape,
    float32_copy,
    inverse_rms,
    layer_weights,
    model_config,
    rope,
)
from punie_runtime.numpy_llama import unsupported as unsupported_config

_HEAD_ROWS = 64  # trained tokens whose logits are in memory at once

_PROJECTIONS = (
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
)


def _module(block: Any, name: str) -> Any:
    module = block
    for part in name.split("."):
        module = getattr(module, part)
    return module


def unsupported(model: nn.Module) -> str | None:
    """Why `model`'s LoRA gradient cannot be computed here, or None when it can."""
    reason = unsupported_config(model_config(model), "the numpy gradient")
    if reason is not None:
        return reason
    inner = getattr(model, "model", None)
    if inner is None or not hasattr(inner, "layers"):
        return "the model has no .model.layers"
    trained = {path for path, _ in _flat(model)}
    if any(not path.endswith((".lora_a", ".lora_b")) for path in trained):
        return "parameters other than LoRA matrices are trained"
    adapters = 0
    for index, block in enumerate(inner.layers):
        for name in _PROJECTIONS:
            layer = _module(block, name)
            linear = layer.linear if isinstance(layer, LoRALinear) else layer
            where = f"layer {index} {name}"
            if type(linear) is not nn.Linear or "bias" in linear:
                return f"{where} is not a plain linear layer without bias"
            if linear.weight.dtype != mx.float32:
                return f"{where} is not float32"
            if not isinstance(layer, LoRALinear):
                continue
            if not isinstance(layer.dropout, nn.Dropout) or layer.dropout._p_1 < 1.0:
                return f"{where} has LoRA dropout"
            path = f"model.layers.{index}.{name}"
            if {path + ".lora_a", path + ".lora_b"} - trained:
                return f"{where} has frozen LoRA matrices"
            adapters += 1
    if adapters == 0:
        return "the model has no LoRA layers"
    return None


def _flat(model: nn.Module) -> list[tuple[str, Any]]:
    return cast(list[tuple[str, Any]], tree_flatten(model.trainable_parameters()))


@attrs.frozen
class _Lora:
    """One adapted projection: where its output columns sit and its parameters' names."""

    start: int
    stop: int
    path: str
    scale: float


@attrs.frozen
class _Block:
    """One transformer block's frozen weights (the decoder's layout) and its adapters."""

    weights: LayerWeights
    qkv_loras: tuple[_Lora, ...]
    output_loras: tuple[_Lora, ...]
    gate_up_loras: tuple[_Lora, ...]
    down_loras: tuple[_Lora, ...]


@attrs.frozen
class _Merged:
    """A block's linear weights with its adapters merged in (for one call's parameters)."""

    qkv: np.ndarray
    output: np.ndarray
    gate_up: np.ndarray
    down: np.ndarray

    @classmethod
    def empty_like(cls, weights: LayerWeights) -> _Merged:
        """Uninitialised buffers of the shapes of a block's linear weights."""
        return cls(
            *map(np.empty_like, (weights.qkv, weights.output, weights.gate_up, weights.down))
        )


@attrs.frozen
class _Saved:
    """What a block's forward keeps for its backward."""

    x: np.ndarray
    inv1: np.ndarray
    n1: np.ndarray
    qkv_t: list[np.ndarray]
    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    probs: list[np.ndarray]
    attn: np.ndarray
    out_t: list[np.ndarray]
    h: np.ndarray
    inv2: np.ndarray
    n2: np.ndarray
    gate: np.ndarray
    up: np.ndarray
    sig: np.ndarray
    act: np.ndarray
    gu_t: list[np.ndarray]
    down_t: list[np.ndarray]


class NumpyGradient:
    """`(loss, LoRA gradient)` of `batch_loss` in numpy, called like mlx's `value_and_grad`."""

    def __init__(self, model: nn.Module) -> None:
        reason = unsupported(model)
        if reason is not None:
            raise ValueError(f"cannot compute the gradient in numpy: {reason}")
        args = cast(Any, model).args
        shape = Shape.of(args)
        self.heads, self.kv_heads = shape.heads, shape.kv_heads
        self.head_dim, self.intermediate = shape.head_dim, shape.intermediate
        self.eps = np.float32(shape.norm_eps)
        self._inverse_frequencies = shape.inverse_frequencies
        inner = cast(Any, model).model
        self.blocks = tuple(self._block(index, block) for index, block in enumerate(inner.layers))
        self.embedding = float32_copy(inner.embed_tokens.weight)
        tied = getattr(args, "tie_word_embeddings", True)
        self.head = self.embedding if tied else float32_copy(cast(Any, model).lm_head.weight)
        self.final_norm = float32_copy(inner.norm.weight)
        # Reused every call: fresh memory of this size costs more to touch than to fill.
        self._merge_buffers = tuple(_Merged.empty_like(block.weights) for block in self.blocks)

    def _block(self, index: int, block: Any) -> _Block:
        def frozen(layer: Any) -> np.ndarray:
            return float32_copy((layer.linear if isinstance(layer, LoRALinear) else layer).weight)

        def loras(names: Sequence[str]) -> tuple[_Lora, ...]:
            found, start = [], 0
            for name in names:
                layer = _module(block, name)
                stop = start + int(
                    (layer.linear if isinstance(layer, LoRALinear) else layer).weight.shape[0]
                )
                if isinstance(layer, LoRALinear):
                    path = f"model.layers.{index}.{name}"
                    found.append(_Lora(start, stop, path, float(layer.scale)))
                start = stop
            return tuple(found)

        qkv_names, gu_names = _PROJECTIONS[:3], _PROJECTIONS[4:6]
        return _Block(
            weights=layer_weights(block, frozen),
            qkv_loras=loras(qkv_names),
            output_loras=loras(_PROJECTIONS[3:4]),
            gate_up_loras=loras(gu_names),
            down_loras=loras(_PROJECTIONS[6:]),
        )

    def __call__(
        self,
        model: nn.Module,
        prefix: mx.array,
        suffixes: list[mx.array],
        positions: mx.array,
        targets: mx.array,
        weights: mx.array,
        *,
        split_head: bool = True,
        prefix_gradient: bool = True,
    ) -> tuple[mx.array, Any]:
        """The batch's loss and the gradient of every LoRA matrix, as mlx arrays.

        `split_head` is accepted for the signature (logits are always computed only where a
        token is trained, which is exact).
        """
        del split_head
        params = {path: float32_copy(value) for path, value in _flat(model)}
        loss, grads = self.loss_and_grad(
            params,
            np.array(prefix, dtype=np.int64),
            [np.array(s, dtype=np.int64) for s in suffixes],
            np.array(positions, dtype=np.int64),
            np.array(targets, dtype=np.int64),
            np.array(weights, dtype=np.float32),
            prefix_gradient=prefix_gradient,
        )
        tree = tree_map_with_path(
            lambda path, _: mx.array(grads[path]), model.trainable_parameters()
        )
        return mx.array(loss, dtype=mx.float32), tree

    def loss_and_grad(
        self,
        params: dict[str, np.ndarray],
        prefix: np.ndarray,
        suffixes: Sequence[np.ndarray],
        positions: np.ndarray,
        targets: np.ndarray,
        weights: np.ndarray,
        *,
        prefix_gradient: bool = True,
    ) -> tuple[float, dict[str, np.ndarray]]:
        """The loss and LoRA gradient (keyed by parameter path) on numpy inputs."""
        p = len(prefix)
        tokens = np.concatenate([prefix, *suffixes])
        segments, offset = [(0, p)] if p else [], p
        for suffix in suffixes:
            segments.append((offset, offset + len(suffix)))
            offset += len(suffix)
        rows = np.concatenate([np.arange(p), *[p + np.arange(len(s)) for s in suffixes]])
        angles = np.outer(rows.astype(np.float32), self._inverse_frequencies)
        cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]
        x = self.embedding[tokens]
        merged = [
            self._merged(block, buffers, params)
            for block, buffers in zip(self.blocks, self._merge_buffers, strict=True)
        ]
        saved = []
        for block, merge in zip(self.blocks, merged, strict=True):
            state, x = self._forward(block, merge, params, x, cos, sin, segments, p)
            saved.append(state)
        picked = p + positions
        hidden = x[picked]
        inv = inverse_rms(hidden, self.eps)
        normed = hidden * inv * self.final_norm
        loss, dnormed = self._head(normed, targets, weights)
        lo = 0 if prefix_gradient else p
        dx = np.zeros((len(tokens) - lo, x.shape[1]), np.float32)
        dx[picked - lo] = _norm_backward(hidden, inv, self.final_norm, dnormed)
        grads: dict[str, np.ndarray] = {}
        for block, merge, state in zip(
            reversed(self.blocks), reversed(merged), reversed(saved), strict=True
        ):
            dx = self._backward(block, merge, params, state, dx, cos, sin, segments, p, lo, grads)
        return loss, grads

    @staticmethod
    def _merged(block: _Block, buffers: _Merged, params: dict[str, np.ndarray]) -> _Merged:
        """The block's linear weights with the adapters of `params` merged (into `buffers`)."""
        frozen = block.weights
        return _Merged(
            qkv=_merge(frozen.qkv, block.qkv_loras, params, buffers.qkv),
            output=_merge(frozen.output, block.output_loras, params, buffers.output),
            gate_up=_merge(frozen.gate_up, block.gate_up_loras, params, buffers.gate_up),
            down=_merge(frozen.down, block.down_loras, params, buffers.down),
        )

    def _head(
        self, normed: np.ndarray, targets: np.ndarray, weights: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The weighted cross-entropy of the trained tokens and its gradient at `normed`.

        The logits go through one buffer of `_HEAD_ROWS` rows at a time: a vocabulary-wide
        array per token would be hundreds of MB of fresh memory, and first-touching fresh
        memory costs more here than the exp and the products.
        """
        rows = len(targets)
        dnormed = np.empty_like(normed)
        losses = np.empty(rows, np.float64)
        buffer = np.empty((min(rows, _HEAD_ROWS), len(self.head)), np.float32)
        for start in range(0, rows, _HEAD_ROWS):
            stop = min(rows, start + _HEAD_ROWS)
            count, wanted = stop - start, targets[start:stop]
            logits = buffer[:count]
            np.matmul(normed[start:stop], self.head.T, out=logits)
            top = logits.max(axis=-1, keepdims=True)
            logits -= top
            chosen = logits[np.arange(count), wanted]
            np.exp(logits, out=logits)
            total = logits.sum(axis=-1, keepdims=True)
            losses[start:stop] = np.log(total[:, 0]) - chosen
            scale = weights[start:stop, None]
            logits *= scale / total
            logits[np.arange(count), wanted] -= scale[:, 0]
            np.matmul(logits, self.head, out=dnormed[start:stop])
        return float(np.dot(losses, weights.astype(np.float64))), dnormed

    def _forward(
        self,
        block: _Block,
        merged: _Merged,
        params: dict[str, np.ndarray],
        x: np.ndarray,
        cos: np.ndarray,
        sin: np.ndarray,
        segments: Sequence[tuple[int, int]],
        p: int,
    ) -> tuple[_Saved, np.ndarray]:
        """The block's output on `x` and what its backward needs."""
        frozen = block.weights
        count = len(x)
        inv1 = inverse_rms(x, self.eps)
        n1 = x * inv1 * frozen.attention_norm
        qkv, qkv_t = _linear(n1, merged.qkv, block.qkv_loras, params)
        q_end = self.heads * self.head_dim
        k_end = q_end + self.kv_heads * self.head_dim
        q = rope(qkv[:, :q_end].reshape(count, self.heads, self.head_dim), cos, sin)
        k = rope(qkv[:, q_end:k_end].reshape(count, self.kv_heads, self.head_dim), cos, sin)
        v = np.ascontiguousarray(qkv[:, k_end:].reshape(count, self.kv_heads, self.head_dim))
        attn = np.empty((count, q_end), np.float32)
        probs = self._attend(segments, q, k, v, attn, p)
        out, out_t = _linear(attn, merged.output, block.output_loras, params)
        h = x + out
        inv2 = inverse_rms(h, self.eps)
        n2 = h * inv2 * frozen.mlp_norm
        gate_up, gu_t = _linear(n2, merged.gate_up, block.gate_up_loras, params)
        gate, up = gate_up[:, : self.intermediate], gate_up[:, self.intermediate :]
        sig = np.negative(gate)
        with np.errstate(over="ignore"):  # exp(-gate) = inf is a sigmoid of 0, as it should
            np.exp(sig, out=sig)
        sig += 1
        np.reciprocal(sig, out=sig)
        act = gate * sig
        act *= up
        down, down_t = _linear(act, merged.down, block.down_loras, params)
        saved = _Saved(
            x, inv1, n1, qkv_t, q, k, v, probs, attn, out_t, h, inv2, n2, gate, up, sig, act,
            gu_t, down_t,
        )  # fmt: skip
        return saved, h + down

    def _attend(
        self,
        segments: Sequence[tuple[int, int]],
        q: np.ndarray,
        k: np.ndarray,
        v: np.ndarray,
        attn: np.ndarray,
        p: int,
    ) -> list[np.ndarray]:
        """Attention of `segments` (their rows of `attn`); each segment's probabilities."""
        probs = []
        scale = np.float32(self.head_dim**-0.5)
        group = self.heads // self.kv_heads
        for start, stop in segments:
            n = stop - start
            keys, values = _segment_keys(k, v, start, stop, p)
            scores = (self._grouped(q[start:stop]) * scale) @ keys.transpose(0, 2, 1)
            scores[..., keys.shape[1] - n :] += _causal_mask(n, group)
            scores -= scores.max(axis=-1, keepdims=True)
            np.exp(scores, out=scores)
            scores *= 1 / scores.sum(axis=-1, keepdims=True)
            probs.append(scores)
            attn[start:stop] = self._ungrouped(scores @ values, n)
        return probs

    def _attend_backward(
        self,
        work: Sequence[tuple[tuple[int, int], np.ndarray]],
        s: _Saved,
        dattn: np.ndarray,
        grads: tuple[np.ndarray, np.ndarray, np.ndarray],
        p: int,
        lo: int,
    ) -> tuple[np.ndarray, np.ndarray]:
        """The attention backward of `work`'s segments (with their probabilities).

        Writes each segment's own rows of `grads` (dq, dk, dv); returns what the segments
        give the prefix's keys and values, which several segments share.
        """
        dq, dk, dv = grads
        prefix_dk = np.zeros((p, self.kv_heads, self.head_dim), np.float32)
        prefix_dv = np.zeros_like(prefix_dk)
        scale = np.float32(self.head_dim**-0.5)
        for (start, stop), probs in work:
            n = stop - start
            keys, values = _segment_keys(s.k, s.v, start, stop, p)
            dout = self._grouped(dattn[start - lo : stop - lo].reshape(n, self.heads, -1))
            # sum_j P_ij dP_ij = dO_i . O_i (O = P V): the softmax backward without a pass
            out = self._grouped(s.attn[start:stop].reshape(n, self.heads, -1))
            delta = (dout * out).sum(axis=-1, keepdims=True)
            dscores = dout @ values.transpose(0, 2, 1)
            dvalues = probs.transpose(0, 2, 1) @ dout
            dscores -= delta
            dscores *= probs
            dqueries = (dscores @ keys) * scale
            dkeys = dscores.transpose(0, 2, 1) @ (self._grouped(s.q[start:stop]) * scale)
            dq[start:stop] = self._ungrouped(dqueries, n).reshape(n, self.heads, -1)
            own = keys.shape[1] - n  # the prefix's keys come first for a suffix
            if start < p:  # the prefix itself
                prefix_dk += dkeys.transpose(1, 0, 2)
                prefix_dv += dvalues.transpose(1, 0, 2)
                continue
            dk[start:stop] = dkeys[:, own:].transpose(1, 0, 2)
            dv[start:stop] = dvalues[:, own:].transpose(1, 0, 2)
            if own and lo == 0:
                prefix_dk += dkeys[:, :own].transpose(1, 0, 2)
                prefix_dv += dvalues[:, :own].transpose(1, 0, 2)
        return prefix_dk, prefix_dv

    def _grouped(self, x: np.ndarray) -> np.ndarray:
        """(n, heads, dim) -> (kv_heads, group * n, dim): heads sharing a key/value head."""
        return x.transpose(1, 0, 2).reshape(self.kv_heads, -1, self.head_dim)

    def _ungrouped(self, x: np.ndarray, n: int) -> np.ndarray:
        """(kv_heads, group * n, dim) -> (n, heads * dim)."""
        return x.reshape(self.heads, n, self.head_dim).transpose(1, 0, 2).reshape(n, -1)

    def _backward(
        self,
        block: _Block,
        merged: _Merged,
        params: dict[str, np.ndarray],
        s: _Saved,
        dx: np.ndarray,
        cos: np.ndarray,
        sin: np.ndarray,
        segments: Sequence[tuple[int, int]],
        p: int,
        lo: int,
        grads: dict[str, np.ndarray],
    ) -> np.ndarray:
        """The gradient at the block's input (rows from `lo`), adding its LoRA gradients."""
        frozen = block.weights
        dact = _linear_backward(
            s.act[lo:], s.down_t, merged.down, block.down_loras, params, dx, lo, grads
        )
        gate, sig, up = s.gate[lo:], s.sig[lo:], s.up[lo:]
        dgate_up = np.empty((len(dact), 2 * self.intermediate), np.float32)
        dgate, dup = dgate_up[:, : self.intermediate], dgate_up[:, self.intermediate :]
        np.multiply(dact, sig, out=dgate)
        np.multiply(dgate, gate, out=dup)  # d up = dact * silu(gate)
        slope = 1 - sig  # d silu / d gate = sig * (1 + gate * (1 - sig))
        slope *= gate
        slope += 1
        slope *= up
        dgate *= slope
        dn2 = _linear_backward(
            s.n2[lo:],
            s.gu_t,
            merged.gate_up,
            block.gate_up_loras,
            params,
            dgate_up,
            lo,
            grads,
        )
        dh = dx + _norm_backward(s.h[lo:], s.inv2[lo:], frozen.mlp_norm, dn2)
        dattn = _linear_backward(
            s.attn[lo:], s.out_t, merged.output, block.output_loras, params, dh, lo, grads
        )
        count = len(s.x)
        dq = np.zeros((count, self.heads, self.head_dim), np.float32)
        dk = np.zeros((count, self.kv_heads, self.head_dim), np.float32)
        dv = np.zeros_like(dk)
        work = [(seg, probs) for seg, probs in zip(segments, s.probs, strict=True) if seg[1] > lo]
        prefix_dk, prefix_dv = self._attend_backward(work, s, dattn, (dq, dk, dv), p, lo)
        dk[:p] += prefix_dk
        dv[:p] += prefix_dv
        dqkv = np.concatenate(
            [
                rope(dq[lo:], cos[lo:], -sin[lo:]).reshape(count - lo, -1),
                rope(dk[lo:], cos[lo:], -sin[lo:]).reshape(count - lo, -1),
                dv[lo:].reshape(count - lo, -1),
            ],
            axis=1,
        )
        dn1 = _linear_backward(
            s.n1[lo:], s.qkv_t, merged.qkv, block.qkv_loras, params, dqkv, lo, grads
        )
        return dh + _norm_backward(s.x[lo:], s.inv1[lo:], frozen.attention_norm, dn1)


def _norm_backward(
    x: np.ndarray, inv: np.ndarray, weight: np.ndarray, dnormed: np.ndarray
) -> np.ndarray:
    """Gradient at `x` of `x * inv(x) * weight` (RMSNorm), given the output's `dnormed`."""
    scaled = dnormed * weight
    mean = np.mean(scaled * x, axis=-1, keepdims=True)
    return inv * (scaled - x * (inv * inv) * mean)


def _segment_keys(
    k: np.ndarray, v: np.ndarray, start: int, stop: int, p: int
) -> tuple[np.ndarray, np.ndarray]:
    """A segment's keys/values (kv_heads, keys, dim): the prefix's, then its own (a suffix)."""
    if start < p or p == 0:
        return k[start:stop].transpose(1, 0, 2), v[start:stop].transpose(1, 0, 2)
    keys = np.concatenate([k[:p], k[start:stop]]).transpose(1, 0, 2)
    values = np.concatenate([v[:p], v[start:stop]]).transpose(1, 0, 2)
    return keys, values


@functools.lru_cache(maxsize=64)
def _causal_mask(n: int, group: int) -> np.ndarray:
    """Causal mask of `n` queries over their own `n` keys, repeated for `group` heads."""
    mask = np.triu(np.full((n, n), -np.inf, np.float32), 1)
    return np.tile(mask, (group, 1))


def _merge(
    weight: np.ndarray,
    loras: Sequence[_Lora],
    params: dict[str, np.ndarray],
    out: np.ndarray,
) -> np.ndarray:
    """`weight` with each adapter's `scale * A @ B` added to its columns (in `out`).

    One product with the merged weight replaces the adapters' rank-r products and their adds
    over every token's output (memory-bound, a quarter of a linear layer's time); the same
    merged weight gives the gradient at the input in the backward.
    """
    if not loras:
        return weight
    np.copyto(out, weight)
    for lora in loras:
        a, b = params[lora.path + ".lora_a"], params[lora.path + ".lora_b"]
        out[:, lora.start : lora.stop] += (np.float32(lora.scale) * a) @ b
    return out


def _linear(
    x: np.ndarray, merged: np.ndarray, loras: Sequence[_Lora], params: dict[str, np.ndarray]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """`x @ merged` (the frozen weight with its adapters merged) and each adapter's `x @ A`."""
    return x @ merged, [x @ params[lora.path + ".lora_a"] for lora in loras]


def _linear_backward(
    x: np.ndarray,
    inner: Sequence[np.ndarray],
    merged: np.ndarray,
    loras: Sequence[_Lora],
    params: dict[str, np.ndarray],
    dout: np.ndarray,
    lo: int,
    grads: dict[str, np.ndarray],
) -> np.ndarray:
    """`_linear`'s gradient at `x` (rows from `lo`); the adapters' gradients go to `grads`."""
    for lora, t in zip(loras, inner, strict=True):
        scale = np.float32(lora.scale)
        dcols = dout[:, lora.start : lora.stop]
        grads[lora.path + ".lora_b"] = scale * (t[lo:].T @ dcols)
        dt = scale * (dcols @ params[lora.path + ".lora_b"].T)
        grads[lora.path + ".lora_a"] = x.T @ dt
    return dout @ merged.T
