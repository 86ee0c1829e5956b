"""Per-template statistics of generated examples: kept, rejected, type-checked, tokens.

    .venv/bin/python bench/templates.py [--plugin NAME ...] [--draws N] [--seed N] [--show K]

Renders ``--draws`` examples of each template (of the named plugins, default all) through
punie_datagen's own job runner (real tools, fresh fixtures, twice), validates them, and
type-checks every code block against the tools' stubs. Prints one row per template: examples
kept, rejected (with the first reason), code blocks that fail the type check, and the mean
tokens (embedded model) of the code, the tool output and the answer; ``--show K`` prints K
rendered examples per template. The tokens are what each example costs a training step.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence

from punie_datagen.example import Example
from punie_datagen.execute import Context, run_job
from punie_datagen.plan import Job
from punie_datagen.typecheck import StubTypeChecker
from punie_datagen.validate import Validator
from punie_runtime.tokens import count_tokens
from punie_tools import Registry
from punie_tools.codemode import parse_tool_call, parse_tool_response
from punie_tools.stubs import stubs


def main(argv: Sequence[str] | None = None) -> None:
    """Print the table (and, with --show, sample examples)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--plugin",
        nargs="*",
        default=None,
        help="plugins (categories) to check: git, lsp, ... (default all)",
    )
    parser.add_argument("--draws", type=int, default=6, help="examples per template")
    parser.add_argument("--seed", type=int, default=33)
    parser.add_argument("--show", type=int, default=0, help="examples printed per template")
    args = parser.parse_args(argv)
    registry = Registry.load()
    context = Context.from_registry(registry)
    specs = {s.name: s for s in registry.tools()}
    validator = Validator(specs, context.prompt)
    checker = StubTypeChecker(stubs(registry.tools()))
    totals: dict[str, list[float]] = {"code": [], "output": [], "answer": []}
    failing = 0
    print(f"{'template':45} kept rej type-err  code  output answer")
    for template in registry.templates():
        if args.plugin and template.plugin not in args.plugin:
            continue
        key = f"{template.plugin}/{template.name}"
        kept: list[Example] = []
        reasons: list[str] = []
        type_errors: list[str] = []
        for index in range(args.draws):
            outcome = run_job(
                Job(f"{key}#{index}", key, index, args.seed, template.plugin), context
            )
            checked = validator.validate(outcome) if isinstance(outcome, Example) else outcome
            if not isinstance(checked, Example):
                reasons.append(f"{checked.stage}: {checked.reason}")
                continue
            kept.append(checked)
        sizes: dict[str, list[int]] = {"code": [], "output": [], "answer": []}
        for example in kept:
            messages = example.messages
            sizes["answer"].append(count_tokens(messages[-1].content))
            for message in messages[2:-1]:
                call = parse_tool_call(message.content) if message.role == "assistant" else None
                if call is not None and call.code is not None:
                    sizes["code"].append(count_tokens(call.code))
                    problem = checker(call.code)
                    if problem:
                        type_errors.append(problem)
                elif message.role == "user":
                    response = parse_tool_response(message.content)
                    if response is not None:
                        sizes["output"].append(count_tokens(response))
        means = {k: statistics.mean(v) if v else 0.0 for k, v in sizes.items()}
        for k, v in means.items():
            totals[k].append(v)
        failing += len(type_errors)
        print(
            f"{key:45} {len(kept):4} {len(reasons):3} {len(type_errors):8} "
            f"{means['code']:5.0f} {means['output']:7.0f} {means['answer']:6.0f}"
        )
        for reason in reasons[:1]:
            print(f"    rejected: {reason[:200]}")
        for problem in type_errors[:1]:
            print(f"    type error: {problem[:200]}")
        for example in kept[: args.show]:
            for message in example.messages[1:]:
                print(f"  [{message.role}] " + message.content.replace("\n", "\n    "))
            print()
    overall = {k: statistics.mean(v) if v else 0.0 for k, v in totals.items()}
    print(
        f"mean over templates: code {overall['code']:.0f}, output {overall['output']:.0f}, "
        f"answer {overall['answer']:.0f} tokens; {failing} code blocks fail the type check"
    )


if __name__ == "__main__":
    main()
