"""A tiny random llama model and a ChatML BPE tokenizer, saved as an mlx-lm directory."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
from mlx.utils import tree_flatten
from mlx_lm.models.llama import Model, ModelArgs
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHATML = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + "
    "message['content'] + '<|im_end|>' + '\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SYSTEM = (
    "You are Punie, a coding assistant for Python projects. Reply with one tool call "
    "or a plain answer."
)
TOOLS = ["read_file", "git_log", "ruff_check", "typecheck", "hover", "git_status"]


def chats(count: int = 12) -> list[list[dict[str, str]]]:
    """Varied multi-turn tool-calling chats sharing one system prompt."""
    result = []
    for index in range(count):
        tool = TOOLS[index % len(TOOLS)]
        call = (
            "<tool_call><function=execute_code><parameter=code>\n"
            f'result = {tool}("src/app_{index}.py")\nprint(result)\n'
            "</parameter></function></tool_call>"
        )
        messages = [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Please run {tool} on src/app_{index}.py"},
            {"role": "assistant", "content": call},
        ]
        if index % 2 == 0:
            messages += [
                {"role": "user", "content": f"<tool_response>ok {index} items</tool_response>"},
                {"role": "assistant", "content": f"{tool} found {index} items in the file."},
            ]
        result.append(messages)
    return result


def build_tokenizer() -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on the chats above, with ChatML special tokens."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=SPECIALS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    corpus = [m["content"] for chat in chats(24) for m in chat]
    tokenizer.train_from_iterator(corpus, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        pad_token="<|im_end|>",
        unk_token="<|endoftext|>",
        chat_template=CHATML,
    )


def build_model_dir(directory: Path, layers: int = 4) -> Path:
    """Write a random llama (hidden 64) and the tokenizer as an mlx-lm model directory."""
    tokenizer = build_tokenizer()
    config = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": layers,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "vocab_size": len(tokenizer),
        "tie_word_embeddings": True,
    }
    mx.random.seed(1234)
    model = Model(ModelArgs.from_dict(config))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.json").write_text(json.dumps(config))
    mx.save_safetensors(
        str(directory / "model.safetensors"), dict(tree_flatten(model.parameters()))
    )
    tokenizer.save_pretrained(str(directory))
    return directory
