"""Questions, the relevance rule and ranking metrics for the retrieval evaluation.

Definitions (binary relevance, see eval/QUESTIONS.md):

* a passage is relevant when ``normalise_for_match(passage)`` contains the normalised form of
  at least one evidence span of the question;
* ``hit@n``: 1 if the first relevant passage is at rank <= n, else 0;
* ``mrr@k``: 1 / rank of the first relevant passage within the top k, else 0;
* ``ndcg@k``: nDCG with one relevant passage expected. Evidence spans are alternatives (any one
  answers the question), so only the first relevant passage earns gain 1 and the ideal DCG is 1:
  ``ndcg@k = 1 / log2(1 + first relevant rank)``. Later relevant passages are redundant.

Only answerable questions enter these means; unanswerable ones are run and timed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from eval.check_questions import load_questions, normalise_for_match, primary_type

#: Cut-offs reported as hit@n (those above the run's k are left out).
HIT_CUTOFFS = (1, 3, 5, 10)
#: A question counts as a failure when its first relevant passage is below this rank (or absent).
FAILURE_RANK = 5


@dataclass(frozen=True)
class Question:
    """One evaluation question; only ``id`` and ``question`` are required in the file."""

    id: str
    question: str
    evidence: tuple[str, ...] = ()
    answerable: bool = True
    tags: tuple[str, ...] = ()
    split: str | None = None

    @property
    def primary_type(self) -> str:
        return primary_type(self.tags) or "untagged"


def question_from_dict(item: Mapping[str, Any], where: str) -> Question:
    """A Question from one JSON object; unknown fields are ignored, ValueError if unusable."""
    qid, text = item.get("id"), item.get("question")
    if not isinstance(qid, str) or not isinstance(text, str) or not text.strip():
        raise ValueError(f"{where}: needs string fields 'id' and 'question'")
    evidence = item.get("evidence") or []
    tags = item.get("tags") or []
    if not isinstance(evidence, list) or not all(isinstance(s, str) for s in evidence):
        raise ValueError(f"{where}: 'evidence' must be a list of strings")
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError(f"{where}: 'tags' must be a list of strings")
    split = item.get("split")
    # Without evidence nothing can be judged relevant, so such a question is scored like an
    # unanswerable one instead of counting as a guaranteed miss.
    answerable = bool(item.get("answerable", True)) and bool(evidence)
    return Question(
        id=qid,
        question=text,
        evidence=tuple(evidence),
        answerable=answerable,
        tags=tuple(tags),
        split=split if isinstance(split, str) else None,
    )


def load_question_file(path: str | Path, split: str = "all") -> list[Question]:
    """Questions from a JSON Lines file, keeping those of ``split`` ("all" keeps every one)."""
    try:
        items = load_questions(path)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        raise ValueError(f"{path}: {exc}") from exc
    questions = [question_from_dict(item, f"{path} item {n}") for n, item in enumerate(items, start=1)]
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise ValueError(f"{path}: duplicate question ids")
    return [q for q in questions if split == "all" or q.split == split]


@lru_cache(maxsize=65536)
def _normalised(text: str) -> str:
    # The same chunk comes back for many questions and modes: normalise it once.
    return normalise_for_match(text)


def is_relevant(text: str, evidence: Iterable[str]) -> bool:
    """The relevance rule: the passage contains at least one evidence span (normalised)."""
    haystack = _normalised(text)
    return any((span := _normalised(s)) and span in haystack for s in evidence)


def first_relevant_rank(texts: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first relevant passage in ``texts``, or None."""
    for rank, text in enumerate(texts, start=1):
        if is_relevant(text, evidence):
            return rank
    return None


def hit_at(rank: int | None, n: int) -> float:
    return 1.0 if rank is not None and rank <= n else 0.0


def reciprocal_rank(rank: int | None, k: int) -> float:
    return 1.0 / rank if rank is not None and rank <= k else 0.0


def ndcg_at(gains: Sequence[float], k: int, n_relevant: int) -> float:
    """Standard binary nDCG@k: DCG of ``gains`` over the ideal DCG of ``n_relevant`` relevant items."""
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, n_relevant)))
    if ideal == 0.0:
        return 0.0
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains[:k]))
    return dcg / ideal


def first_hit_ndcg(rank: int | None, k: int) -> float:
    """nDCG@k with one relevant passage expected (gain only for the first relevant one)."""
    if rank is None or rank > k:
        return 0.0
    gains = [0.0] * (rank - 1) + [1.0]
    return ndcg_at(gains, k, n_relevant=1)


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if values else None


@dataclass(frozen=True)
class QuestionRun:
    """One question's ranked hits from one system, timed; ``first_rank`` follows the rule."""

    question: Question
    hits: tuple[dict[str, Any], ...]
    latency_ms: float
    error: str | None = None
    first_rank: int | None = field(init=False)

    def __post_init__(self) -> None:
        texts = [h["text"] for h in self.hits]
        object.__setattr__(self, "first_rank", first_relevant_rank(texts, self.question.evidence))

    def is_failure(self) -> bool:
        return self.question.answerable and (self.first_rank is None or self.first_rank > FAILURE_RANK)


def _mean(values: Sequence[float]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def _rounded(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summarise(runs: Sequence[QuestionRun], k: int) -> dict[str, Any]:
    """Ranking metrics over the answerable runs, latency and chunk length over all runs."""
    ranks = [r.first_rank for r in runs if r.question.answerable]
    summary: dict[str, Any] = {"questions": len(runs), "answerable": len(ranks)}
    for n in HIT_CUTOFFS:
        if n <= k:
            summary[f"hit@{n}"] = _mean([hit_at(r, n) for r in ranks])
    summary[f"mrr@{k}"] = _mean([reciprocal_rank(r, k) for r in ranks])
    summary[f"ndcg@{k}"] = _mean([first_hit_ndcg(r, k) for r in ranks])
    latencies = [r.latency_ms for r in runs if r.error is None]
    summary["latency_p50_ms"] = _rounded(percentile(latencies, 50))
    summary["latency_p95_ms"] = _rounded(percentile(latencies, 95))
    lengths = [len(h["text"]) for r in runs for h in r.hits]
    summary["mean_chunk_chars"] = _rounded(_mean(lengths))
    summary["errors"] = sum(r.error is not None for r in runs)
    return summary


def split_names(questions: Iterable[Question]) -> list[str]:
    """The splits present ("dev", "test", others sorted), then "all"."""
    present = {q.split for q in questions if q.split}
    ordered = [s for s in ("dev", "test") if s in present] + sorted(present - {"dev", "test"})
    return [*ordered, "all"]


def by_split(runs: Sequence[QuestionRun], k: int) -> dict[str, dict[str, Any]]:
    """Summaries per split and for all runs together."""
    names = split_names(r.question for r in runs)
    return {
        name: summarise([r for r in runs if name == "all" or r.question.split == name], k) for name in names
    }


def by_group(runs: Sequence[QuestionRun], k: int, key: str) -> dict[str, dict[str, Any]]:
    """Summaries per tag (a question counts under each of its tags) or per primary type."""
    groups: dict[str, list[QuestionRun]] = {}
    for run in runs:
        labels = run.question.tags if key == "tag" else (run.question.primary_type,)
        for label in labels:
            groups.setdefault(label, []).append(run)
    return {label: summarise(groups[label], k) for label in sorted(groups)}
