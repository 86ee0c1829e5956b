"""Training knobs: `TrainConfig`, read from a YAML file with mlx-lm's keys, then CLI flags.

One source of truth: each field carries its help text in `metadata`, and the argparse options
are generated from `attrs.fields(TrainConfig)` (`punie_train.config_file`, which also reads the
YAML). Precedence is CLI > YAML > defaults, as in mlx-lm's `lora.py`:

    add_arguments(parser)                       # --iters, --lora-rank, --warmup, ...
    config = load_config(yaml_path, overrides=cli_overrides(namespace))

The defaults are the tool-choice recipe chosen by the screenings in
`results/tool-choice-screen/` (short CPU runs) and `results/tool-choice-gpu/` (a torch replica
of this trainer at full budget; the probe's first-tool accuracy on the valid split): a call
example per calling turn of the train split beside whole chats (`call_examples: add`, cut after
the whole calling turn: `call_cut: turn`; with the templates' short code a calling turn is the
call and a print, and the replica measured 67.1% probe and 85.8% type-checking replies against
62.5% and 88.3% for the line cut and 67.5% and 63.3% with the old long template code,
`results/tool-choice-gpu/run3`), a seeded 30% of the chats also trained whole (`chat_share:
0.3`: the answers and follow-up turns stay trained, and the CPU time the other whole chats would
take buys 25% more updates), each assistant turn weighing the same and calling turns three times
that (`loss_weighting: turn`, `call_weight: 3`: 68.5% vs 61.0% probe at the same cost), each
token of a calling turn's first tool name twice the turn's others (`name_weight: 2`), every
first-called tool an equal share of each epoch (`balance: tool`), 2000 iterations of batch 1
with gradient accumulation 8 (250 updates: ~37 min of training on the 2-core CPU with the
numpy gradient and validations, `results/tool-choice-full-2026-11-28v` and `-28x`: pooled
first tool over two seeds against 1600 iterations in the README; replica runs 5-6 on the same
data and the same estimated CPU minutes: 82.8% probe with the name weight and the chat share
against 71.2% for 160 updates of every chat whole without it; smaller updates learn the choice
faster: 66.0% vs 61.0% for 160 of 8 vs 80 of 16), LoRA rank 8 and scale 20, learning rate 5e-4
(replica run 4: 72.1% vs 67.1% first tool for 3e-4; 7e-4 lost 15 points in run 5, 1e-3 diverged)
with a 10-update warm-up then cosine decay to 5e-5, validation, the probe and a checkpoint every
320 iterations, max 2048 tokens. The seed's Phase 33 knobs (800 iterations, accumulation 4, lr
1e-4, full chats, per-token loss) are `configs/phase33.yaml`. Measured on the CPU and not
adopted: `later_call_repeat: 4` (held-out requests 71.2%, `results/later-calls/`); 2000
iterations on the mlx trainer and older data (78.8%, no gain on unseen requests for 25% more
time, `results/tool-choice-full-2026-11-26q`; measured again on today's data and made the
default, above); `max_grad_norm` (lr 1e-3 diverges with the gradient
clipped to 1.0 as it does without, `results/grad-clip`); Adam with bias correction and beta2
0.95 at lr 2e-3 (`optimizer_config`, `results/adam-steps`: lower validation loss, no better
choice); `path_swap: 0.5` (first tool pooled over eval and held-out requests and two seeds 555
against 583, `results/path-swap`); `path_words: 0.3` (one seed, 295 against 297). Measured
better and not made the default for its time: 3200 iterations (pooled 625 against 583 over two
seeds, `results/train-fit`, `results/tool-choice-full-2026-11-28t` and `-28u`; training ~60 min
alone instead of ~37, over issue 13's 45-minute run); `balance: sqrt` (one seed, 291 against
297: the largest pools gain what the others lose, `results/tool-choice-full-2026-11-28w`). The
learning rates are mlx's Adam's, which skips the bias correction: its early steps are up to ~6x
the rate (~3e-3 at the peak here), its last ones ~2x.

`num_layers` defaults to all layers (-1), not Phase 33's 8: with this recipe on the punie
dataset (1294 train examples, SmolLM2-135M), validation loss over all 141 validation examples
reached 0.720 with 8 adapted layers, 0.581 with 16 and 0.520 with all 30 (a replica of this
trainer in torch on a GPU, logits matching mlx to 1e-4). All layers pass 8 layers' final loss
before iteration 250, so they cost ~30-40% more per step but far less per unit of loss.

Validation uses the same seeded subset of `val_batches * batch_size` examples every time;
mlx-lm draws fresh random batches, so its curve mixes sampling noise into the trend. In the
replica above, the loss over all 141 validation examples fell monotonically up to iteration
800. `val_batches` is Phase 33's 10: 17 forward-only passes over 10 examples stay a few
minutes of a two-hour CPU run.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import attrs
import yaml

from punie_datagen.options import DEFAULT_MAX_SEQ_LENGTH, DEFAULT_OUT
from punie_tools.options_cli import option

OPTIMIZERS = ("adam", "adamw", "sgd", "adafactor", "muon")
FINE_TUNE_TYPES = ("lora", "dora", "full")
LOSS_WEIGHTINGS = ("token", "turn")
CALL_EXAMPLES = ("none", "add", "only")
CALL_CUTS = ("line", "turn")
BALANCE_POWERS = {"tool": 0.0, "sqrt": 0.5}  # a tool's share of an epoch ~ examples ** power
BALANCES = ("none", *BALANCE_POWERS)
SCHEDULES = ("cosine_decay", "linear_schedule", "exponential_decay", "step_decay")

UNSUPPORTED_MLX_KEYS = frozenset(
    {
        "train",
        "test",
        "test_batches",
        "report_to",
        "project_name",
        "trust_remote_code",
        "config",
        "clear_cache_threshold",
        "prompt_feature",
        "chat_feature",
        "text_feature",
        "completion_feature",
        "hf_dataset",
    }
)
"""mlx-lm keys that punie_train rejects with a specific message instead of ignoring them."""


class ConfigError(ValueError):
    """A config file or flag that cannot be used; the message names the key and the source."""


@attrs.frozen
class LoraParameters:
    """LoRA adapter shape: mlx-lm's `lora_parameters` mapping."""

    rank: int = attrs.field(default=8, metadata=option("LoRA rank.", flag="--lora-rank"))
    scale: float = attrs.field(
        default=20.0, metadata=option("LoRA scale (mlx-lm's, not alpha).", flag="--lora-scale")
    )
    dropout: float = attrs.field(
        default=0.0, metadata=option("Dropout on the LoRA input.", flag="--lora-dropout")
    )
    keys: tuple[str, ...] | None = attrs.field(
        default=None,
        metadata=option(
            "Module names to adapt inside each layer (default: every linear layer).",
            flag="--lora-keys",
        ),
    )


