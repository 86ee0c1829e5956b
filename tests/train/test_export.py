"""Tests of ``python -m punie_train export``: fused GGUF round trips, metadata, clear errors.

A LoRA adapter with random non-zero B matrices is fused into the embedded SmolLM2 and
exported (and a full fine-tune, noise on every layer, put in place of the base's weights);
each file is read back through the project's own converter (`gguf_convert`) and its logits
compared with the fused mlx model, and the float32 file also through the independent numpy
reader that applies llama.cpp's rope to llama.cpp's Q/K layout.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import mlx.core as mx
import numpy as np
import pytest
from gguf import GGMLQuantizationType, GGUFReader

from punie_runtime.base_model import BaseModel, embedded_gguf_path, load_model
from punie_runtime.gguf_convert import convert_gguf, unpermute_rope
from punie_runtime.gguf_export import FINE_TUNED_SUFFIX, export_gguf, fused_model, permute_rope
from punie_train.checkpoint import trainable_weights, write_adapter
from punie_train.cli import main
from punie_train.config import TrainConfig
from punie_train.export_cli import build_parser
from punie_train.step import apply_adapters
from tests.train.gguf_numpy import forward

PROMPT = (
    "<|im_start|>user\nWhich files changed in the last git commit?<|im_end|>\n"
    "<|im_start|>assistant\n"
)
# max |logit difference| to the fused mlx model, per exported type
TOLERANCE = {"f32": 1e-4, "f16": 0.15, "q8_0": 2.0}


def _random_adapter(model: Any, directory: Path, config: TrainConfig) -> Path:
    """LoRA layers with random non-zero B (a fresh adapter's B is zero), saved as training does."""
    apply_adapters(model, config)
    mx.random.seed(7)
    for _, module in model.named_modules():
        if hasattr(module, "lora_b"):
            module.lora_b = mx.random.normal(module.lora_b.shape) * 0.01
    return write_adapter(directory, trainable_weights(model), config, {"iteration": 0})


@pytest.fixture(name="setup", scope="module")
def fixture_setup(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The adapter, the prompt's ids and the logits of base, LoRA and fused mlx models."""
    model, tokenizer = load_model()
    ids = tokenizer.encode(PROMPT, add_special_tokens=False)
    base = np.array(model(mx.array([ids]))[0])
    adapter = _random_adapter(model, tmp_path_factory.mktemp("export") / "adapter", TrainConfig())
    lora = np.array(model(mx.array([ids]))[0])
    del model
    fused = fused_model(BaseModel.embedded(), adapter)
    logits = np.array(fused(mx.array([ids]))[0])
    return {
        "adapter": adapter,
        "ids": ids,
        "eos": tokenizer.eos_token_id,
        "base": base,
        "lora": lora,
        "fused": logits,
        "fused_model": fused,
        "out": tmp_path_factory.mktemp("gguf"),
    }


@pytest.fixture(name="exported", scope="module")
def fixture_exported(setup: dict[str, Any]) -> dict[str, Path]:
    """The adapter exported as f32 (through the CLI), f16 and q8_0."""
    out: Path = setup["out"]
    paths = {kind: out / f"punie-{kind}.gguf" for kind in TOLERANCE}
    args = ["export", "--gguf", str(paths["f32"]), "--adapter", str(setup["adapter"])]
    assert main([*args, "--type", "f32"]) == 0
    for kind in ("f16", "q8_0"):
        export_gguf(paths[kind], setup["adapter"], kind)
    return paths


@pytest.fixture(name="readers", scope="module")
def fixture_readers(exported: dict[str, Path]) -> dict[str, GGUFReader]:
    """Each exported file, and the embedded base as "source", opened by gguf's reader."""
    return {"source": GGUFReader(embedded_gguf_path())} | {
        kind: GGUFReader(path) for kind, path in exported.items()
    }


def _read_back(path: Path, ids: list[int]) -> np.ndarray:
    """Logits of a GGUF file converted by the project's own converter and loaded by mlx-lm."""
    from mlx_lm import load

    converted = path.with_suffix(".mlx")
    if not converted.is_dir():
        convert_gguf(path, converted)
    model = load(str(converted))[0]
    return np.array(model(mx.array([ids]))[0])


def test_fused_model_is_the_lora_model(setup: dict[str, Any]) -> None:
    """Fusing changes nothing the LoRA model computes, and the adapter changes the base."""
    assert np.abs(setup["fused"] - setup["lora"]).max() < 1e-3
    assert np.abs(setup["fused"] - setup["base"]).max() > 0.5


@pytest.mark.parametrize("kind", list(TOLERANCE))
def test_round_trip_through_the_converter(
    kind: str, setup: dict[str, Any], exported: dict[str, Path]
) -> None:
    """Each exported file, read back by gguf_convert, gives the fused model's logits."""
    logits = _read_back(exported[kind], setup["ids"])
    diff = np.abs(logits - setup["fused"])
    print(f"{kind}: {exported[kind].stat().st_size} bytes, max |logit diff| {diff.max():.3g}")
    assert diff.max() < TOLERANCE[kind]
    assert diff.mean() < TOLERANCE[kind] / 10
    # the greedy choice of the last position (the first reply token) is kept
    assert logits[-1].argmax() == setup["fused"][-1].argmax()


def test_f32_in_llama_cpp_layout(setup: dict[str, Any], exported: dict[str, Path]) -> None:
    """An independent reader using llama.cpp's rope on the file's Q/K rows agrees."""
    expected = forward(exported["f32"], setup["ids"])
    assert np.abs(expected - setup["fused"]).max() < 2e-3


def test_tensor_types_and_sizes(exported: dict[str, Path], readers: dict[str, GGUFReader]) -> None:
    """Matrices have the requested type, norm vectors stay F32, and sizes shrink with the type."""
    wanted = {
        "f32": GGMLQuantizationType.F32,
        "f16": GGMLQuantizationType.F16,
        "q8_0": GGMLQuantizationType.Q8_0,
    }
    for kind in exported:
        for tensor in readers[kind].tensors:
            matrix = len(tensor.shape) == 2
            assert tensor.tensor_type == (wanted[kind] if matrix else GGMLQuantizationType.F32)
    sizes = {kind: path.stat().st_size for kind, path in exported.items()}
    assert sizes["q8_0"] < sizes["f16"] < sizes["f32"]


def test_metadata_copied(readers: dict[str, GGUFReader]) -> None:
    """Tokenizer, chat template and hyperparameters are the base file's; tensors keep names."""
    source = readers["source"]
    for kind in TOLERANCE:
        copy = readers[kind]
        for key, field in source.fields.items():
            if key.startswith("GGUF.") or key in ("general.name", "general.file_type"):
                continue
            assert copy.fields[key].contents() == field.contents(), key
        name = copy.fields["general.name"].contents()
        assert name == source.fields["general.name"].contents() + FINE_TUNED_SUFFIX
        assert copy.fields["general.file_type"].contents() == {"f32": 0, "f16": 1, "q8_0": 7}[kind]
        assert [t.name for t in copy.tensors] == [t.name for t in source.tensors]
        assert [list(t.shape) for t in copy.tensors] == [list(t.shape) for t in source.tensors]
        assert "tokenizer.chat_template" in copy.fields
        assert len(copy.fields["tokenizer.ggml.tokens"].contents()) == 49152


def test_permute_inverts_the_converters_unpermute() -> None:
    """The export's Q/K permutation is the exact inverse of the converter's."""
    weight = np.arange(12 * 64 * 5, dtype=np.float32).reshape(12 * 64, 5)
    back = np.array(unpermute_rope(mx.array(permute_rope(weight, 12)), 12))
    np.testing.assert_array_equal(back, weight)
    assert not np.array_equal(permute_rope(weight, 12), weight)


def test_greedy_output_in_llama_cpp(setup: dict[str, Any], exported: dict[str, Path]) -> None:
    """With llama-cpp-python installed, llama.cpp's greedy reply equals the fused model's."""
    llama_cpp = pytest.importorskip("llama_cpp")
    ids: list[int] = setup["ids"]
    model = setup["fused_model"]
    expected: list[int] = []
    while len(expected) < 16:
        token = int(np.array(model(mx.array([ids + expected]))[0, -1]).argmax())
        if token == setup["eos"]:
            break
        expected.append(token)
    llm = llama_cpp.Llama(model_path=str(exported["f32"]), n_ctx=512, verbose=False)
    assert llm.tokenize(PROMPT.encode(), add_bos=False, special=True) == ids
    got: list[int] = []
    for token in llm.generate(ids, top_k=1, temp=0.0, repeat_penalty=1.0):
        if token == setup["eos"] or len(got) == len(expected):
            break
        got.append(token)
    assert got == expected


def test_llama_generator_answers_like_the_mlx_generator(
    setup: dict[str, Any], exported: dict[str, Path]
) -> None:
    """The llama.cpp engine on the f32 export gives the mlx engine's greedy reply and stops."""
    pytest.importorskip("llama_cpp")
    from mlx_lm.utils import load_tokenizer

    from punie_runtime.generate import Generator
    from punie_runtime.llama_generate import LlamaGenerator

    tokenizer = load_tokenizer(Path(BaseModel.embedded().resolve()))
    messages = [{"role": "user", "content": "Which files changed in the last git commit?"}]
    mlx_reply = Generator(setup["fused_model"], tokenizer, max_tokens=24).generate(messages)
    llama = LlamaGenerator(exported["f32"], tokenizer, max_tokens=24)
    first = llama.generate(messages)
    again = llama.generate(messages)  # the cached prefix is reused, the reply is the same
    assert first.text == mlx_reply.text and first.tokens == mlx_reply.tokens
    assert again.text == first.text and again.reused_tokens == again.prompt_tokens - 1
    assert first.stop == mlx_reply.stop


def test_llama_prompt_lookup_drafting_keeps_the_greedy_reply(
    setup: dict[str, Any], exported: dict[str, Path]
) -> None:
    """Drafting from the prompt checks several tokens per pass; the reply stays the greedy one."""
    pytest.importorskip("llama_cpp")
    from mlx_lm.utils import load_tokenizer

    from punie_runtime.llama_generate import LlamaGenerator

    tokenizer = load_tokenizer(Path(BaseModel.embedded().resolve()))
    line = "inventory/warehouse.py: def restock(item_id: int, quantity: int) -> None"
    messages = [{"role": "user", "content": f"Repeat this line exactly:\n{line}"}]
    plain = LlamaGenerator(exported["f32"], tokenizer, max_tokens=32, draft_tokens=0).generate(
        messages
    )
    drafted = LlamaGenerator(exported["f32"], tokenizer, max_tokens=32, draft_tokens=8)
    reply = drafted.generate(messages)
    assert reply.text == plain.text and reply.tokens == plain.tokens
    assert reply.stop == plain.stop
    assert 1 <= reply.forward_passes <= reply.generated_tokens
    assert plain.forward_passes == plain.generated_tokens


# --- bad input: one `error:` line, exit 2 ----------------------------------------------------


def _error(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["export", *args]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if line.startswith("error")]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_no_adapter_found(tmp_path: Path, monkeypatch, capsys) -> None:
    """Without --adapter and no trained run, the error says to train or pass --adapter."""
    monkeypatch.chdir(tmp_path)
    line = _error(["--gguf", "out.gguf"], capsys)
    assert "no trained adapter found" in line and "--adapter" in line
    assert not (tmp_path / "out.gguf").exists()


def _full_fine_tune(model: Any, directory: Path) -> Path:
    """Every layer's weights moved by random noise, saved as a full fine-tune's run does."""
    config = TrainConfig(fine_tune_type="full")
    apply_adapters(model, config)
    mx.random.seed(3)
    changed = {
        name: weight + mx.random.normal(weight.shape) * 0.01
        for name, weight in trainable_weights(model).items()
    }
    model.load_weights(list(changed.items()), strict=False)
    return write_adapter(directory, changed, config, {"iteration": 0})


def test_full_fine_tune_round_trip(setup: dict[str, Any], tmp_path: Path) -> None:
    """A full fine-tune (fine_tune_type: full) exports as its own weights, not the base's."""
    model = load_model()[0]
    adapter = _full_fine_tune(model, tmp_path / "full")
    ids = setup["ids"]
    expected = np.array(model(mx.array([ids]))[0])
    del model
    out = tmp_path / "full.gguf"
    export_gguf(out, adapter, "f32")
    logits = _read_back(out, ids)
    assert np.abs(logits - expected).max() < TOLERANCE["f32"]
    assert np.abs(logits - setup["base"]).max() > 0.5


def test_full_fine_tune_of_another_model(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    """A full fine-tune of another model (a tiny llama) is refused by its weights' shapes."""
    from mlx_lm import load

    adapter = _full_fine_tune(load(str(tiny_model_dir))[0], tmp_path / "tiny-full")
    line = _error(["--gguf", str(tmp_path / "o.gguf"), "--adapter", str(adapter)], capsys)
    assert "does not fit SmolLM2-135M-Instruct (embedded)" in line
    assert "weights of another shape" in line and "another model" in line
    assert not (tmp_path / "o.gguf").exists()


def test_not_an_adapter_directory(tmp_path: Path, capsys) -> None:
    """A directory without adapter files is named."""
    line = _error(["--gguf", str(tmp_path / "o.gguf"), "--adapter", str(tmp_path)], capsys)
    assert "is not an adapter directory" in line


def test_adapter_for_another_model(tiny_model_dir: Path, tmp_path: Path, capsys) -> None:
    """An adapter whose shapes are another model's (a tiny llama's) is refused by shape."""
    from mlx_lm import load

    model = load(str(tiny_model_dir))[0]
    adapter = _random_adapter(model, tmp_path / "tiny-adapter", TrainConfig())
    line = _error(["--gguf", str(tmp_path / "o.gguf"), "--adapter", str(adapter)], capsys)
    assert "does not fit SmolLM2-135M-Instruct (embedded)" in line
    assert "another model" in line
    assert not (tmp_path / "o.gguf").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny-adapter"]  # no leftovers


def test_adapter_naming_a_non_gguf_model(setup: dict[str, Any], tmp_path: Path, capsys) -> None:
    """An adapter whose config names a hub model cannot be exported (no GGUF base)."""
    adapter = tmp_path / "hub-adapter"
    adapter.mkdir()
    config = json.loads((setup["adapter"] / "adapter_config.json").read_text())
    config["model"] = "HuggingFaceTB/SmolLM2-360M-Instruct"
    (adapter / "adapter_config.json").write_text(json.dumps(config))
    (adapter / "adapters.safetensors").write_bytes(
        (setup["adapter"] / "adapters.safetensors").read_bytes()
    )
    line = _error(["--gguf", str(tmp_path / "o.gguf"), "--adapter", str(adapter)], capsys)
    assert "not a GGUF model" in line


@pytest.mark.parametrize("where", ["missing-dir/out.gguf", "a-file/out.gguf", "."])
def test_unwritable_path(where: str, setup: dict[str, Any], tmp_path: Path, capsys) -> None:
    """A destination that cannot be written fails at once, before any model is loaded."""
    (tmp_path / "a-file").write_text("x")
    target = tmp_path / where
    line = _error(["--gguf", str(target), "--adapter", str(setup["adapter"])], capsys)
    assert line.startswith(f"error: cannot write {target}")


def test_unknown_type(setup: dict[str, Any], tmp_path: Path, capsys) -> None:
    """An unknown --type is an argparse error (exit 2) listing the choices."""
    args = ["export", "--gguf", str(tmp_path / "o.gguf"), "--adapter", str(setup["adapter"])]
    with pytest.raises(SystemExit) as stopped:
        main([*args, "--type", "q4_k"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'q4_k'" in err and "q8_0" in err


def test_every_export_option_has_help() -> None:
    """``export --help`` explains every option."""
    undocumented = [
        action.option_strings
        for action in build_parser()._actions
        if action.help in (None, "", argparse.SUPPRESS)
    ]
    assert undocumented == []


def test_export_help_runs_as_a_module() -> None:
    """``python -m punie_train export --help`` prints the export options, exit 0."""
    done = subprocess.run(
        [sys.executable, "-m", "punie_train", "export", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert "--gguf" in done.stdout and "--type" in done.stdout and "llama-cli" in done.stdout
