"""Which engine answers: mlx or numpy on the float32 model, or llama.cpp on a GGUF file.

All give greedy replies through the same interface (`Generator`, `NumpyGenerator`,
`LlamaGenerator`: `prefill`, `generate`, `reset`) and a `Generation` with the same timings.
``auto`` takes llama.cpp when llama-cpp-python is installed (the optional ``llama`` extra) and
runs a batch here (checked once per process in a child); otherwise numpy for a llama-family
model (the embedded one: ~2x mlx's speed on a CPU, the same tool calls), and mlx for the rest.
For llama.cpp
a trained adapter is fused and exported as a GGUF of `gguf_type` (`gguf_export`), once per
adapter and type (the file is kept beside the adapter); a base model runs from its own GGUF
file. `bench/generate.py --engines` measures each engine's speed and whether its greedy tool
calls are those of the mlx path; the default type is the fastest one that kept them.
"""

from __future__ import annotations

import functools
import importlib
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import attrs

from punie_runtime.base_model import BaseModel, BaseModelError, embedded_gguf_path

if TYPE_CHECKING:
    from punie_runtime.greedy_chat import Generation, TokenCallback

ENGINES: tuple[str, ...] = ("auto", "mlx", "numpy", "llama")
"""What `--engine` accepts."""
MLX_ENGINE = "mlx (float32)"
"""How the mlx engine describes itself (and what evaluations from before engines used)."""
NUMPY_ENGINE = "numpy (float32)"
"""How the numpy engine describes itself."""
DEFAULT_GGUF_TYPE = "q8_0"
"""The GGUF type llama.cpp answers from when a trained adapter is exported for it."""


LLAMA_BUILD_HINT = (
    "rebuild it without AMX, e.g. CMAKE_ARGS='-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_AVX512=ON "
    "-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF' .venv/bin/pip install --force-reinstall "
    "--no-cache-dir --no-deps 'llama-cpp-python>=0.3'"
)
_PROBE = (
    "import sys, llama_cpp\n"
    "llm = llama_cpp.Llama(model_path=sys.argv[1], n_ctx=64, verbose=False)\n"
    "llm.eval([1] * 16)\n"
)


def llama_available() -> bool:
    """Whether llama-cpp-python can be imported here."""
    try:
        importlib.import_module("llama_cpp")
    except ImportError:
        return False
    return True


def llama_runs() -> bool:
    """Whether llama-cpp-python is installed and runs a batch on this CPU.

    A build made with ``-march=native`` on a machine whose CPU lists AMX but whose kernel
    does not grant it (some VMs) dies with a protection fault on the first quantized batch;
    ``auto`` must not pick it.
    """
    return llama_available() and _batch_runs()


