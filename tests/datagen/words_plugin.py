"""A tiny drop-in plugin package, written into a folder for tests (no entry point needed)."""

from __future__ import annotations

from pathlib import Path

PLUGIN = "demo_words"

INIT = '''
"""A drop-in test plugin: count the words of a text file."""

from pathlib import Path

import attrs

from punie_tools import (
    EvalQuery,
    ExpectedCall,
    Fixture,
    ToolSpec,
    Workspace,
    hookimpl,
    templates_in,
)

HERE = Path(__file__).parent


@attrs.frozen
class WordFreq:
    """A word and how often it occurs."""

    word: str
    count: int


@attrs.frozen
class WordCountResult:
    """Word and line counts of one file."""

    success: bool
    path: str
    words: int = 0
    lines: int = 0
    top: list[WordFreq] = attrs.field(factory=list)
    parse_error: str | None = None


def count_words(ws: Workspace, path: str, top: int = 3) -> WordCountResult:
    """Count the words and lines of a text file.

    Args:
        path: the file, relative to the workspace
        top: how many of the most frequent words to list
    """
    file = ws.resolve(path)
    if not file.is_file():
        return WordCountResult(success=False, path=path, parse_error=f"no file {path}")
    text = file.read_text()
    counts = {}
    for word in text.lower().split():
        counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return WordCountResult(
        success=True,
        path=path,
        words=sum(counts.values()),
        lines=len(text.splitlines()),
        top=[WordFreq(w, c) for w, c in ranked],
    )


def workspace_root(ws: Workspace) -> str:
    """The absolute path of the workspace (differs between fixture copies)."""
    return str(ws.root)


def _stamp(root: Path) -> None:
    (root / "stamp.txt").write_text("made by setup\\n")


@hookimpl
def punie_tools():
    return [
        ToolSpec.from_function(count_words, category="demo"),
        ToolSpec.from_function(workspace_root, category="demo"),
    ]


@hookimpl
def punie_fixtures():
    return [Fixture("notes", HERE / "fixtures" / "notes", setup=_stamp)]


@hookimpl
def punie_example_templates():
    pools = {"files": ["a.txt", "b.txt", "c.txt", "stamp.txt"]}
    return templates_in(__name__, "notes", pools)


@hookimpl
def punie_eval_queries():
    return [
        EvalQuery(
            id="demo-count-1",
            query="What is the total number of words written in the file b.txt of my notes?",
            category="demo",
            fixture="notes",
            expected=(ExpectedCall("count_words", {"path": "b.txt"}),),
        )
    ]
'''

COUNT = """\
{% set file = choice(files) %}
{% set n = randint(1, 3) %}
{% block query %}{{ choice(["How many words are in", "Count the words in",
  "Give me a word count for", "Word statistics for", "Tell me how long"]) }} {{ file
  }}{{ choice(["?", "", " please", " (top " ~ n ~ " words too)"]) }}{% endblock %}
{% block preamble %}{{ choice(["", "", "Let me count them."]) }}{% endblock %}
{% block code %}
r = count_words("{{ file }}", {{ n }})
print(f"{r.words} words, {r.lines} lines")
for w in r.top:
    print(w.word, w.count)
{% endblock %}
{% block answer %}{{ file }} has {{ output.splitlines()[0] }}.{% endblock %}
"""

COMPARE = """\
{% set pair = sample(files, 2) %}
{% block query %}{{ choice(["Which is longer,", "Compare the length of"]) }} {{ pair[0] }} {{
  choice(["or", "and"]) }} {{ pair[1] }}?{% endblock %}
{% block code %}
a = count_words("{{ pair[0] }}")
print("{{ pair[0] }}", a.words)
{% endblock %}
{% block code_2 %}
b = count_words("{{ pair[1] }}")
print("{{ pair[1] }}", b.words)
{% endblock %}
{% block answer %}
{% set first = outputs[0].split()[1] | int %}
{% set second = output.split()[1] | int %}
{{ pair[0] if first >= second else pair[1] }} is longer ({{ [first, second] | max }} words).
{% endblock %}
"""


def write_plugin(root: Path, templates: dict[str, str] | None = None) -> Path:
    """Write the demo plugin package under ``root``; return the package folder."""
    package = Path(root) / PLUGIN
    (package / "templates").mkdir(parents=True)
    (package / "__init__.py").write_text(INIT)
    for name, source in (templates or {"count": COUNT, "compare": COMPARE}).items():
        (package / "templates" / f"{name}.jinja").write_text(source)
    notes = package / "fixtures" / "notes"
    notes.mkdir(parents=True)
    (notes / "a.txt").write_text("the cat sat on the mat\nthe end\n")
    (notes / "b.txt").write_text("one two three\nfour five\nsix\n")
    (notes / "c.txt").write_text("alpha beta alpha gamma alpha beta\n")
    return package
