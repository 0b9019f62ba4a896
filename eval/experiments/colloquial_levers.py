"""Retrieval levers for everyday-words questions (#8), measured on the dev split in one process.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m eval.experiments.colloquial_levers [--split dev]
        [--only NAME,NAME] [--index-dir PATH]

Each variant is a Retriever over the same built index with some settings changed, a different
keyword index (built in memory from the same chunks) or a query rewrite; every variant runs the
answerable questions of the split in hybrid and semantic mode and prints hit@1 / hit@5 / MRR@10
per group: all, colloquial, plan-worded (no colloquial / western_year / session tag, as in
tests/integration/test_eval_floor.py). Query vectors are cached by the embedder, so a variant
costs seconds. Figures and conclusions: eval/experiments/colloquial_levers.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

from eval.check_questions import DEFAULT_QUESTIONS
from eval.metrics import Question, first_relevant_rank, load_question_file
from kb.config import load_settings
from kb.keyword import KeywordIndex
from kb.knowledge import KnowledgeBase
from kb.retrieve import Retriever
from kb.text import normalize

FOCUS_TAGS = {"colloquial", "western_year", "session"}
GROUPS: dict[str, Callable[[Question], bool]] = {
    "all": lambda q: True,
    "colloquial": lambda q: "colloquial" in q.tags,
    "plan-worded": lambda q: not FOCUS_TAGS & set(q.tags),
}
MODES = ("hybrid", "semantic")
K = 10


@dataclass(frozen=True)
class Variant:
    """One configuration: settings changes, an optional keyword-text rule, an optional retriever."""

    name: str
    settings: dict[str, object]
    keyword_text: Callable[[object], str] | None = None
    retriever_class: type[Retriever] = Retriever
    #: Module attributes replaced while the variant's keyword index is built and searched.
    patches: tuple[tuple[str, object], ...] = ()


def triplet(ranks: list[int | None]) -> tuple[float, float, float]:
    n = len(ranks) or 1
    h1 = sum(r == 1 for r in ranks) / n
    h5 = sum(r is not None and r <= 5 for r in ranks) / n
    mrr = sum(1.0 / r for r in ranks if r is not None) / n
    return h1, h5, mrr


def evaluate(retriever: Retriever, questions: list[Question]) -> dict[tuple[str, str], tuple[float, ...]]:
    out: dict[tuple[str, str], tuple[float, ...]] = {}
    for mode in MODES:
        ranks: dict[str, int | None] = {}
        for q in questions:
            hits = retriever.search(q.question, mode, K)
            ranks[q.id] = first_relevant_rank([h.text for h in hits], q.evidence)
        for group, member in GROUPS.items():
            out[(group, mode)] = triplet([ranks[q.id] for q in questions if member(q)])
    return out


def print_rows(name: str, result: dict[tuple[str, str], tuple[float, ...]], width: int) -> None:
    """One line per mode: the variant's hit@1 / hit@5 / MRR@10 per group."""
    for mode in MODES:
        cells = "  ".join("{:.3f}/{:.3f}/{:.3f}".format(*result[(g, mode)]) for g in GROUPS)
        print(f"{name:{width}} {mode:8} {cells}")


# Spoken endings of a question: they carry no topic and pull a query vector away from the
# plain written sentences of the plan (「…ってネットでできる？」 → 「…ってネットでできる」).
_SPOKEN_ENDING = re.compile(
    r"(?:って(?:ある|いる|いう|何|なに)?|とか|かな|かしら|のかな|んだろう|んですか|ですか|でしょうか|ますか|"
    r"なの|の|よね|よ|ね|か)?[?？!！。\s]*$"
)


def plain_question(query: str) -> str:
    """The question with its spoken ending cut: sentence-final particles and marks."""
    text = normalize(query)
    return _SPOKEN_ENDING.sub("", text) or text


class PassageModeQuery(Retriever):
    """The query embedded in passage mode too, the two vectors averaged (symmetric matching)."""

    def _query_vector(self, query: str, rewritten: str | None = None):  # type: ignore[no-untyped-def]
        import numpy as np

        q = super()._query_vector(query, rewritten)
        p = self.embedder.embed_passages([query])[0]  # type: ignore[union-attr]
        v = q + p
        return v / np.linalg.norm(v)


