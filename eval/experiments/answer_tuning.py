"""Sweep the extractive answer's thresholds on the DEV split (retrieval cached once per question).

    python -m eval.experiments.answer_tuning --index-dir PATH [--split dev]

Prints abstention / false abstention / evidence-in-answer / evidence-in-first-line / subject
errors for each setting, over all dev questions and per group (plan-worded, colloquial,
near-miss). The test split is never used to choose (``--split test`` only reports).
"""

from __future__ import annotations

import argparse
import itertools
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from eval.answers import content_checks
from eval.metrics import load_question_file
from eval.retrieval import open_kb, torch_threads
from kb.answer import Answerer, AnswerWeights


class CachedAnswerer(Answerer):
    """An Answerer whose retrieval results are memoised, so only the answer logic is re-run."""

    cache: dict[tuple[str, str, Any], Any] = {}

    def retrieve(self, query: str, exclude_text: str = "", filters: Any = None) -> Any:
        key = (query, exclude_text, filters)
        if key not in self.cache:
            self.cache[key] = super().retrieve(query, exclude_text, filters)
        return self.cache[key]


def evaluate(answerer: Answerer, questions: list[Any]) -> dict[str, dict[str, float]]:
    groups: dict[str, list[tuple[Any, Any]]] = {"all": [], "plan": [], "colloquial": [], "near_miss": []}
    for q in questions:
        ans = answerer.answer(q.question)
        groups["all"].append((q, ans))
        if "colloquial" in q.tags:
            groups["colloquial"].append((q, ans))
        elif "near_miss" in q.tags:
            groups["near_miss"].append((q, ans))
        elif not {"western_year", "session"} & set(q.tags):
            groups["plan"].append((q, ans))
    out = {}
    for name, pairs in groups.items():
        unans = [a for q, a in pairs if not q.answerable]
        ans_ = [(q, a) for q, a in pairs if q.answerable]
        answered = [(q, a) for q, a in ans_ if a.answerable]
        checks = [content_checks(q, a) for q, a in answered]
        out[name] = {
            "abstain": sum(not a.answerable for a in unans) / len(unans) if unans else float("nan"),
            "false_abst": sum(not a.answerable for _, a in ans_) / len(ans_) if ans_ else float("nan"),
            "in_answer": sum(c[0] for c in checks) / len(checks) if checks else float("nan"),
            "first_line": sum(c[1] for c in checks) / len(checks) if checks else float("nan"),
            "subject_err": sum(content_checks(q, a)[2] for q, a in pairs if not q.answerable),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path, required=True)
    parser.add_argument("--split", default="dev")
    parser.add_argument("--grid", default="full", choices=("full", "default"))
    args = parser.parse_args()
    kb = open_kb(args.index_dir)
    questions = load_question_file(Path("eval/questions.jsonl"), args.split)
    base = AnswerWeights()
    grid = (
        [{}]
        if args.grid == "default"
        else [
            {"threshold": t, "semantic_support": s, "semantic_pick": p, "agree_coverage": c}
            for t, s, p, c in itertools.product(
                (0.45, 0.5, 0.52, 0.55), (0.0, 0.6, 0.9), (0.0, 0.3), (0.4, 0.5, 0.6)
            )
        ]
    )
    with torch_threads(1):
        for params in grid:
            params = dict(params)
            threshold = params.pop("threshold", kb.settings.abstain_threshold)
            settings = kb.settings.replace(abstain_threshold=threshold)
            answerer = CachedAnswerer(kb, settings, weights=replace(base, **params))
            result = evaluate(answerer, questions)
            row = {"threshold": threshold, **params}
            cells = " | ".join(
                f"{g}: abst {m['abstain']:.2f} false {m['false_abst']:.2f} ans {m['in_answer']:.2f} "
                f"1st {m['first_line']:.2f} subj {m['subject_err']}"
                for g, m in result.items()
            )
            print(json.dumps(row), cells, flush=True)


if __name__ == "__main__":
    main()
