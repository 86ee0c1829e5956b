"""The example validator: rules, mechanical repairs, token budget."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from punie_datagen.codecheck import calls_in_order
from punie_datagen.example import Example, Message, Rejection, ValidExample
from punie_datagen.typecheck import StubTypeChecker
from punie_datagen.validate import Validator, deferred_call
from punie_tools.codemode import format_tool_call, parse_tool_call, parse_tool_response
from punie_tools.stubs import stubs
from tests.datagen import strategies
from tests.datagen.toolset import TOOLS

PROMPT = "the one system prompt"
VALIDATOR = Validator(TOOLS, PROMPT)
CODE = 'r = hover("a.py", 3, 0, "X")\nprint(r.content)'


def example(*turns: tuple[str, str]) -> Example:
    """An example from (role, content) pairs."""
    return Example("e", "foundation", tuple(Message(r, c) for r, c in turns))


def check(ex: Example, validator: Validator = VALIDATOR) -> ValidExample | Rejection:
    """Validate one example."""
    return validator.validate(ex)


def reason(ex: Example) -> str:
    """The rejection reason (fails if the example was accepted)."""
    result = check(ex)
    assert isinstance(result, Rejection), result
    return result.reason


def test_system_prompt_is_rewritten() -> None:
    """Whatever system prompt an example had, it gets the registry's."""
    result = check(example(("system", "old"), ("user", "hi"), ("assistant", "hello")))
    assert isinstance(result, Example)
    assert result.messages[0] == Message("system", PROMPT)


def test_missing_system_prompt_is_inserted() -> None:
    """An example without a system message gets one."""
    result = check(example(("user", "hi"), ("assistant", "hello")))
    assert isinstance(result, Example)
    assert [m.role for m in result.messages] == ["system", "user", "assistant"]


def test_compact_call_tags_are_normalised_and_recorded() -> None:
    """The foundation's compact tag variant becomes the canonical one, recorded as a repair."""
    compact = format_tool_call(CODE, compact=True)
    result = check(example(("user", "hover"), ("assistant", compact)))
    assert isinstance(result, Example)
    assert result.messages[2].content == format_tool_call(CODE)
    assert result.repairs == ("tool call tags normalised",)


def test_tool_response_whitespace_is_normalised() -> None:
    """<tool_response> without newlines gets the canonical newlines, recorded."""
    result = check(
        example(
            ("user", "hover"),
            ("assistant", format_tool_call(CODE)),
            ("user", "<tool_response>text</tool_response>"),
            ("assistant", "done"),
        )
    )
    assert isinstance(result, Example)
    assert result.messages[3].content == "<tool_response>\ntext\n</tool_response>"
    assert result.repairs == ("tool response whitespace normalised",)


def test_preamble_before_the_call_is_kept() -> None:
    """Text before the call stays, separated by a blank line."""
    content = "Let me look.\n\n" + format_tool_call(CODE)
    result = check(example(("user", "hover"), ("assistant", content)))
    assert isinstance(result, Example)
    assert result.messages[2].content == content
    assert result.repairs == ()


def reparsed(result: ValidExample) -> tuple[str, ...]:
    """The tools an accepted example calls, read again from its messages."""
    return tuple(n for code in result.codes() for n in calls_in_order(code, TOOLS))


def test_accepted_example_carries_its_tools_and_category() -> None:
    """Tools called across every call, in order; the category is the first tool's."""
    result = check(
        example(
            ("user", "log then hover"),
            ("assistant", format_tool_call('print(git_log_direct(".", 3))')),
            ("user", "<tool_response>\nlog\n</tool_response>"),
            ("assistant", format_tool_call(CODE)),
            ("user", "<tool_response>\ntext\n</tool_response>"),
            ("assistant", "done"),
        )
    )
    assert isinstance(result, ValidExample)
    assert (result.tools, result.category) == (("git_log", "hover"), "git")


def test_chat_example_has_no_tools_and_category_chat() -> None:
    """An example without a call carries no tools and the category ``chat``."""
    result = check(example(("user", "hi"), ("assistant", "hello")))
    assert isinstance(result, ValidExample)
    assert (result.tools, result.category) == ((), "chat")