class PlainQuery(Retriever):
    """The query with its spoken sentence ending cut (って/の？/かな …) before embedding."""

    def _query_vector(self, query: str, rewritten: str | None = None):  # type: ignore[no-untyped-def]
        return super()._query_vector(plain_question(query), rewritten and plain_question(rewritten))


class CoverageWithExpansions(Retriever):
    """Typed words that found corpus synonyms count as known when setting the keyword weight."""

    def keyword_coverage(self, query: str) -> float:
        from kb.text import word_tokens

        words = set(word_tokens(query))
        expanded = {e.typed for e in self.expansions(query)}
        return sum(w in self._vocabulary or w in expanded for w in words) / len(words) if words else 0.0


def prf_retriever(top_chunks: int, terms: int, weight: float) -> type[Retriever]:
    """Pseudo-relevance feedback: the rarest words of the top semantic chunks join the keyword
    query at ``weight`` of a typed word."""
    import math

    from kb.keyword import index_tokens

    class PRF(Retriever):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self._tokens = {cid: set(index_tokens(c.index_text)) for cid, c in self.chunks.items()}
            df: dict[str, int] = {}
            for tokens in self._tokens.values():
                for t in tokens:
                    df[t] = df.get(t, 0) + 1
            n = len(self._tokens)
            self._idf = {t: math.log(n / d) for t, d in df.items()}

        def keyword_ranking(self, query, n, filters=None, expansions=()):  # type: ignore[no-untyped-def]
            typed = set(index_tokens(query))
            top = self.semantic_scores(query, top_chunks, filters).scores
            counts: dict[str, float] = {}
            for cid, _ in top:
                for t in self._tokens[cid]:
                    if t not in typed and self._idf.get(t, 0) > 1.0:
                        counts[t] = counts.get(t, 0.0) + self._idf[t]
            feedback = sorted(counts, key=lambda t: -counts[t])[:terms]
            added = [token for e in expansions for token in e.added]
            ranked = self.keyword.search(query, n, self._mask(filters), added, self.settings.expansion_weight)
            if not feedback:
                return ranked
            extra = self.keyword.search(" ".join(feedback), n, self._mask(filters))
            best = max((s for _, s in ranked), default=0.0) or 1.0
            best_extra = max((s for _, s in extra), default=0.0) or 1.0
            merged = {cid: s / best for cid, s in ranked}
            for cid, s in extra:
                merged[cid] = merged.get(cid, 0.0) + weight * s / best_extra
            return sorted(merged.items(), key=lambda kv: -kv[1])[:n]

    return PRF


class KeywordSideExpansion(Retriever):
    """Synonyms on the keyword side only: the typed query alone is embedded."""

    def semantic_scores(self, query, n, filters=None, rewritten=None):  # type: ignore[no-untyped-def]
        return super().semantic_scores(query, n, filters)


def rewrite_mix(share: float) -> type[Retriever]:
    """The rewritten query's vector at ``share`` of the mix (the default is 0.5)."""

    class RewriteMix(Retriever):
        def _query_vector(self, query: str, rewritten: str | None = None):  # type: ignore[no-untyped-def]
            import numpy as np

            vector = super()._query_vector(query)
            if rewritten is None:
                return vector
            mixed = (1 - share) * vector + share * self.embedder.embed_query(rewritten)  # type: ignore[union-attr]
            return mixed / np.linalg.norm(mixed)

    return RewriteMix


