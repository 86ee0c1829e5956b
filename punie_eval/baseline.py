"""The bag-of-words baseline: a classifier from request text to the first tool to call.

A TF-IDF (word 1-2-grams plus character 3-5-grams) logistic regression trained on the run's own
train split, each example's first user message mapped to the first tool its reply calls
(``punie_eval.first_call``). On the eval queries it gives the first-tool accuracy a model must
beat to show it learned more than which words go with which tool. It is scored exactly as the
model is (``eval_results.expected_first``). scikit-learn is imported only when fitting.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from punie_datagen.jsonl import DatasetFileError, read_chat_jsonl
from punie_eval.eval_results import expected_first
from punie_eval.first_call import decisions
from punie_tools import EvalQuery

SEED = 0
C = 10.0
MAX_ITER = 2000


class BaselineError(Exception):
    """The train split gives the classifier nothing to learn from."""


@attrs.frozen(eq=False)
class FirstToolClassifier:
    """A fitted query -> first tool classifier (a scikit-learn pipeline, or one constant tool)."""

    pipeline: Any
    tools: tuple[str, ...]
    train_examples: int

    def predict(self, queries: Sequence[str]) -> list[str]:
        """The predicted first tool of each query."""
        if not queries:
            return []
        if self.pipeline is None:  # the split had a single tool: nothing to choose between
            return [self.tools[0]] * len(queries)
        return [str(tool) for tool in self.pipeline.predict(list(queries))]


def fit_classifier(
    chats: Sequence[Sequence[Mapping[str, str]]], tool_names: Collection[str]
) -> FirstToolClassifier:
    """Fit the classifier on every chat's decision (first user message -> first tool called)."""
    pairs = decisions(chats, tool_names)
    if not pairs:
        raise BaselineError("no chat has a user message answered by an assistant turn")
    queries = [d.query for d in pairs]
    labels = [d.tool for d in pairs]
    tools = tuple(sorted(set(labels)))
    if len(tools) == 1:
        return FirstToolClassifier(None, tools, len(pairs))
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import FeatureUnion, make_pipeline

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            (
                "chars",
                TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True),
            ),
        ]
    )
    model = LogisticRegression(C=C, solver="lbfgs", max_iter=MAX_ITER, random_state=SEED)
    pipeline = make_pipeline(features, model)
    pipeline.fit(queries, labels)
    return FirstToolClassifier(pipeline, tools, len(pairs))


@attrs.frozen
class Prediction:
    """The classifier's first tool for one eval query, and whether it is an expected one."""

    id: str
    category: str
    query: str
    expected: tuple[str, ...]
    predicted: str
    right: bool


@attrs.frozen
class Accuracy:
    """First-tool accuracy over a group of queries (a category, or ``overall``)."""

    name: str
    n: int
    right: int
    accuracy: float

    @classmethod
    def of(cls, name: str, predictions: Sequence[Prediction]) -> Accuracy:
        """Count the right predictions of a group."""
        right = sum(p.right for p in predictions)
        return cls(name, len(predictions), right, right / len(predictions) if predictions else 0.0)


@attrs.frozen
class BaselineResult:
    """The classifier's predictions on the eval queries, overall and per-category accuracy."""

    train_examples: int
    tools: tuple[str, ...]
    predictions: tuple[Prediction, ...]
    overall: Accuracy
    categories: tuple[Accuracy, ...]
    train_path: str | None = None

    def category(self, name: str) -> Accuracy | None:
        """The accuracy of one category (None if it had no queries)."""
        return next((a for a in self.categories if a.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return attrs.asdict(self)


def evaluate_classifier(
    classifier: FirstToolClassifier, queries: Sequence[EvalQuery], train_path: str | None = None
) -> BaselineResult:
    """Predict each eval query's first tool and score it against the expected tools."""
    predicted = classifier.predict([q.query for q in queries])
    predictions = []
    for query, tool in zip(queries, predicted, strict=True):
        expected = tuple(dict.fromkeys(e.tool for e in query.expected))
        predictions.append(
            Prediction(
                query.id,
                query.category,
                query.query,
                expected,
                tool,
                expected_first(tool, expected),
            )
        )
    by_category: dict[str, list[Prediction]] = {}
    for p in predictions:
        by_category.setdefault(p.category, []).append(p)
    return BaselineResult(
        train_examples=classifier.train_examples,
        tools=classifier.tools,
        predictions=tuple(predictions),
        overall=Accuracy.of("overall", predictions),
        categories=tuple(Accuracy.of(c, ps) for c, ps in by_category.items()),
        train_path=train_path,
    )


def baseline_for_split(
    train: Path, tool_names: Collection[str], queries: Sequence[EvalQuery]
) -> BaselineResult:
    """Fit on a train split (chat JSONL) and score the eval queries.

    Raises ``DatasetFileError`` for an unreadable split and ``BaselineError`` for one with no
    decisions.
    """
    classifier = fit_classifier(read_chat_jsonl(train), tool_names)
    return evaluate_classifier(classifier, queries, str(train))


def baseline_for_run(
    data: Path, tool_names: Collection[str], queries: Sequence[EvalQuery]
) -> tuple[BaselineResult | None, str]:
    """The baseline of a run whose dataset folder is ``data``, and a line for the console.

    None (the line says why) when there is no usable ``train.jsonl``, as in an evaluation-only
    run with no dataset.
    """
    train = data / "train.jsonl"
    if not train.is_file():
        return None, f"[yellow]warning:[/yellow] no {train}: the report has no classifier baseline"
    started = time.perf_counter()
    try:
        result = baseline_for_split(train, tool_names, queries)
    except (DatasetFileError, BaselineError) as error:
        return None, f"[yellow]warning:[/yellow] no classifier baseline: {error}"
    return result, (
        f"classifier baseline: first tool right for {result.overall.right} of "
        f"{result.overall.n} eval queries (fitted on {result.train_examples} examples of "
        f"{train} in {time.perf_counter() - started:.1f} s)"
    )