def test_rejection_carries_the_category_of_the_raw_calls() -> None:
    """A rejected example's category comes from its raw code (``_direct`` counts as the tool)."""
    bad = 'print(git_log_direct(".", count="3"))'
    rejected = check(example(("user", "a"), ("assistant", format_tool_call(bad))))
    assert isinstance(rejected, Rejection) and rejected.category == "git"
    untooled = check(example(("user", "a"), ("assistant", format_tool_call("print(1)"))))
    assert isinstance(untooled, Rejection) and untooled.category == "unknown"
    chat = check(example(("user", "a"), ("user", "b"), ("assistant", "c")))
    assert isinstance(chat, Rejection) and chat.category == "chat"


def test_roles_must_alternate() -> None:
    """Two user messages in a row are rejected."""
    assert "expected role 'assistant'" in reason(
        example(("user", "a"), ("user", "b"), ("assistant", "c"))
    )


def test_must_end_with_the_assistant() -> None:
    """An example ending on a user turn is rejected."""
    assert "ends with a user message" in reason(
        example(("user", "a"), ("assistant", "b"), ("user", "c"))
    )


def test_call_must_be_answered_by_a_tool_response() -> None:
    """A plain user message right after a tool call is rejected."""
    ex = example(
        ("user", "a"), ("assistant", format_tool_call(CODE)), ("user", "b"), ("assistant", "c")
    )
    assert "must be answered by a <tool_response>" in reason(ex)


def test_text_after_the_call_is_rejected() -> None:
    """Nothing may follow </tool_call>."""
    ex = example(("user", "a"), ("assistant", format_tool_call(CODE) + "\nand more"))
    assert "text after </tool_call>" in reason(ex)


def test_other_function_than_execute_code_is_rejected() -> None:
    """Only execute_code calls exist in Code Mode."""
    call = "<tool_call><function=hover>\n<parameter=code>\nx\n</parameter>\n</function></tool_call>"
    assert "not execute_code" in reason(example(("user", "a"), ("assistant", call)))


def test_bad_attribute_in_code_is_rejected() -> None:
    """The HoverResult.type_info reads of the foundation are rejected with the reason."""
    code = 'r = hover("a.py", 3, 0, "X")\nprint(r.type_info, r.documentation)'
    why = reason(example(("user", "a"), ("assistant", format_tool_call(code))))
    assert "message 3: line 2: HoverResult has no attribute 'type_info'" in why


def test_too_long_examples_are_rejected() -> None:
    """An example over max_seq_length tokens is rejected at the tokens stage."""
    words = Validator(TOOLS, PROMPT, 10, lambda ms: sum(len(m["content"].split()) for m in ms))
    result = check(example(("user", "one two three four five six"), ("assistant", "ok")), words)
    assert isinstance(result, Rejection)
    assert result.stage == "tokens"
    assert "too long" in result.reason
    assert result.category == "chat"


@given(strategies.random_messages)
def test_validator_never_crashes(messages: list[Message]) -> None:
    """Any message list gives an Example or a Rejection, never an exception."""
    result = check(Example("x", "extra", tuple(messages)))
    assert isinstance(result, Example | Rejection)
    if isinstance(result, Rejection):
        assert not result.reason.startswith("validator error"), result.reason