def variants() -> list[Variant]:
    """Every variant measured (see the .md for what each tests)."""
    from kb.lexicon import STOP_LEMMAS

    unidic_lemmas = set(
        "為る 成る 出来る 居る 有る 無い 何時 此れ 其れ 彼れ 此の 其の 此処 其処 事 物 為".split()
    )
    # main before this work: keyword weight clip(0.3 · coverage, 0.1, 0.8), no expansion.
    old_rule = {
        "adaptive_coverage_low": 1 / 3,
        "adaptive_coverage_high": 1.0,
        "adaptive_keyword_min": 0.1,
        "adaptive_keyword_max": 0.3,
        "expansion_weight": 0.0,
    }
    no_expansion = {"expansion_weight": 0.0}
    return [
        Variant("main", old_rule),
        # Task 1: undo each change made between the 0.791 and 0.755 plan-worded test figures.
        Variant("main fixed fusion w=0.5", {**old_rule, "fusion": "score", "hybrid_keyword_weight": 0.5}),
        Variant("main no sentence vectors", {**old_rule, "sentence_weight": 0.0}),
        Variant(
            "main no sentence vectors w=0.5",
            {**old_rule, "sentence_weight": 0.0, "fusion": "score", "hybrid_keyword_weight": 0.5},
        ),
        Variant("main no era tokens", old_rule, patches=(("kb.keyword.year_tokens", lambda text: []),)),
        Variant(
            "main stop list without unidic lemmas",
            old_rule,
            patches=(("kb.text.STOP_LEMMAS", frozenset(STOP_LEMMAS - unidic_lemmas)),),
        ),
        # The fix: a coverage ramp (sweep: /tmp sweep in the .md), no expansion yet.
        Variant("ramp", no_expansion),
        # Task 2: Sudachi synonyms for typed words the keyword index lacks (on the ramp): their
        # tokens on the keyword side at this weight, and the query with them in place of the typed
        # word embedded beside the typed query.
        Variant("ramp expansion 0.3", {"expansion_weight": 0.3}),
        Variant("ramp expansion 0.5", {"expansion_weight": 0.5}),
        Variant("ramp expansion 0.7 (default)", {}),
        Variant("ramp expansion 1.0", {"expansion_weight": 1.0}),
        Variant("expansion counted as coverage", {}, retriever_class=CoverageWithExpansions),
        Variant("expansion keyword side only", {}, retriever_class=KeywordSideExpansion),
        Variant("rewritten vector share 0.35", {}, retriever_class=rewrite_mix(0.35)),
        Variant("rewritten vector share 0.65", {}, retriever_class=rewrite_mix(0.65)),
        Variant("rewritten vector alone", {}, retriever_class=rewrite_mix(1.0)),
        # Task 3: other levers, each on the default.
        Variant("prf 3 chunks 10 terms 0.3", {}, retriever_class=prf_retriever(3, 10, 0.3)),
        Variant("prf 1 chunk 5 terms 0.3", {}, retriever_class=prf_retriever(1, 5, 0.3)),
        Variant("prf 3 chunks 10 terms 0.6", {}, retriever_class=prf_retriever(3, 10, 0.6)),
        Variant("sentence weight 0.35", {"sentence_weight": 0.35}),
        Variant("sentence weight 0.65", {"sentence_weight": 0.65}),
        Variant("passage-mode query averaged", {}, retriever_class=PassageModeQuery),
        Variant("plain question for embedding", {}, retriever_class=PlainQuery),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--only", default="")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--sweep-fusion", action="store_true", help="grid of coverage ramps instead")

    args = parser.parse_args(argv)
    settings = load_settings()
    if args.index_dir:
        settings = settings.replace(index_dir=args.index_dir)
    kb = KnowledgeBase.open(settings)
    questions = [q for q in load_question_file(DEFAULT_QUESTIONS, split=args.split) if q.answerable]
    wanted = set(filter(None, args.only.split(",")))
    base = kb.retriever
    if args.sweep_fusion:
        sweep_fusion(
            Retriever(
                kb.chunks,
                base.keyword,
                base.store,
                base.embedder,
                settings.replace(expansion_weight=0.0),
                base.sentence_store,
            ),
            questions,
        )
        return 0
    header = f"{'variant':34} {'mode':8} " + "  ".join(f"{g:>18}" for g in GROUPS)
    print(header)
    for variant in variants():
        if wanted and variant.name not in wanted:
            continue
        started = time.perf_counter()
        vs = settings.replace(**variant.settings)
        with ExitStack() as stack:
            for target, value in variant.patches:
                stack.enter_context(mock.patch(target, value))
            result = run_variant(kb, base, vs, variant, questions)
        print_rows(variant.name, result, 34)
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        sys.stdout.flush()
    return 0


