"""Fuse a LoRA adapter into its GGUF base model and write the result as a GGUF file.

The fused model is the mlx model `load_model` builds (the base GGUF dequantized to float32 by
`punie_runtime.gguf_convert`, the adapter's low-rank deltas added by mlx-lm's `fuse`; a full
fine-tune's weights, `fine_tune_type: full`, replace the base's instead). Its
weights go back under the base file's own tensor names, with llama.cpp's Q/K row permutation
re-applied (the converter undid it for mlx-lm's rope), and every metadata key of the base file
(hyperparameters, tokenizer, chat template) is copied, so llama.cpp, ollama and LM Studio load
the result as they load the base. Norm weights stay float32, as llama.cpp's converter keeps
them; the matrices are written as float32, float16 or Q8_0. The file is written beside its
destination and renamed into place, so a failed export never leaves a half file.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import attrs
import numpy as np

from punie_runtime.base_model import (
    EMBEDDED_NAME,
    BaseModel,
    BaseModelError,
    embedded_gguf_path,
    load_model,
)

if TYPE_CHECKING:
    import mlx.nn as nn

OUT_TYPES: tuple[str, ...] = ("q8_0", "f16", "f32")
"""What `--type` accepts: the GGML type of the exported matrices."""
DEFAULT_TYPE = "q8_0"
FUSABLE = ("lora", "dora", "full")
"""The `fine_tune_type`s an export can fuse into the base."""
FINE_TUNED_SUFFIX = " (punie-tools fine-tune)"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapters.safetensors"


class ExportError(ValueError):
    """An export that cannot be done; the message is one line saying why and what to do."""


@attrs.frozen
class ExportResult:
    """What an export wrote."""

    path: Path
    out_type: str
    size: int
    tensors: int
    base: str
    adapter: Path


def permute_rope(weight: np.ndarray, n_heads: int) -> np.ndarray:
    """Apply llama.cpp's Q/K row permutation (HF rope halves to interleaved pairs).

    The inverse of `punie_runtime.gguf_convert.unpermute_rope`, as llama.cpp's
    `convert_hf_to_gguf.py` permutes.
    """
    rows, cols = weight.shape
    head_dim = rows // n_heads
    return weight.reshape(n_heads, 2, head_dim // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def read_adapter_config(adapter: Path) -> dict[str, Any]:
    """The adapter directory's `adapter_config.json`, checked to be a LoRA/DoRA/full adapter."""
    config_file = adapter / ADAPTER_CONFIG
    if not adapter.is_dir():
        raise ExportError(f"no adapter directory at {adapter}")
    if not config_file.is_file() or not (adapter / ADAPTER_WEIGHTS).is_file():
        raise ExportError(
            f"{adapter} is not an adapter directory (it needs {ADAPTER_CONFIG} and "
            f"{ADAPTER_WEIGHTS}); pass --adapter with one a training run wrote"
        )
    try:
        config = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ExportError(f"{config_file}: not readable JSON ({error})") from None
    if not isinstance(config, dict):
        raise ExportError(f"{config_file}: expected a JSON object")
    kind = config.get("fine_tune_type", "lora")
    if kind not in FUSABLE:
        raise ExportError(
            f"{adapter}: only {'/'.join(FUSABLE)} adapters can be fused, not {kind!r}"
        )
    return config


def base_gguf(config: Mapping[str, Any], adapter: Path) -> tuple[BaseModel, Path]:
    """The base model an adapter was trained on and its GGUF file (export needs one)."""
    spec = config.get("model") or "default"
    try:
        base = BaseModel.parse(str(spec))
    except BaseModelError as error:
        raise ExportError(
            f"{adapter} was trained on {spec!r}, which is not here: {error}"
        ) from None
    if base.kind == "embedded":
        try:
            return base, embedded_gguf_path()
        except BaseModelError as error:
            raise ExportError(str(error)) from None
    if base.kind == "gguf":
        return base, Path(base.location)
    raise ExportError(
        f"{adapter} was trained on {base.describe()!r}, not a GGUF model: export fuses into "
        f"the embedded {EMBEDDED_NAME} or a .gguf base"
    )