@given(strategies.random_messages)
def test_accepted_examples_follow_every_rule(messages: list[Message]) -> None:
    """Whatever the validator accepts alternates, ends with the assistant and has valid calls."""
    result = check(Example("x", "extra", tuple(messages)))
    if isinstance(result, Rejection):
        return
    assert result.tools == reparsed(result)
    roles = [m.role for m in result.messages]
    assert roles[0] == "system" and result.messages[0].content == PROMPT
    assert roles[1:] == ["user", "assistant"] * (len(roles) // 2)
    for before, m in zip(result.messages, result.messages[1:], strict=False):
        if m.role == "user" and parse_tool_response(m.content) is not None:
            assert parse_tool_call(before.content) is not None
        if m.role == "assistant" and "<tool_call>" in m.content:
            call = parse_tool_call(m.content)
            assert call is not None and call.code in strategies.GOOD_CODES


@given(strategies.valid_examples())
def test_valid_examples_are_accepted(ex: Example) -> None:
    """Examples built to follow the rules pass unchanged apart from the system prompt (and an
    announcement before the first call, which is dropped)."""
    result = check(ex)
    assert isinstance(result, ValidExample), result
    kept = list(ex.messages)
    if deferred_call(kept):
        del kept[2:4]
    assert result.messages[1:] == tuple(kept[1:])
    assert result.tools == reparsed(result)
    expected = TOOLS[result.tools[0]].category if result.tools else "chat"
    assert result.category == expected


BREAKERS = [
    lambda ms: [*ms, Message("user", "and then?")],
    lambda ms: [*ms[:2], ms[1], *ms[2:]],
    lambda ms: [*ms[:-1], Message("tool", ms[-1].content)],
    lambda ms: [*ms[:-1], Message("assistant", "")],
    lambda ms: [*ms, Message("assistant", "again")],
]


@given(strategies.valid_examples(), st.sampled_from(range(len(BREAKERS))))
def test_breaking_a_rule_is_rejected(ex: Example, which: int) -> None:
    """Appending a user turn, repeating a turn, a bad role or an empty turn is rejected."""
    broken = BREAKERS[which](list(ex.messages))
    assert isinstance(check(Example("x", "extra", tuple(broken))), Rejection)


@given(strategies.valid_examples(), st.sampled_from(strategies.BAD_CODES))
def test_bad_code_in_any_call_is_rejected(ex: Example, bad: str) -> None:
    """Putting broken code into a valid example's call gets it rejected."""
    messages = list(ex.messages)
    calls = [i for i, m in enumerate(messages) if "<tool_call>" in m.content]
    if not calls:
        messages[2] = Message("assistant", format_tool_call(bad))
    else:
        messages[calls[-1]] = Message("assistant", format_tool_call(bad))
    assert isinstance(check(Example("x", "extra", tuple(messages))), Rejection)


def test_optional_monty_type_check_rejects_what_the_stubs_refuse() -> None:
    """With --type-check, monty's checker rejects an attribute read on a possibly-None field."""
    checker = StubTypeChecker(stubs(TOOLS.values()))
    validator = Validator(TOOLS, PROMPT, type_check=checker)
    ok = check(example(("user", "a"), ("assistant", format_tool_call(CODE))), validator)
    assert isinstance(ok, Example)
    code = 'r = hover("a.py", 3, 0, "X")\nprint(r.content.upper())'
    bad = check(example(("user", "a"), ("assistant", format_tool_call(code))), validator)
    assert isinstance(bad, Rejection)
    assert "type check" in bad.reason and "upper" in bad.reason


def test_an_announcement_before_the_first_call_is_dropped() -> None:
    """ "I'll run X." + "Go ahead." + the call becomes the call answering the request."""
    call = format_tool_call(CODE)
    result = check(
        example(
            ("user", "Show the hover of X"),
            ("assistant", "I'll look up the hover information for X."),
            ("user", "Show me the results."),
            ("assistant", call),
            ("user", "<tool_response>\nint\n</tool_response>"),
            ("assistant", "X is an int."),
        )
    )
    assert isinstance(result, ValidExample)
    assert [m.content for m in result.messages[1:3]] == ["Show the hover of X", call]
    assert result.repairs == ("dropped the announcement before the first call",)


def test_a_question_or_a_real_answer_before_the_call_stays() -> None:
    """A clarifying question, or a user turn that says more than "go ahead", is kept."""
    call = format_tool_call(CODE)
    for reply, answer in (
        ("Which file do you mean?", "a.py"),
        ("I'll check the hover.", "Actually look at the definition in a.py line 3 instead"),
    ):
        turns = [("user", "hover X"), ("assistant", reply), ("user", answer), ("assistant", call)]
        result = check(example(*turns))
        assert isinstance(result, ValidExample)
        assert [m.content for m in result.messages[1:]] == [t[1] for t in turns]
