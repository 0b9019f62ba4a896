"""Choose Settings.relevance_floor on the DEV questions: where does "found by meaning alone" stop
meaning "related"?

    python -m eval.experiments.relevance_floor --index-dir PATH

For every answerable dev question, the top-10 hybrid hits that have no keyword match are split
into relevant (contain an evidence span) and not; the script prints the semantic-score quantiles
of both and, per candidate floor, the share of each group that would be marked weak.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from eval.metrics import is_relevant, load_question_file
from eval.retrieval import open_kb, torch_threads


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path, required=True)
    args = parser.parse_args()
    kb = open_kb(args.index_dir)
    retriever = kb.retriever
    questions = [q for q in load_question_file(Path("eval/questions.jsonl"), "dev") if q.answerable]
    relevant: list[float] = []
    other: list[float] = []
    with torch_threads(1):
        for q in questions:
            semantic = dict(retriever.semantic_scores(q.question, 200).scores)
            matched = {cid for cid, _ in retriever.keyword_ranking(q.question, 200)}
            for hit in kb.search(q.question, mode="hybrid", k=10):
                if hit.chunk_id in matched:
                    continue
                (relevant if is_relevant(hit.text, q.evidence) else other).append(semantic[hit.chunk_id])
    for name, values in (("relevant", relevant), ("other", other)):
        qs = np.quantile(values, [0.02, 0.05, 0.1, 0.25, 0.5]) if values else []
        print(f"{name}: n={len(values)} quantiles 2/5/10/25/50%: " + " ".join(f"{v:.3f}" for v in qs))
    for floor in np.arange(0.80, 0.90, 0.005):
        r = np.mean([v < floor for v in relevant]) if relevant else 0.0
        o = np.mean([v < floor for v in other]) if other else 0.0
        print(f"floor {floor:.3f}: relevant marked weak {r:.3f}, other marked weak {o:.3f}")


if __name__ == "__main__":
    main()
