"""An independent reference for the converter: a numpy GGUF reader and llama forward pass.

It parses the GGUF bytes itself (not through mlx), dequantizes Q4_1/Q8_0 blocks as llama.cpp
defines them, and runs the model in float64 with llama.cpp's own rope (rotating adjacent
pairs of the permuted Q/K rows), so it shares no code or layout choice with the converter.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

_SCALARS = {0: "<u1", 1: "<i1", 2: "<u2", 3: "<i2", 4: "<u4", 5: "<i4", 6: "<f4", 7: "<?"}
_SCALARS |= {10: "<u8", 11: "<i8", 12: "<f8"}
_STRING, _ARRAY = 8, 9
# ggml type -> (elements, bytes) per block: F32, F16, Q4_1, Q8_0
_BLOCKS = {0: (1, 4), 1: (1, 2), 3: (32, 20), 8: (32, 34)}

Tensor = tuple[int, tuple[int, ...], np.ndarray]


class _Cursor:
    def __init__(self, data: np.ndarray) -> None:
        self.data, self.pos = data, 0

    def scalar(self, dtype: str) -> Any:
        value = np.frombuffer(self.data, dtype=dtype, count=1, offset=self.pos)[0]
        self.pos += np.dtype(dtype).itemsize
        return value.item()

    def string(self) -> str:
        size = self.scalar("<u8")
        text = bytes(self.data[self.pos : self.pos + size]).decode("utf-8")
        self.pos += size
        return text

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            inner, count = self.scalar("<u4"), self.scalar("<u8")
            return [self.value(inner) for _ in range(count)]
        return self.scalar(_SCALARS[kind])


def read_gguf(path: Path) -> tuple[dict[str, Any], dict[str, Tensor]]:
    """Metadata and raw tensors (ggml type, numpy shape, bytes) of a GGUF v2/v3 file."""
    data = np.memmap(path, dtype=np.uint8, mode="r")
    if bytes(data[:4]) != b"GGUF":
        raise ValueError(f"{path} is not a GGUF file")
    cursor = _Cursor(data)
    cursor.pos = 4
    _version, n_tensors, n_kv = cursor.scalar("<u4"), cursor.scalar("<u8"), cursor.scalar("<u8")
    metadata = {}
    for _ in range(n_kv):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.scalar("<u4"))
    infos = []
    for _ in range(n_tensors):
        name = cursor.string()
        dims = [cursor.scalar("<u8") for _ in range(cursor.scalar("<u4"))]
        infos.append((name, cursor.scalar("<u4"), tuple(reversed(dims)), cursor.scalar("<u8")))
    align = metadata.get("general.alignment", 32)
    start = (cursor.pos + align - 1) // align * align
    tensors = {}
    for name, kind, shape, offset in infos:
        per_block, block_bytes = _BLOCKS[kind]
        size = int(np.prod(shape)) // per_block * block_bytes
        tensors[name] = (kind, shape, data[start + offset : start + offset + size])
    return metadata, tensors


def dequantize(tensor: Tensor) -> np.ndarray:
    """A GGUF tensor as float64, following ggml's block layouts."""
    kind, shape, raw = tensor
    if kind == 0:
        return raw.view("<f4").astype(np.float64).reshape(shape)
    if kind == 1:
        return raw.view("<f2").astype(np.float64).reshape(shape)
    if kind == 3:  # Q4_1: f16 d, f16 m, 16 bytes; low nibbles are elements 0-15, high 16-31
        blocks = raw.reshape(-1, 20)
        d = blocks[:, 0:2].copy().view("<f2").astype(np.float64)
        m = blocks[:, 2:4].copy().view("<f2").astype(np.float64)
        nibbles = np.concatenate([blocks[:, 4:] & 0x0F, blocks[:, 4:] >> 4], axis=1)
        return (d * nibbles + m).reshape(shape)
    if kind == 8:  # Q8_0: f16 d, 32 int8
        blocks = raw.reshape(-1, 34)
        d = blocks[:, 0:2].copy().view("<f2").astype(np.float64)
        return (d * blocks[:, 2:].copy().view(np.int8)).reshape(shape)
    raise ValueError(f"ggml type {kind} is not supported by the reference")


def forward(path: Path, ids: list[int]) -> np.ndarray:
    """Float64 logits of a llama GGUF model for a token sequence (no cache)."""
    meta, tensors = read_gguf(path)

    def weight(name: str) -> np.ndarray:
        return dequantize(tensors[name])

    n_head, n_kv = meta["llama.attention.head_count"], meta["llama.attention.head_count_kv"]
    eps, base = meta["llama.attention.layer_norm_rms_epsilon"], meta["llama.rope.freq_base"]
    embed = weight("token_embd.weight")
    x = embed[np.array(ids)]
    length, dim = x.shape
    head_dim = dim // n_head

    def norm(v: np.ndarray, w: np.ndarray) -> np.ndarray:
        return v / np.sqrt(np.mean(v * v, axis=-1, keepdims=True) + eps) * w

    # llama.cpp's rope for LLAMA: rotate adjacent pairs (2i, 2i+1) by pos * base^(-2i/d)
    angles = np.arange(length)[:, None] * base ** (-np.arange(0, head_dim, 2) / head_dim)
    cos, sin = np.cos(angles)[:, None, :], np.sin(angles)[:, None, :]

    def rope(t: np.ndarray) -> np.ndarray:
        even, odd = t[..., 0::2], t[..., 1::2]
        out = np.empty_like(t)
        out[..., 0::2] = even * cos - odd * sin
        out[..., 1::2] = even * sin + odd * cos
        return out

    mask = np.triu(np.full((length, length), -np.inf), 1)
    for i in range(meta["llama.block_count"]):
        p = f"blk.{i}."
        h = norm(x, weight(p + "attn_norm.weight"))
        q = rope((h @ weight(p + "attn_q.weight").T).reshape(length, n_head, head_dim))
        k = rope((h @ weight(p + "attn_k.weight").T).reshape(length, n_kv, head_dim))
        v = (h @ weight(p + "attn_v.weight").T).reshape(length, n_kv, head_dim)
        k, v = np.repeat(k, n_head // n_kv, axis=1), np.repeat(v, n_head // n_kv, axis=1)
        scores = np.einsum("qhd,khd->hqk", q, k) / np.sqrt(head_dim) + mask
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        attention = np.einsum("hqk,khd->qhd", scores, v).reshape(length, dim)
        x = x + attention @ weight(p + "attn_output.weight").T
        h = norm(x, weight(p + "ffn_norm.weight"))
        gate, up = h @ weight(p + "ffn_gate.weight").T, h @ weight(p + "ffn_up.weight").T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ weight(p + "ffn_down.weight").T
    return norm(x, weight("output_norm.weight")) @ embed.T