@attrs.frozen
class LrSchedule:
    """mlx-lm's `lr_schedule`: an `mlx.optimizers.schedulers` name, its arguments, a warm-up.

    Empty `arguments` derive them from the run: cosine decay from `learning_rate` to a tenth
    of it over the updates left after the warm-up. Steps count optimizer updates.
    """

    name: str = attrs.field(
        default="cosine_decay",
        metadata=option(
            "Schedule after the warm-up ('none' for a constant rate).", flag="--lr-schedule"
        ),
    )
    arguments: tuple[float, ...] = attrs.field(
        default=(),
        metadata=option(
            "The schedule's arguments (empty: derived from --learning-rate and --iters).",
            flag="--lr-schedule-arguments",
        ),
    )
    warmup: int = attrs.field(
        default=10, metadata=option("Linear warm-up length in optimizer updates.", flag="--warmup")
    )
    warmup_init: float = attrs.field(
        default=1e-5,
        metadata=option("Learning rate at the first warm-up update.", flag="--warmup-init"),
    )


NESTED = {"lora_parameters": LoraParameters, "lr_schedule": LrSchedule}
"""TrainConfig's fields that are attrs classes themselves (one CLI option per sub-field)."""


@attrs.frozen
class TrainConfig:
    """Every training knob, with mlx-lm's YAML key names."""

    model: str = attrs.field(
        default="default",
        metadata=option(
            "Base model: 'default' (embedded SmolLM2-135M), an mlx-lm dir, .gguf or hub id."
        ),
    )
    data: str = attrs.field(
        default=str(DEFAULT_OUT),
        metadata=option("Directory holding train.jsonl and valid.jsonl."),
    )
    adapter_path: str = attrs.field(
        default="adapters",
        metadata=option("Final adapter directory (relative: inside the run dir)."),
    )
    fine_tune_type: str = attrs.field(
        default="lora", metadata=option("lora, dora or full.", choices=FINE_TUNE_TYPES)
    )
    optimizer: str = attrs.field(
        default="adam", metadata=option("Optimizer from mlx.optimizers.", choices=OPTIMIZERS)
    )
    optimizer_config: Mapping[str, Mapping[str, Any]] = attrs.field(
        factory=dict,
        converter=lambda value: {str(k): dict(v or {}) for k, v in (value or {}).items()},
        metadata=option(
            "Extra optimizer arguments keyed by optimizer name (YAML only).", cli=False
        ),
    )
    mask_prompt: bool = attrs.field(
        default=True,
        metadata=option("Train only on assistant turns (all of them, not just the last)."),
    )
    loss_weighting: str = attrs.field(
        default="turn",
        metadata=option(
            "Spread of an example's loss: 'token' (every target token alike) or 'turn' "
            "(every assistant turn alike, so a short call weighs as much as a long answer).",
            choices=LOSS_WEIGHTINGS,
        ),
    )
    call_weight: float = attrs.field(
        default=3.0,
        metadata=option("Weight of assistant turns that call a tool, relative to other turns."),
    )
    name_weight: float = attrs.field(
        default=2.0,
        metadata=option(
            "Weight of each token of a calling turn's first tool name relative to the turn's "
            "other tokens (the turn's share of the loss unchanged).",
        ),
    )
    call_examples: str = attrs.field(
        default="add",
        metadata=option(
            "Call examples (a chat cut after each tool call, loss on that call only): "
            "'none', 'add' (beside the full chats) or 'only' (chats without a call stay whole).",
            choices=CALL_EXAMPLES,
        ),
    )
    chat_share: float = attrs.field(
        default=0.3,
        metadata=option(
            "With call_examples 'add': the share of the train chats also trained whole "
            "(a seeded choice; their answers and follow-up turns), 1.0 = every chat.",
        ),
    )
    later_call_repeat: int = attrs.field(
        default=1,
        metadata=option(
            "Copies in the mix of each call example whose calling turn follows a tool "
            "response (a workflow's next call); 1 = once, like every other example.",
        ),
    )
    request_dropout: float = attrs.field(
        default=0.0,
        metadata=option(
            "Share of each call example's request words dropped (a seeded draw; words the "
            "reply copies, such as paths and symbols, stay); 0 = requests as written.",
        ),
    )
    path_swap: float = attrs.field(
        default=0.0,
        metadata=option(
            "Share of first-call examples whose request names other files: each path swapped, "
            "in the request and the call alike, for a file of the same category, folder and "
            "suffix (`punie_train.path_swap`); 0 = files as written.",
        ),
    )
    path_words: float = attrs.field(
        default=0.0,
        metadata=option(
            "Share of first-call examples whose request names the call's files in words "
            "('the pricing module', 'the order tests'; `punie_train.path_words`), the call "
            "keeping the path; 0 = paths as written.",
        ),
    )
    call_cut: str = attrs.field(
        default="turn",
        metadata=option(
            "Where a call example ends: 'line' (after the code line of the turn's first tool "
            "call) or 'turn' (after the whole calling turn: the call and the code around it).",
            choices=CALL_CUTS,
        ),
    )
    balance: str = attrs.field(
        default="tool",
        metadata=option(
            "'tool': every first-called tool about equally often per epoch (rare tools "
            "repeated, common ones spread over epochs); 'sqrt': each tool's share grows with "
            "the square root of its examples (four times the examples, twice the share); "
            "'none': each example once per epoch.",
            choices=BALANCES,
        ),
    )
    prefix_gradient: bool = attrs.field(
        default=True,
        metadata=option(
            "Backpropagate through the shared system-prompt prefix (exact); false keeps its "
            "keys/values out of the gradient (cheaper updates, an approximation).",
        ),
    )
    probe_examples: int = attrs.field(
        default=64,
        metadata=option(
            "Validation queries whose first tool the model is asked at each validation "
            "(the tool-choice probe; it picks the best adapter with the validation loss); 0: off."
        ),
    )
    num_layers: int = attrs.field(
        default=-1, metadata=option("Layers to adapt, counted from the top; -1 for all.")
    )
    batch_size: int = attrs.field(default=1, metadata=option("Examples per micro-batch."))
    iters: int = attrs.field(default=2000, metadata=option("Micro-batches to train on."))
    grad_accumulation_steps: int = attrs.field(
        default=8, metadata=option("Micro-batches per optimizer update.")
    )
    learning_rate: float = attrs.field(default=5e-4, metadata=option("Peak learning rate."))
    max_grad_norm: float = attrs.field(
        default=0.0,
        metadata=option(
            "Clip each update's gradient to this global L2 norm before the optimizer step "
            "(0: no clipping). The norm is logged either way.",
        ),
    )
    lr_schedule: LrSchedule | None = attrs.field(
        factory=LrSchedule,
        metadata=option("Learning-rate schedule (YAML mapping; null: constant)."),
    )
    lora_parameters: LoraParameters = attrs.field(
        factory=LoraParameters, metadata=option("LoRA rank, scale, dropout (YAML mapping).")
    )
    max_seq_length: int = attrs.field(
        default=DEFAULT_MAX_SEQ_LENGTH,
        metadata=option("Longer examples are truncated to this many tokens."),
    )
    steps_per_report: int = attrs.field(
        default=64, metadata=option("Iterations between training-loss reports.")
    )
    steps_per_eval: int = attrs.field(
        default=320,
        metadata=option("Iterations between validations (loss and tool-choice probe)."),
    )
    val_batches: int = attrs.field(
        default=10,
        metadata=option(
            "Validation batches per evaluation (the same seeded subset each time); -1: all."
        ),
    )
    save_every: int = attrs.field(
        default=320, metadata=option("Iterations between resumable checkpoints.")
    )
    seed: int = attrs.field(default=0, metadata=option("Seed for LoRA init, data order, dropout."))
    resume_adapter_file: str | None = attrs.field(
        default=None, metadata=option("Adapter weights (.safetensors) to start from.")
    )
    grad_checkpoint: bool = attrs.field(
        default=False, metadata=option("Recompute activations in backward to save memory.")
    )
    numpy_exp: bool = attrs.field(
        default=True,
        metadata=option(
            "On the CPU, attention softmax, SwiGLU's sigmoid, the loss and RoPE without mlx's "
            "scalar exp/sin/cos (punie_runtime.numpy_exp): ~0.82x the update time for ~1.25x "
            "the peak memory (with punie_train.parentless_lora); false: mlx's own kernels.",
        ),
    )

    numpy_gradient: bool = attrs.field(
        default=True,
        metadata=option(
            "On the CPU, each update's loss and LoRA gradient in numpy "
            "(punie_train.numpy_gradient: the same loss, every linear layer one matrix product "
            "over the batch's tokens; 0.41-0.52x mlx's update time) for llama models with LoRA "
            "and no LoRA dropout; false, or any other model: mlx's value_and_grad.",
        ),
    )

    def __attrs_post_init__(self) -> None:
        positive = (
            "batch_size",
            "iters",
            "grad_accumulation_steps",
            "max_seq_length",
            "steps_per_report",
            "steps_per_eval",
            "save_every",
        )
        for name in positive:
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_rate <= 0 or not math.isfinite(self.learning_rate):
            raise ConfigError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.max_grad_norm < 0 or not math.isfinite(self.max_grad_norm):
            raise ConfigError(f"max_grad_norm must be >= 0 (0: off), got {self.max_grad_norm}")
        if self.num_layers == 0 or self.num_layers < -1:
            raise ConfigError(f"num_layers must be -1 (all) or positive, got {self.num_layers}")
        if self.val_batches == 0 or self.val_batches < -1:
            raise ConfigError(f"val_batches must be -1 (all) or positive, got {self.val_batches}")
        for name, allowed in (
            ("loss_weighting", LOSS_WEIGHTINGS),
            ("call_examples", CALL_EXAMPLES),
            ("call_cut", CALL_CUTS),
            ("balance", BALANCES),
        ):
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name} must be one of {allowed}, got {getattr(self, name)!r}")
        if not (self.call_weight > 0 and math.isfinite(self.call_weight)):
            raise ConfigError(f"call_weight must be positive, got {self.call_weight}")
        if not (self.name_weight > 0 and math.isfinite(self.name_weight)):
            raise ConfigError(f"name_weight must be positive, got {self.name_weight}")
        if not 0.0 < self.chat_share <= 1.0:
            raise ConfigError(f"chat_share must be in (0, 1], got {self.chat_share}")
        if not 0.0 <= self.request_dropout < 1.0:
            raise ConfigError(f"request_dropout must be in [0, 1), got {self.request_dropout}")
        if not 0.0 <= self.path_swap <= 1.0:
            raise ConfigError(f"path_swap must be in [0, 1], got {self.path_swap}")
        if not 0.0 <= self.path_words <= 1.0:
            raise ConfigError(f"path_words must be in [0, 1], got {self.path_words}")
        if self.later_call_repeat < 1:
            raise ConfigError(f"later_call_repeat must be at least 1, got {self.later_call_repeat}")
        if self.probe_examples < 0:
            raise ConfigError(f"probe_examples must be >= 0, got {self.probe_examples}")
        if self.fine_tune_type not in FINE_TUNE_TYPES:
            raise ConfigError(f"fine_tune_type must be one of {FINE_TUNE_TYPES}")
        if self.optimizer not in OPTIMIZERS:
            raise ConfigError(f"optimizer must be one of {OPTIMIZERS}")
        if self.lora_parameters.rank < 1:
            raise ConfigError("lora_parameters.rank must be at least 1")
        if not 0.0 <= self.lora_parameters.dropout < 1.0:
            raise ConfigError("lora_parameters.dropout must be in [0, 1)")
        schedule = self.lr_schedule
        if schedule is not None:
            if schedule.name not in SCHEDULES:
                raise ConfigError(
                    f"lr_schedule.name must be one of {SCHEDULES}, got {schedule.name!r}"
                )
            if schedule.warmup < 0:
                raise ConfigError("lr_schedule.warmup must be >= 0")
            if not schedule.arguments and schedule.name != "cosine_decay":
                raise ConfigError(f"lr_schedule {schedule.name!r} needs explicit arguments")

    @property
    def balance_power(self) -> float | None:
        """The power of a tool's example count its epoch share follows; None: no balancing."""
        return BALANCE_POWERS.get(self.balance)

    @property
    def updates(self) -> int:
        """Optimizer updates in the run (the last one may cover fewer micro-batches)."""
        return -(-self.iters // self.grad_accumulation_steps)

    def schedule_arguments(self) -> tuple[float, ...]:
        """The schedule's arguments as given, or derived for the default cosine decay."""
        schedule = self.lr_schedule
        if schedule is None:
            return ()
        if schedule.arguments:
            return schedule.arguments
        decay_steps = max(1, self.updates - schedule.warmup - 1)
        return (self.learning_rate, float(decay_steps), self.learning_rate / 10)

    def to_mapping(self) -> dict[str, Any]:
        """Plain data in mlx-lm's layout (for YAML, JSON and `adapter_config.json`)."""
        data = attrs.asdict(self)
        if self.lr_schedule is not None:
            data["lr_schedule"]["arguments"] = list(self.schedule_arguments())
        if self.lora_parameters.keys is None:
            del data["lora_parameters"]["keys"]
        return data

    def to_yaml(self) -> str:
        """The resolved config as YAML that `load_config` reads back."""
        return yaml.safe_dump(self.to_mapping(), sort_keys=False)