def check_destination(path: Path) -> None:
    """Fail early, in one line, when `path` cannot be written."""
    if path.is_dir():
        raise ExportError(f"cannot write {path}: it is a directory")
    parent = path.parent
    if not parent.is_dir():
        raise ExportError(f"cannot write {path}: {parent} is not an existing directory")
    try:
        with tempfile.NamedTemporaryFile(dir=parent, prefix=f".{path.name}.", suffix=".probe"):
            pass
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise ExportError(f"cannot write {path}: permission denied")


def fused_model(base: BaseModel, adapter: Path) -> nn.Module:
    """The float32 base model with the adapter's deltas fused into its linear layers.

    A full fine-tune's weights (every trained layer whole) replace the base's instead.
    """
    from mlx.utils import tree_unflatten
    from mlx_lm.tuner.utils import load_adapters

    model, _ = load_model(base, float32=True)
    if read_adapter_config(adapter).get("fine_tune_type") == "full":
        return _with_full_weights(model, base, adapter)
    try:
        load_adapters(model, str(adapter))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else type(error).__name__)
        more = f" (and {len(lines) - 2} more)" if len(lines) > 2 else ""
        raise ExportError(
            f"{adapter} does not fit {base.describe()}: {detail}{more}; "
            "it was trained for another model"
        ) from None
    fused = [
        (name, module.fuse()) for name, module in model.named_modules() if hasattr(module, "fuse")
    ]
    if not fused:
        raise ExportError(f"{adapter} holds no LoRA layers to fuse")
    model.update_modules(tree_unflatten(fused))
    return model


def _with_full_weights(model: nn.Module, base: BaseModel, adapter: Path) -> nn.Module:
    """`model` with a full fine-tune's weights, each checked to be one of its own by shape."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    weights = cast("dict[str, mx.array]", mx.load(str(adapter / ADAPTER_WEIGHTS)))
    params = dict(tree_flatten(model.parameters()))
    unknown = sorted(name for name in weights if name not in params)
    misshapen = sorted(
        name for name in set(weights) - set(unknown) if weights[name].shape != params[name].shape
    )
    if unknown:
        detail = f"{len(unknown)} unknown weights ({unknown[0]})"
    elif misshapen:
        detail = f"{len(misshapen)} weights of another shape ({misshapen[0]})"
    elif not weights:
        detail = "no weights"
    else:
        model.load_weights(list(weights.items()), strict=False)
        return model
    raise ExportError(
        f"{adapter} does not fit {base.describe()}: {detail}; it was trained for another model"
    )


def gguf_tensors(
    model: nn.Module, names: Mapping[str, str], metadata: Mapping[str, Any]
) -> dict[str, np.ndarray]:
    """The model's float32 weights keyed by GGUF tensor name, Q/K re-permuted.

    `names` maps each mlx-lm parameter name to the base file's tensor name; any mismatch
    between the two sets is an error.
    """
    from mlx.utils import tree_flatten

    params = dict(tree_flatten(model.parameters()))
    if "lm_head.weight" in names and "lm_head.weight" not in params:
        # the converter ties a head equal to the embeddings; the file keeps both
        params["lm_head.weight"] = params["model.embed_tokens.weight"]
    missing = sorted(set(names) - set(params))
    extra = sorted(set(params) - set(names))
    if missing or extra:
        raise ExportError(
            f"the fused model does not match the base GGUF tensors (missing {missing[:3]}, "
            f"unexpected {extra[:3]})"
        )
    n_heads = int(metadata["llama.attention.head_count"])
    n_kv = int(metadata.get("llama.attention.head_count_kv", n_heads))
    out: dict[str, np.ndarray] = {}
    for hf, gguf_name in names.items():
        value = np.array(params[hf], dtype=np.float32)
        if ".attn_q." in gguf_name:
            value = permute_rope(value, n_heads)
        elif ".attn_k." in gguf_name:
            value = permute_rope(value, n_kv)
        out[gguf_name] = np.ascontiguousarray(value)
    return out


def encode(name: str, value: np.ndarray, out_type: str) -> tuple[np.ndarray, Any]:
    """A tensor's bytes and GGML type for `out_type` (vectors and odd widths stay wider)."""
    from gguf import GGMLQuantizationType, quants

    if value.ndim < 2 or out_type == "f32":
        return value.astype(np.float32), GGMLQuantizationType.F32
    if out_type == "q8_0" and quants.Q8_0.can_quantize(value):
        return quants.quantize(value, GGMLQuantizationType.Q8_0), GGMLQuantizationType.Q8_0
    return value.astype(np.float16), GGMLQuantizationType.F16