def run_variant(kb, base, vs, variant, questions):  # type: ignore[no-untyped-def]
    """Build the variant's retriever over the open index and evaluate it."""
    if True:
        keyword = base.keyword
        if variant.keyword_text is not None or variant.patches:
            keyword = KeywordIndex.build(
                [c.chunk_id for c in kb.chunks],
                [(variant.keyword_text or (lambda c: c.index_text))(c) for c in kb.chunks],
                vs.bm25_k1,
                vs.bm25_b,
                vs.bigram_weight,
            )
        retriever = variant.retriever_class(
            kb.chunks, keyword, base.store, base.embedder, vs, base.sentence_store
        )
        return evaluate(retriever, questions)


def fusion_inputs(retriever: Retriever, questions: list[Question]) -> list[dict[str, object]]:
    """Per question: keyword and semantic pools, keyword coverage, and the relevant chunk ids."""
    pool = retriever.settings.candidate_pool
    rows = []
    for q in questions:
        relevant = {
            cid for cid, c in retriever.chunks.items() if first_relevant_rank([c.text], q.evidence) == 1
        }
        rows.append(
            {
                "question": q,
                "keyword": retriever.keyword_ranking(q.question, pool),
                "semantic": retriever.semantic_scores(q.question, pool).scores,
                "coverage": retriever.keyword_coverage(q.question),
                "relevant": relevant,
            }
        )
    return rows


def fused_metrics(rows: list[dict[str, object]], weight_of: Callable[[dict[str, object]], float]):  # type: ignore[no-untyped-def]
    """Group triplets of score fusion with a per-question keyword weight."""
    from kb.retrieve import score_fuse

    ranks: dict[str, int | None] = {}
    for row in rows:
        fused = score_fuse(row["keyword"], row["semantic"], weight_of(row))  # type: ignore[arg-type]
        top = [cid for cid, _ in sorted(fused.items(), key=lambda kv: -kv[1])[:K]]
        first = next((i for i, cid in enumerate(top, 1) if cid in row["relevant"]), None)  # type: ignore[operator]
        ranks[row["question"].id] = first  # type: ignore[attr-defined]
    questions = [row["question"] for row in rows]
    return {g: triplet([ranks[q.id] for q in questions if m(q)]) for g, m in GROUPS.items()}  # type: ignore[attr-defined]


def sweep_fusion(retriever: Retriever, questions: list[Question]) -> None:
    """Keyword weight = lo_w + (hi_w - lo_w) · clip((coverage - lo) / (hi - lo), 0, 1) over a grid;
    objective: mean of (hit@1 + MRR) / 2 over colloquial and plan-worded (as dense_signals.md)."""
    import itertools

    rows = fusion_inputs(retriever, questions)

    def ramp(lo: float, hi: float, w_lo: float, w_hi: float) -> Callable[[dict[str, object]], float]:
        def weight(row: dict[str, object]) -> float:
            rise = min(1.0, max(0.0, (float(row["coverage"]) - lo) / (hi - lo)))  # type: ignore[arg-type]
            return w_lo + (w_hi - w_lo) * rise

        return weight

    results = []
    grid = itertools.product(
        [0.3, 0.4, 0.5, 0.6, 0.7], [0.8, 0.9, 1.0], [0.05, 0.1, 0.15, 0.2], [0.3, 0.4, 0.5, 0.6]
    )
    for lo, hi, w_lo, w_hi in grid:
        m = fused_metrics(rows, ramp(lo, hi, w_lo, w_hi))
        objective = sum((m[g][0] + m[g][2]) / 2 for g in ("colloquial", "plan-worded")) / 2
        results.append((objective, (lo, hi, w_lo, w_hi), m))
    results.sort(key=lambda r: -r[0])
    for objective, params, m in results[:20]:
        cells = "  ".join("{}: {:.3f}/{:.3f}/{:.3f}".format(g, *m[g]) for g in ("colloquial", "plan-worded"))
        print(f"{objective:.3f} lo={params[0]} hi={params[1]} w {params[2]}→{params[3]}  {cells}")


if __name__ == "__main__":
    raise SystemExit(main())
