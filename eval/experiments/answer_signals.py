"""Iterate on the answer logic quickly: retrieval is cached on disk, only answering is re-run.

    python -m eval.experiments.answer_signals --split dev [--cache /tmp/answer_cache.pkl]
        [--set threshold=0.5 --set agree_coverage=0.4 ...]

Prints, per group (plan-worded answerable / plan-worded unanswerable / colloquial answerable /
colloquial unanswerable / near-miss),
abstention, false abstention, evidence in answer and in the first line, and with ``--list`` the
questions of a group. The cache holds the hybrid passages and best cosine of each question, so
it must be deleted when retrieval or the index changes. Tune on dev; test is for reporting.
"""

from __future__ import annotations

import argparse
import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval.answers import content_checks
from eval.metrics import is_relevant, load_question_file
from eval.retrieval import open_kb, torch_threads
from kb.answer import Answerer, AnswerWeights
from kb.filters import Filters


class DiskCachedAnswerer(Answerer):
    """An Answerer whose retrieval results come from a dict saved between runs."""

    cache: dict[tuple[str, str], Any] = {}

    def retrieve(self, query: str, exclude_text: str = "", filters: Filters | None = None) -> Any:
        key = (query, exclude_text, repr(filters))
        if key not in self.cache:
            self.cache[key] = super().retrieve(query, exclude_text, filters)
        return self.cache[key]


def group_of(q: Any) -> str:
    tags = set(q.tags)
    if "colloquial" in tags:
        return "colloquial" if q.answerable else "colloq_unans"
    if "near_miss" in tags:
        return "near_miss"
    if tags & {"western_year", "session"}:
        return "other"
    return "plan" if q.answerable else "plan_unans"


#: The groups of answerable questions.
ANSWERABLE = ("plan", "colloquial", "other")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="dev")
    parser.add_argument("--questions", type=Path, default=Path("eval/questions.jsonl"))
    parser.add_argument("--cache", type=Path, default=Path("/tmp/answer_cache.pkl"))
    parser.add_argument("--set", action="append", default=[], help="weight=value or threshold=value")
    parser.add_argument("--list", default="", help="a group whose questions to print")
    args = parser.parse_args()
    kb = open_kb(None)
    if args.cache.exists():
        DiskCachedAnswerer.cache = pickle.loads(args.cache.read_bytes())
    pairs = dict(s.split("=") for s in args.set)
    threshold = float(pairs.pop("threshold", kb.settings.abstain_threshold))
    defaults = AnswerWeights()
    overrides = {k: type(getattr(defaults, k))(float(v)) for k, v in pairs.items()}  # int, float, bool
    settings = kb.settings.replace(abstain_threshold=threshold)
    answerer = DiskCachedAnswerer(kb, settings, weights=replace(AnswerWeights(), **overrides))
    groups: dict[str, list[tuple[Any, Any]]] = {}
    with torch_threads(1):
        for q in load_question_file(args.questions, args.split):
            groups.setdefault(group_of(q), []).append((q, answerer.answer(q.question)))
    args.cache.write_bytes(pickle.dumps(DiskCachedAnswerer.cache))
    for name in ("plan", "plan_unans", "colloquial", "colloq_unans", "near_miss", "other"):
        pairs = groups.get(name, [])
        answered = [(q, a) for q, a in pairs if a.answerable and q.answerable]
        checks = [content_checks(q, a) for q, a in answered]
        declined = [(q, a) for q, a in pairs if not a.answerable]
        line = f"{name:11s} n={len(pairs):3d} declined {len(declined) / max(1, len(pairs)):.3f}"
        # Declined: how many were shown a related passage, and (answerable ones) how many of those hold the evidence.
        shown = [(q, a) for q, a in declined if a.citations]
        holds = sum(
            q.answerable and is_relevant(" ".join(c.quote for c in a.citations), q.evidence) for q, a in shown
        )
        line += f" related {len(shown)}/{len(declined)}" + (
            f" ({holds} hold evidence)" if name in ANSWERABLE else ""
        )
        if checks:
            line += f" in_answer {sum(c[0] for c in checks) / len(checks):.3f}"
            line += f" 1st {sum(c[1] for c in checks) / len(checks):.3f}"
            line += f" (with evidence {sum(c[0] for c in checks)}/{len(checks)})"
        print(line)
        if name == args.list:
            for q, a in pairs:
                mark = "DECL" if not a.answerable else "ans "
                ok = content_checks(q, a)[0] if q.answerable and a.answerable else ""
                print(
                    f"   {q.id} {mark} {a.confidence:.3f} {ok!s:5} {q.question} → {a.answer.splitlines()[0][:70]}"
                )


if __name__ == "__main__":
    main()
