"""What a training run produced: `TrainSummary`, which the trainer returns and the report keeps.

It lives here, below `punie_train`, because the report (`report_data.RunReport.training`)
holds the trainer's summary itself. Its ``to_dict``/``from_dict`` are report.json's
``training`` block, the one place where JSON names differ from the Python ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

LOG_NAME = "train_log.jsonl"
"""The trainer's JSONL event log in the run directory (`punie_train.progress`)."""

BEST_SUFFIX = "-best"
"""The best adapter is the final one's directory with this suffix."""

# Python field -> report.json key, where they differ (the keys of reports already written).
_JSON_NAMES = {
    "wall_time_s": "wall_seconds",
    "best_adapter_path": "adapter",
    "trained_tokens_per_s": "tokens_per_s",
    "tokens_per_s": "all_tokens_per_s",
}
_PATHS = frozenset({"best_adapter_path", "adapter_path", "log_path"})


@attrs.frozen
class TrainSummary:
    """What a finished run produced and how fast it went.

    Fields from ``updates`` on are None (or their default) in reports written before the
    report kept the whole summary.
    """

    wall_time_s: float
    iterations: int
    best_iteration: int | None
    best_val_loss: float | None
    final_train_loss: float | None
    final_val_loss: float | None
    best_adapter_path: Path
    resumed_from: int | None
    trained_tokens_per_s: float
    adapter_path: Path
    log_path: Path
    updates: int | None = None
    best_probe_accuracy: float | None = None
    tokens_per_s: float | None = None
    fast_paths: str | None = None
    ranks: int = 1
    comm_time_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """report.json's ``training`` block: JSON names, paths as strings."""
        out: dict[str, Any] = {}
        for field in attrs.fields(TrainSummary):
            value = getattr(self, field.name)
            out[_JSON_NAMES.get(field.name, field.name)] = (
                str(value) if isinstance(value, Path) else value
            )
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], run_dir: Path | None = None) -> TrainSummary:
        """Rebuild a summary from ``to_dict()`` output.

        An older report's block has no ``log_path`` or ``adapter_path``: they are rebuilt as
        the trainer names them, from `run_dir` and the best adapter.
        """
        data = dict(data)
        if "log_path" not in data and run_dir is not None:
            data["log_path"] = str(run_dir / LOG_NAME)
        if "adapter_path" not in data and "adapter" in data:
            data["adapter_path"] = str(data["adapter"]).removesuffix(BEST_SUFFIX)
        kwargs: dict[str, Any] = {}
        for field in attrs.fields(cls):
            key = _JSON_NAMES.get(field.name, field.name)
            if key in data:
                value = data[key]
                kwargs[field.name] = Path(value) if field.name in _PATHS else value
        return cls(**kwargs)
