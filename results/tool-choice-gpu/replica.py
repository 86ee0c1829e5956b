"""A torch replica of the project's trainer for screening on a GPU (SmolLM2-135M, mlx-lm LoRA).

Same model weights (the embedded GGUF, dequantized, Q/K unpermuted as `gguf_convert` does),
same LoRA (all seven linears of every block, A ~ U(+-1/sqrt(in)), B = 0, y + scale * x A B),
same optimizer (mlx's Adam: no bias correction), same learning-rate schedule (linear warm-up
from warmup_init, then cosine decay to lr/10), the same examples in the same update groups
(`punie_train.sampling.update_group` on the tokenized mix `prepare.py` wrote) and the same
per-target loss weights. Only the floating-point order and the LoRA initial draw differ.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F


def load_gguf_weights(path: Path) -> dict[str, np.ndarray]:
    """HF-named float32 weights from the GGUF (dequantized, Q/K rows unpermuted)."""
    from gguf import GGUFReader
    from gguf.quants import dequantize

    reader = GGUFReader(path)
    out: dict[str, np.ndarray] = {}
    names = {
        "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
        "attn_output": "self_attn.o_proj", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
        "ffn_down": "mlp.down_proj", "attn_norm": "input_layernorm",
        "ffn_norm": "post_attention_layernorm",
    }  # fmt: skip
    for t in reader.tensors:
        value = dequantize(t.data, t.tensor_type).astype(np.float32)
        value = value.reshape(tuple(int(x) for x in reversed(t.shape)))
        if t.name == "token_embd.weight":
            out["embed"] = value
        elif t.name == "output_norm.weight":
            out["norm"] = value
        else:
            _, layer, kind, _ = t.name.split(".")
            if kind in ("attn_q", "attn_k"):
                heads = 9 if kind == "attn_q" else 3
                rows, cols = value.shape
                value = value.reshape(heads, rows // heads // 2, 2, cols).swapaxes(1, 2)
                value = value.reshape(rows, cols)
            out[f"layers.{layer}.{names[kind]}"] = value
    return out


LINEARS = (
    "self_attn.q_proj",
    "self_attn.k_proj",
    "self_attn.v_proj",
    "self_attn.o_proj",
    "mlp.gate_proj",
    "mlp.up_proj",
    "mlp.down_proj",
)


class LoRALinear(torch.nn.Module):
    def __init__(
        self, weight: torch.Tensor, rank: int, scale: float, train: bool, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(weight, requires_grad=False)
        out_dim, in_dim = weight.shape
        self.scale = scale
        self.dropout = dropout
        self.train_lora = train
        if train:
            bound = 1 / math.sqrt(in_dim)
            self.a = torch.nn.Parameter(
                torch.empty(in_dim, rank, device=weight.device).uniform_(-bound, bound)
            )
            self.b = torch.nn.Parameter(torch.zeros(rank, out_dim, device=weight.device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight.T
        if self.train_lora:
            # mlx-lm's LoRALinear: dropout on the LoRA branch's input, in training only
            z = F.dropout(x, self.dropout) if self.dropout and torch.is_grad_enabled() else x
            y = y + self.scale * ((z @ self.a) @ self.b)
        return y


def rms(x: torch.Tensor, w: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


class Llama(torch.nn.Module):
    """SmolLM2-135M: 30 blocks, 9 query / 3 key-value heads of 64, SiLU MLP, tied embeddings."""

    def __init__(
        self,
        w: dict[str, np.ndarray],
        device: str,
        rank: int,
        scale: float,
        num_layers: int,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        self.embed = torch.nn.Parameter(t(w["embed"]), requires_grad=False)
        self.norm = torch.nn.Parameter(t(w["norm"]), requires_grad=False)
        self.n_layers = 30
        first = 0 if num_layers < 0 else self.n_layers - num_layers
        self.blocks = torch.nn.ModuleList()
        for i in range(self.n_layers):
            p = f"layers.{i}."
            train = i >= first
            block = torch.nn.Module()
            for name in LINEARS:
                setattr(
                    block,
                    name.split(".")[1],
                    LoRALinear(t(w[p + name]), rank, scale, train, dropout),
                )
            block.ln1 = torch.nn.Parameter(t(w[p + "input_layernorm"]), requires_grad=False)
            block.ln2 = torch.nn.Parameter(
                t(w[p + "post_attention_layernorm"]), requires_grad=False
            )
            self.blocks.append(block)
        inv = 1.0 / (100000.0 ** (torch.arange(0, 64, 2, device=device).float() / 64))
        self.register_buffer("inv_freq", inv, persistent=False)

    def rope(self, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
        freqs = pos[..., None].float() * self.inv_freq  # [B, L, 32]
        cos = torch.cat([freqs.cos()] * 2, -1)[:, None]
        sin = torch.cat([freqs.sin()] * 2, -1)[:, None]
        x1, x2 = x[..., :32], x[..., 32:]
        return x * cos + torch.cat([-x2, x1], -1) * sin

    def hidden(
        self,
        tokens: torch.Tensor,
        pos: torch.Tensor | None = None,
        mask: torch.Tensor | None = None,
        cache: list | None = None,
    ) -> torch.Tensor:
        """Final-norm hidden states; `cache` (one slot per layer) keeps keys/values for decoding."""
        b, n = tokens.shape
        if pos is None:
            pos = torch.arange(n, device=tokens.device)[None].expand(b, n)
        h = F.embedding(tokens, self.embed)
        for i, blk in enumerate(self.blocks):
            x = rms(h, blk.ln1)
            q = blk.q_proj(x).view(b, n, 9, 64).transpose(1, 2)
            k = blk.k_proj(x).view(b, n, 3, 64).transpose(1, 2)
            v = blk.v_proj(x).view(b, n, 3, 64).transpose(1, 2)
            q, k = self.rope(q, pos), self.rope(k, pos)
            if cache is not None:
                if cache[i] is not None:
                    k = torch.cat([cache[i][0], k], 2)
                    v = torch.cat([cache[i][1], v], 2)
                cache[i] = (k, v)
            k = k.repeat_interleave(3, 1)
            v = v.repeat_interleave(3, 1)
            if mask is None:
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            else:
                a = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
            h = h + blk.o_proj(a.transpose(1, 2).reshape(b, n, 576))
            x = rms(h, blk.ln2)
            h = h + blk.down_proj(F.silu(blk.gate_proj(x)) * blk.up_proj(x))
        return rms(h, self.norm)

    def lora_parameters(self) -> list[torch.nn.Parameter]:
        return [p for n, p in self.named_parameters() if p.requires_grad]

    def lora_names(self) -> list[str]:
        """The names of `lora_parameters`, in the same order (`...a` / `...b`)."""
        return [n for n, p in self.named_parameters() if p.requires_grad]


def lr_at(update: int, lr: float, updates: int, warmup: int, warmup_init: float = 1e-5) -> float:
    """mlx-lm's schedule: linear warm-up over `warmup` steps, then cosine decay to lr/10."""
    if warmup and update < warmup + 1:
        return warmup_init + (lr - warmup_init) * min(update, warmup) / warmup
    step = update - (warmup + 1 if warmup else 0)
    decay = max(1, updates - warmup - 1)
    end = lr / 10
    return end + (lr - end) * 0.5 * (1 + math.cos(math.pi * min(step, decay) / decay))


class MlxAdam:
    """mlx.optimizers.Adam (betas 0.9/0.999, eps 1e-8, no bias correction)."""

    def __init__(
        self, params: list[torch.nn.Parameter], lr_factors: list[float] | None = None
    ) -> None:
        self.params = params
        self.factors = lr_factors or [1.0] * len(params)
        self.m = [torch.zeros_like(p) for p in params]
        self.v = [torch.zeros_like(p) for p in params]

    @torch.no_grad()
    def step(self, lr: float) -> None:
        for p, m, v, f in zip(self.params, self.m, self.v, self.factors, strict=True):
            g = p.grad
            m.mul_(0.9).add_(g, alpha=0.1)
            v.mul_(0.999).addcmul_(g, g, value=0.001)
            p.sub_(lr * f * m / (v.sqrt() + 1e-8))
            p.grad = None
