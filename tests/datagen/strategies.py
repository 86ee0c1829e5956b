"""hypothesis strategies for chat examples (valid ones, and random message lists)."""

from __future__ import annotations

from hypothesis import strategies as st

from punie_datagen.example import Example, Message
from punie_tools.codemode import format_tool_call, format_tool_response

GOOD_CODES = [
    'r = hover("a.py", 3, 0, "X")\nprint(r.content)',
    'result = git_log(".", count=3)\nprint(result)',
    'result = hover("b.py", 1, 1, "Y")\n'
    "for loc in result.locations:\n    print(loc.file, loc.line)",
    'result = tags(["a", "b"])\nprint(result)',
]
"""Code the validator keeps as it is: each block opens with its first call assigned."""
BAD_CODES = [
    "print(r.type_info",
    'r = hover("a.py", 3, 0, "X")\nprint(r.type_info)',
    'goto_definition("a.py", 1, 1, "X")',
    "import os\nprint(git_log())",
    'print("no tool")',
    'git_log(".", count="3")',
]

text = st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and "<tool_" not in s)
good_call = st.sampled_from(GOOD_CODES).map(format_tool_call)
any_call = st.sampled_from(GOOD_CODES + BAD_CODES).map(format_tool_call)
response = text.map(format_tool_response)
role = st.sampled_from(["system", "user", "assistant", "tool", ""]) | st.text(max_size=8)
content = st.one_of(text, any_call, response, st.just(""), st.just("<tool_call>"))


@st.composite
def valid_examples(draw: st.DrawFn) -> Example:
    """Examples that follow every rule: system, then alternating turns ending with assistant."""
    messages = [Message("system", draw(text))]
    for _ in range(draw(st.integers(1, 3))):
        messages.append(Message("user", draw(text)))
        if draw(st.booleans()):
            messages.append(Message("assistant", draw(good_call)))
            if draw(st.booleans()):
                messages.append(Message("user", draw(response)))
                messages.append(Message("assistant", draw(text)))
            else:
                break
        else:
            messages.append(Message("assistant", draw(text)))
    return Example("ex", "foundation", tuple(messages))


random_messages = st.lists(st.builds(Message, role, content), max_size=8)