def _file_type(out_type: str) -> int:
    from gguf import LlamaFileType

    return {
        "f32": LlamaFileType.ALL_F32,
        "f16": LlamaFileType.MOSTLY_F16,
        "q8_0": LlamaFileType.MOSTLY_Q8_0,
    }[out_type].value


def write_gguf(
    path: Path,
    source: Path,
    tensors: Mapping[str, np.ndarray],
    out_type: str,
    progress: Callable[[str], None] | None = None,
) -> int:
    """Write `tensors` with `source`'s metadata into `path` (atomically); returns its size."""
    import gguf

    reader = gguf.GGUFReader(source)
    arch = str(reader.fields[gguf.Keys.General.ARCHITECTURE].contents())
    staging = Path(tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")[1])
    try:
        writer = gguf.GGUFWriter(staging, arch)
        for field in reader.fields.values():
            if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
                continue  # the writer adds these itself
            value: Any = field.contents()
            if field.name == gguf.Keys.General.FILE_TYPE:
                value = _file_type(out_type)
            elif field.name == gguf.Keys.General.NAME:
                value = f"{value}{FINE_TUNED_SUFFIX}"
            kind = field.types[0]
            sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, value, kind, sub_type=sub)
        if gguf.Keys.General.FILE_TYPE not in reader.fields:
            writer.add_file_type(_file_type(out_type))
        for tensor in reader.tensors:  # the base file's order
            data, ggml_type = encode(tensor.name, tensors[tensor.name], out_type)
            writer.add_tensor(tensor.name, data, raw_dtype=ggml_type)
        if progress:
            progress(f"writing {len(reader.tensors)} tensors ({out_type})")
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        staging.replace(path)
    finally:
        staging.unlink(missing_ok=True)
    return path.stat().st_size


def export_gguf(
    out: Path,
    adapter: Path,
    out_type: str = DEFAULT_TYPE,
    progress: Callable[[str], None] | None = None,
) -> ExportResult:
    """Fuse `adapter` into its base model and write a GGUF file of type `out_type` at `out`."""
    from punie_runtime.gguf_convert import hf_name

    if out_type not in OUT_TYPES:
        raise ExportError(f"unknown --type {out_type!r}: choose one of {', '.join(OUT_TYPES)}")
    check_destination(out)
    config = read_adapter_config(adapter)
    base, source = base_gguf(config, adapter)
    import gguf

    reader = gguf.GGUFReader(source)
    names = {hf_name(tensor.name): tensor.name for tensor in reader.tensors}
    metadata = {
        key: reader.fields[key].contents()
        for key in ("llama.attention.head_count", "llama.attention.head_count_kv")
        if key in reader.fields
    }
    del reader
    if progress:
        progress(f"fusing {adapter} into {base.describe()}")
    try:
        model = fused_model(base, adapter)
    except BaseModelError as error:
        raise ExportError(str(error)) from None
    tensors = gguf_tensors(model, names, metadata)
    del model
    try:
        size = write_gguf(out, source, tensors, out_type, progress)
    except OSError as error:
        raise ExportError(f"cannot write {out}: {error.strerror or error}") from None
    return ExportResult(out, out_type, size, len(tensors), base.describe(), adapter)
