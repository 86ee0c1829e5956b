"""Convert a llama-architecture GGUF file into a float32 mlx-lm model directory.

mlx reads GGUF natively but keeps the weights quantized, and quantized matmuls don't use
BLAS on CPU, so training and generation run on dequantized float32 weights. The tokenizer
is rebuilt with `tokenizers` from the GGUF vocabulary and merges, with SmolLM2's digit
splitting (transformers' GGUF loader drops it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import mlx.core as mx
import numpy as np
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors

CONVERTER_VERSION = 2
"""Bumped when the output changes, so cached conversions are rebuilt."""

_LAYER_NAMES = {
    "attn_norm": "input_layernorm",
    "ffn_norm": "post_attention_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_TOP_NAMES = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
}
_CONTROL_TOKEN = 3  # llama.cpp's LLAMA_TOKEN_TYPE_CONTROL


class GGUFError(ValueError):
    """The GGUF file is not a llama model this converter understands."""


def _scalar(metadata: Mapping[str, Any], key: str) -> Any:
    if key not in metadata:
        raise GGUFError(f"GGUF metadata has no {key!r}")
    value = metadata[key]
    return value.item() if isinstance(value, mx.array) else value


def _int(metadata: Mapping[str, Any], key: str, default: int) -> int:
    return int(_scalar(metadata, key)) if key in metadata else default


def hf_name(gguf_name: str) -> str:
    """The mlx-lm (Hugging Face) parameter name of a GGUF tensor name."""
    stem, _, suffix = gguf_name.rpartition(".")
    if stem in _TOP_NAMES:
        return f"{_TOP_NAMES[stem]}.{suffix}"
    parts = stem.split(".")
    if len(parts) == 3 and parts[0] == "blk" and parts[2] in _LAYER_NAMES:
        return f"model.layers.{parts[1]}.{_LAYER_NAMES[parts[2]]}.{suffix}"
    raise GGUFError(f"unexpected GGUF tensor {gguf_name!r}")


def unpermute_rope(weight: mx.array, n_heads: int) -> mx.array:
    """Undo llama.cpp's Q/K row permutation (interleaved rope pairs back to HF halves)."""
    rows, cols = weight.shape
    head_dim = rows // n_heads
    return weight.reshape(n_heads, head_dim // 2, 2, cols).swapaxes(1, 2).reshape(rows, cols)


def dequantize_weights(raw: Mapping[str, mx.array]) -> dict[str, mx.array]:
    """Float32 weights keyed by GGUF name, dequantized from mlx's affine packing."""
    out: dict[str, mx.array] = {}
    for name, value in raw.items():
        if name.endswith((".scales", ".biases")):
            continue
        stem = name.removesuffix(".weight")
        scales = raw.get(f"{stem}.scales")
        if scales is None:
            out[name] = value.astype(mx.float32)
            continue
        group_size = 32
        bits = value.shape[-1] * 32 // (scales.shape[-1] * group_size)
        # float32 scales: with mlx's float16 ones the result is rounded to float16.
        out[name] = mx.dequantize(
            value,
            scales.astype(mx.float32),
            raw[f"{stem}.biases"].astype(mx.float32),
            group_size=group_size,
            bits=bits,
        )
    return out


def model_config(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The mlx-lm `config.json` for a llama GGUF, every field read from its metadata."""
    arch = _scalar(metadata, "general.architecture")
    if arch != "llama":
        raise GGUFError(f"only llama GGUF models are supported, not {arch!r}")
    n_heads = int(_scalar(metadata, "llama.attention.head_count"))
    hidden = int(_scalar(metadata, "llama.embedding_length"))
    tokens = metadata["tokenizer.ggml.tokens"]
    config: dict[str, Any] = {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": hidden,
        "num_hidden_layers": int(_scalar(metadata, "llama.block_count")),
        "intermediate_size": int(_scalar(metadata, "llama.feed_forward_length")),
        "num_attention_heads": n_heads,
        "num_key_value_heads": _int(metadata, "llama.attention.head_count_kv", n_heads),
        "head_dim": hidden // n_heads,
        # float32 metadata: round away the binary noise (1e-05 not 9.99999974e-06)
        "rms_norm_eps": float(f"{_scalar(metadata, 'llama.attention.layer_norm_rms_epsilon'):.6g}"),
        "rope_theta": float(f"{_scalar(metadata, 'llama.rope.freq_base'):.6g}"),
        "rope_traditional": False,
        "max_position_embeddings": int(_scalar(metadata, "llama.context_length")),
        "vocab_size": len(tokens),
        "tie_word_embeddings": True,
        "bos_token_id": int(_scalar(metadata, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": int(_scalar(metadata, "tokenizer.ggml.eos_token_id")),
        "torch_dtype": "float32",
    }
    if "tokenizer.ggml.padding_token_id" in metadata:
        config["pad_token_id"] = int(_scalar(metadata, "tokenizer.ggml.padding_token_id"))
    return config


def convert_weights(raw: Mapping[str, mx.array], config: Mapping[str, Any]) -> dict[str, mx.array]:
    """HF-layout float32 weights (Q/K unpermuted for `rope_traditional: false`)."""
    weights: dict[str, mx.array] = {}
    for name, value in dequantize_weights(raw).items():
        if name.startswith("blk.") and ".attn_q." in name:
            value = unpermute_rope(value, config["num_attention_heads"])
        elif name.startswith("blk.") and ".attn_k." in name:
            value = unpermute_rope(value, config["num_key_value_heads"])
        weights[hf_name(name)] = value
    head = weights.get("lm_head.weight")
    if head is not None and mx.array_equal(head, weights["model.embed_tokens.weight"]).item():
        del weights["lm_head.weight"]
    return weights


def build_tokenizer(metadata: Mapping[str, Any]) -> Tokenizer:
    """A byte-level BPE `tokenizers.Tokenizer` from the GGUF vocabulary and merges."""
    if _scalar(metadata, "tokenizer.ggml.model") != "gpt2":
        raise GGUFError("only byte-level BPE (gpt2) GGUF tokenizers are supported")
    tokens: list[str] = list(metadata["tokenizer.ggml.tokens"])
    merges = [tuple(merge.split(" ", 1)) for merge in metadata["tokenizer.ggml.merges"]]
    unk_id = _int(metadata, "tokenizer.ggml.unknown_token_id", 0)
    bpe = models.BPE(
        vocab={token: index for index, token in enumerate(tokens)},
        merges=merges,
        unk_token=tokens[unk_id],
        fuse_unk=False,
        byte_fallback=False,
    )
    tokenizer = Tokenizer(bpe)
    # As SmolLM2's tokenizer.json: every digit its own pre-token, then GPT-2 byte level.
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
        ]
    )
    tokenizer.post_processor = processors.ByteLevel(trim_offsets=False)
    tokenizer.decoder = decoders.ByteLevel()
    types = np.array(metadata["tokenizer.ggml.token_type"])
    tokenizer.add_special_tokens(
        [
            AddedToken(tokens[i], special=True, normalized=False)
            for i in np.flatnonzero(types == _CONTROL_TOKEN)
        ]
    )
    return tokenizer


def tokenizer_config(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The `tokenizer_config.json` (special tokens and chat template) from GGUF metadata."""
    tokens = metadata["tokenizer.ggml.tokens"]

    def token(key: str) -> str | None:
        return tokens[int(_scalar(metadata, key))] if key in metadata else None

    config: dict[str, Any] = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": token("tokenizer.ggml.bos_token_id"),
        "eos_token": token("tokenizer.ggml.eos_token_id"),
        "pad_token": token("tokenizer.ggml.padding_token_id"),
        "unk_token": token("tokenizer.ggml.unknown_token_id"),
        "add_bos_token": bool(metadata.get("tokenizer.ggml.add_bos_token", False)),
        "clean_up_tokenization_spaces": False,
        "model_max_length": int(_scalar(metadata, "llama.context_length")),
    }
    if "tokenizer.chat_template" in metadata:
        config["chat_template"] = metadata["tokenizer.chat_template"]
    return {key: value for key, value in config.items() if value is not None}


def convert_gguf(gguf: Path, dest: Path) -> None:
    """Write an mlx-lm model directory (config, safetensors, tokenizer) for `gguf` into `dest`."""
    raw, metadata = cast(
        "tuple[dict[str, mx.array], dict[str, Any]]", mx.load(str(gguf), return_metadata=True)
    )
    config = model_config(metadata)
    weights = convert_weights(raw, config)
    config["tie_word_embeddings"] = "lm_head.weight" not in weights
    dest.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(dest / "model.safetensors"), weights, metadata={"format": "mlx"})
    (dest / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    build_tokenizer(metadata).save(str(dest / "tokenizer.json"))
    (dest / "tokenizer_config.json").write_text(
        json.dumps(tokenizer_config(metadata), indent=2) + "\n"
    )
    source = {"gguf": gguf.name, "converter_version": CONVERTER_VERSION}
    (dest / "punie_source.json").write_text(json.dumps(source, indent=2) + "\n")
