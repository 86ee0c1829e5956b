"""One model reply's text and what it cost: the value generation, evaluation and reports share.

Kept apart from `generate.py` so that readers of saved results need not import mlx.
"""

from __future__ import annotations

import attrs


@attrs.frozen
class Reply:
    """What the model said to one conversation, and what it cost.

    ``seconds`` is the whole time (prompt prefill plus decoding); ``generated_tokens`` counts a
    stop token; ``reused_tokens`` are the prompt's tokens whose KV cache was kept from the
    previous conversation.
    """

    # The order is that of a saved step's keys (`punie_eval.eval_results.Step.to_dict`).
    text: str
    seconds: float = 0.0
    prompt_tokens: int = 0
    generated_tokens: int = 0
    prefill_seconds: float = 0.0
    reused_tokens: int = 0

    @property
    def decode_seconds(self) -> float:
        """The time spent decoding: the whole time less the prompt's prefill."""
        return self.seconds - self.prefill_seconds

    @property
    def tokens_per_second(self) -> float:
        """Decode speed."""
        decode = self.decode_seconds
        return self.generated_tokens / decode if decode else 0.0