@functools.cache
def _batch_runs() -> bool:
    """One quantized batch through llama.cpp in a child process (a crash stays there)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, str(embedded_gguf_path())],
        capture_output=True,
        timeout=120,
        check=False,
    )
    return done.returncode == 0


def llama_version() -> str:
    """The installed llama-cpp-python version ('' when it is not installed)."""
    try:
        return str(importlib.import_module("llama_cpp").__version__)
    except ImportError:
        return ""


class ReplyGenerator(Protocol):
    """What evaluation and the agent need from an engine."""

    def prefill(self, messages: Sequence[Mapping[str, str]]) -> float: ...

    def generate(
        self,
        messages: Sequence[Mapping[str, str]],
        *,
        max_tokens: int | None = None,
        on_token: TokenCallback | None = None,
    ) -> Generation: ...

    def reset(self) -> None: ...


@attrs.frozen
class Engine:
    """A resolved engine: ``mlx`` or ``llama`` (with the GGUF type a trained adapter gets)."""

    name: str
    gguf_type: str = DEFAULT_GGUF_TYPE

    def describe(self, adapter: Path | None = None) -> str:
        """One line for the console and the report, e.g. ``llama.cpp 0.3.36 (q8_0 GGUF)``."""
        if self.name == "mlx":
            return MLX_ENGINE
        if self.name == "numpy":
            return NUMPY_ENGINE
        weights = f"{self.gguf_type} GGUF" if adapter is not None else "the base GGUF"
        return f"llama.cpp {llama_version()} ({weights})"


def numpy_supports(model: BaseModel) -> bool:
    """Whether the numpy decoder runs this model: a llama model without RoPE scaling or biases.

    Read from the model's config without loading it; a hub model (not on disk yet) counts as no.
    """
    import json

    from punie_runtime.numpy_llama import unsupported

    if model.kind == "embedded":
        return True
    if model.kind == "hub":
        return False
    try:
        config = json.loads((Path(model.resolve()) / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, BaseModelError):
        return False
    return unsupported(config) is None


def choose_engine(
    requested: str, gguf_type: str = DEFAULT_GGUF_TYPE, model: BaseModel | None = None
) -> Engine:
    """Resolve ``auto``/``mlx``/``numpy``/``llama`` for `model` (the embedded one when None).

    A ValueError with one line when the engine cannot be used.
    """
    if requested not in ENGINES:
        raise ValueError(f"unknown engine {requested!r}: choose one of {', '.join(ENGINES)}")
    if requested == "llama" and not llama_available():
        raise ValueError(
            "--engine llama needs llama-cpp-python: .venv/bin/pip install 'llama-cpp-python>=0.3'"
        )
    if requested == "llama" and not llama_runs():
        raise ValueError(f"llama-cpp-python crashes on this machine: {LLAMA_BUILD_HINT}")
    if requested == "numpy" and model is not None and not numpy_supports(model):
        raise ValueError(
            f"--engine numpy runs llama-family models, not {model.describe()}: use --engine mlx"
        )
    if requested == "auto":
        if llama_runs():
            requested = "llama"
        else:
            requested = "numpy" if model is None or numpy_supports(model) else "mlx"
    return Engine(requested, gguf_type)


def base_gguf_file(model: BaseModel) -> Path:
    """The GGUF file a base model was converted from (llama.cpp runs it as it is)."""
    if model.kind == "embedded":
        return embedded_gguf_path()
    if model.kind == "gguf":
        return Path(model.location)
    raise BaseModelError(f"llama.cpp needs a GGUF model, not {model.describe()}: use --engine mlx")


def adapter_gguf(adapter: Path, gguf_type: str) -> Path:
    """The adapter fused into its base as a GGUF, exported once and kept beside the adapter.

    Re-exported when the adapter's weights are newer than the file.
    """
    from punie_runtime.gguf_export import ADAPTER_WEIGHTS, export_gguf

    path = adapter / f"fused-{gguf_type}.gguf"
    weights = adapter / ADAPTER_WEIGHTS
    if not path.is_file() or (weights.is_file() and weights.stat().st_mtime > path.stat().st_mtime):
        export_gguf(path, adapter, gguf_type)
    return path


def open_generator(
    engine: Engine,
    model: BaseModel,
    adapter: Path | None = None,
    **options: Any,
) -> ReplyGenerator:
    """A greedy generator for `model` (+ `adapter`, fused) on `engine`; `options` as `Generator`'s.

    Import-light: mlx and llama.cpp load only here.
    """
    if engine.name == "llama":
        from mlx_lm.utils import load_tokenizer

        from punie_runtime.llama_generate import LlamaGenerator

        gguf = adapter_gguf(adapter, engine.gguf_type) if adapter else base_gguf_file(model)
        tokenizer = load_tokenizer(Path(model.resolve()))
        keep = {k: v for k, v in options.items() if k in ("max_tokens", "call_within")}
        return LlamaGenerator(gguf, tokenizer, **keep)
    from punie_runtime.base_model import load_model

    network, tokenizer = load_model(model, adapter)
    if adapter is not None:
        fuse_adapters(network)
    if engine.name == "numpy":
        from punie_runtime.numpy_generate import NumpyGenerator
        from punie_runtime.numpy_llama import NumpyLlama, UnsupportedModelError

        keep = {k: v for k, v in options.items() if k != "prefill_step"}
        try:
            return NumpyGenerator(NumpyLlama.from_mlx(network), tokenizer, **keep)
        except UnsupportedModelError as error:
            raise BaseModelError(f"{error}: use --engine mlx") from None
    from punie_runtime.generate import Generator

    return Generator(network, tokenizer, **options)


def fuse_adapters(network: Any) -> int:
    """Fold LoRA/DoRA adapters into their base weights (as ``mlx_lm fuse``); how many.

    Greedy output is unchanged, but each adapted linear layer becomes one matmul instead of
    three: on a CPU, where decoding pays per operation, that is ~1.2x less work per token.
    """
    from mlx.utils import tree_unflatten

    fused = [(name, m.fuse()) for name, m in network.named_modules() if hasattr(m, "fuse")]
    if fused:
        network.update_modules(tree_unflatten(fused))
    return len(fused)
