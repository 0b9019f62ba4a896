"""Expected questions (想定質問: the questions a passage answers, in everyday words) as a retrieval
lever for questions in everyday words (#8).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m eval.experiments.expected_questions FILE.tsv
        [--split dev] [--only NAME,NAME] [--index-dir PATH]

The file (``anchor<TAB>question…``, kb/expected_questions.py) was written from the chunks' text
alone by writers who did not see the question set. Variants, over the live index (which already
holds the thesaurus in its keyword text); groups and cells as in colloquial_levers.py:

- keyword: the questions join the keyword text of the chunks holding their anchor;
- vectors: each question is embedded (query mode, like a typed question); a chunk's semantic score
  becomes max(its score, best question cosine − discount), or a mix with ``lam``;
- both;
- ``--drop-doc``: per document, its questions removed while the others keep theirs (a document
  added with ``kb add`` has none), with and without its sentences standing in for questions;
  questions grouped by the document holding their evidence;
- ``--sweep NAME=V1,V2``: the live index (exactly ``kb search``) with one setting varied;
- ``--overlap``: near copies of the evaluation questions among the expected questions.
Figures and conclusions: eval/experiments/expected_questions.md.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

from eval.check_questions import DEFAULT_QUESTIONS
from eval.experiments.colloquial_levers import GROUPS, evaluate, print_rows, triplet
from eval.metrics import Question, first_relevant_rank, load_question_file
from kb.chunk import Chunk, chunk_sentences
from kb.config import load_settings
from kb.expected_questions import ExpectedQuestions, parse_expected_questions
from kb.keyword import KeywordIndex
from kb.knowledge import KnowledgeBase
from kb.plain_words import keyword_text
from kb.retrieve import Retriever, SemanticScores
from kb.text import normalize


def load(paths: list[Path]) -> ExpectedQuestions:
    text = "\n".join(p.read_text(encoding="utf-8") for p in paths)
    return parse_expected_questions(text, "expected questions")


def question_retriever(
    questions: list[str], owners: list[list[str]], vectors: np.ndarray, discount: float, lam: float
) -> type[Retriever]:
    """Chunks also scored by their closest expected question (see the module docstring)."""

    class WithQuestions(Retriever):
        def semantic_scores(self, query, n, filters=None, rewritten=None):  # type: ignore[no-untyped-def]
            base = super().semantic_scores(query, len(self.chunks), filters, rewritten)
            vector = self._query_vector(query, rewritten)
            cos = vectors @ vector
            best: dict[str, float] = {}
            for i, c in enumerate(cos):
                for cid in owners[i]:
                    if c > best.get(cid, -1.0):
                        best[cid] = float(c)
            mixed = {}
            for cid, score in base.scores:
                q = best.get(cid)
                if q is None:
                    mixed[cid] = score
                else:
                    mixed[cid] = (1 - lam) * score + lam * max(score, q - discount)
            ranked = sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
            return SemanticScores(ranked, base.best_sentence, base.sentence_cosine)

    return WithQuestions


def _bigrams(text: str) -> set[str]:
    folded = re.sub(r"[?？!！、。「」\s]", "", normalize(text))
    return {folded[i : i + 2] for i in range(len(folded) - 1)}


def print_overlap(table: ExpectedQuestions) -> None:
    """Per split and group, how many evaluation questions have a near copy among the expected
    questions (character-bigram Jaccard with the closest one)."""
    written = [_bigrams(q) for _, qs in table.entries for q in qs]
    rows: dict[tuple[str, str], list[float]] = {}
    for q in load_question_file(DEFAULT_QUESTIONS):
        grams = _bigrams(q.question)
        best = max((len(grams & g) / len(grams | g) for g in written if grams | g), default=0.0)
        group = ("colloquial" if "colloquial" in q.tags else "other") + (
            "" if q.answerable else " unanswerable"
        )
        rows.setdefault((q.split or "-", group), []).append(best)
    for (split, group), values in sorted(rows.items()):
        counts = [sum(v >= t for v in values) for t in (1.0, 0.7, 0.5)]
        print(
            f"{split:5} {group:24} n={len(values):3}  identical {counts[0]}  >=0.7 {counts[1]}  >=0.5 {counts[2]}"
        )


def sweep_live(spec: str, split: str) -> int:
    """One setting varied over the live index, as `kb search` runs it (questions included)."""
    name, _, values = spec.partition("=")
    settings = load_settings()
    kb = KnowledgeBase.open(settings)
    base = kb.retriever
    evaluation = [q for q in load_question_file(DEFAULT_QUESTIONS, split=split) if q.answerable]
    print(f"{'setting':32} {'mode':8} " + "  ".join(f"{g:>18}" for g in GROUPS))
    for value in values.split(","):
        varied = settings.replace(**{name: value})
        retriever = Retriever(
            kb.chunks,
            base.keyword,
            base.store,
            base.embedder,
            varied,
            base.sentence_store,
            base.plain_words,
            base.question_store,
        )
        print_rows(f"{name}={value}", evaluate(retriever, evaluation), 32)
        sys.stdout.flush()
    return 0


def evidence_doc(question: Question, chunks: list[Chunk]) -> str:
    """The document of the first chunk holding the question's evidence ("" when none does)."""
    for chunk in chunks:
        if first_relevant_rank([chunk.text], question.evidence) == 1:
            return chunk.doc_id
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="+")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--only", default="")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument(
        "--sweep",
        default="",
        help="NAME=V1,V2,...: the live index (questions included) with one setting varied, e.g. "
        "adaptive_keyword_max=0.4,0.5,0.6",
    )
    parser.add_argument(
        "--overlap", action="store_true", help="near copies of evaluation questions, then stop"
    )
    parser.add_argument(
        "--drop-doc", action="store_true", help="per document: the questions of every other document only"
    )
    args = parser.parse_args(argv)
    if args.overlap:
        print_overlap(load(args.files))
        return 0
    if args.sweep:
        return sweep_live(args.sweep, args.split)
    settings = load_settings()
    if args.index_dir:
        settings = settings.replace(index_dir=args.index_dir)
    kb = KnowledgeBase.open(settings)
    base = kb.retriever
    table = load(args.files)
    held = [table.anchors_in(c.text) for c in kb.chunks]
    unused = table.unused_anchors(held)
    print(
        f"{len(table)} anchors, {table.question_count} questions; {len(unused)} anchors in no chunk; "
        f"chunks with questions {sum(bool(h) for h in held)}/{len(kb.chunks)}",
        file=sys.stderr,
    )
    aliases = base.plain_words

    def keyword_index(skip_doc: str = "", questions: bool = True) -> KeywordIndex:
        """The chunks' keyword text with the thesaurus and (unless ``skip_doc`` is their
        document) the questions anchored in them."""
        return KeywordIndex.build(
            [c.chunk_id for c in kb.chunks],
            [
                keyword_text(
                    c.index_text,
                    [
                        *aliases.aliases_in(c.term_text),
                        *(table.questions_of(anchors) if questions and c.doc_id != skip_doc else []),
                    ],
                )
                for c, anchors in zip(kb.chunks, held, strict=True)
            ],
            settings.bm25_k1,
            settings.bm25_b,
            settings.bigram_weight,
        )

    thesaurus_only, with_questions = keyword_index(questions=False), keyword_index()
    flat = [(q, anchor) for anchor, qs in table.entries for q in qs]
    owners_of = {
        a: [c.chunk_id for c, h in zip(kb.chunks, held, strict=True) if a in h] for a, _ in table.entries
    }
    questions = [q for q, _ in flat]
    owners = [owners_of[a] for _, a in flat]
    doc_of = {c.chunk_id: c.doc_id for c in kb.chunks}
    embedder = base.embedder
    assert embedder is not None
    started = time.perf_counter()
    qvec = np.asarray(embedder.embed_queries(questions))
    pvec = np.asarray(embedder.embed_passages(questions))
    print(
        f"{len(questions)} questions embedded twice in {time.perf_counter() - started:.0f} s", file=sys.stderr
    )

    variants: list[tuple[str, type[Retriever], KeywordIndex]] = [
        ("thesaurus only", Retriever, thesaurus_only),
        ("keyword", Retriever, with_questions),
    ]
    for lam in (0.3, 0.5, 0.7, 1.0):
        for d in (0.0, 0.02, 0.04, 0.06):
            variants.append(
                (
                    f"keyword + vectors q lam {lam} -{d:.2f}",
                    question_retriever(questions, owners, qvec, d, lam),
                    with_questions,
                )
            )
    variants.append(
        ("vectors q lam 0.5 -0.02", question_retriever(questions, owners, qvec, 0.02, 0.5), base.keyword)
    )
    variants.append(
        (
            "keyword + vectors p lam 0.5 -0.02",
            question_retriever(questions, owners, pvec, 0.02, 0.5),
            with_questions,
        )
    )
    wanted = set(filter(None, args.only.split(",")))
    evaluation = [q for q in load_question_file(DEFAULT_QUESTIONS, split=args.split) if q.answerable]
    if args.drop_doc:
        # A document without expected questions beside documents with them (kb add): do its
        # passages lose out? Questions grouped by the document of their evidence.
        home = {q.id: evidence_doc(q, kb.chunks) for q in evaluation}
        # Fallback for chunks without questions: their own sentences, embedded as queries, stand
        # in for questions (same lift).
        units = chunk_sentences(kb.chunks, settings.sentence_min_chars)
        unit_vec = np.asarray(embedder.embed_queries([u.text for u in units]))

        def with_fallback(doc: str, discount: float) -> type[Retriever]:
            keep = [i for i, o in enumerate(owners) if any(doc_of[c] != doc for c in o)]
            mine = [i for i, u in enumerate(units) if u.chunk.doc_id == doc]
            vectors = np.vstack([qvec[keep], unit_vec[mine]])
            texts = [questions[i] for i in keep] + [units[i].text for i in mine]
            own = [[c for c in owners[i] if doc_of[c] != doc] for i in keep] + [
                [units[i].chunk.chunk_id] for i in mine
            ]
            return question_retriever(texts, own, vectors, discount, 0.5)

        for name, cls, keyword in [
            *(
                (
                    f"except on {doc}: vectors only",
                    question_retriever(
                        questions, [[c for c in o if doc_of[c] != doc] for o in owners], qvec, 0.02, 0.5
                    ),
                    thesaurus_only,
                )
                for doc in ("glossary", "national_strategies")
            ),
            *(
                (f"except on {doc}: keyword only", Retriever, keyword_index(skip_doc=doc))
                for doc in ("glossary", "national_strategies")
            ),
            *(
                (
                    f"except on {doc}, its sentences as questions -{d:.2f}",
                    with_fallback(doc, d),
                    keyword_index(skip_doc=doc),
                )
                for doc in ("glossary", "national_strategies")
                for d in (0.05, 0.08, 0.11)
            ),
            ("thesaurus only", Retriever, thesaurus_only),
            ("questions everywhere", question_retriever(questions, owners, qvec, 0.02, 0.5), with_questions),
            *(
                (
                    f"questions except on {doc}",
                    question_retriever(
                        questions, [[c for c in o if doc_of[c] != doc] for o in owners], qvec, 0.02, 0.5
                    ),
                    keyword_index(skip_doc=doc),
                )
                for doc in sorted(set(doc_of.values()))
            ),
        ]:
            retriever = cls(
                kb.chunks, keyword, base.store, base.embedder, settings, base.sentence_store, aliases
            )
            ranks = {
                q.id: first_relevant_rank(
                    [h.text for h in retriever.search(q.question, "hybrid", 10)], q.evidence
                )
                for q in evaluation
            }
            cells = []
            for doc in sorted(set(doc_of.values())):
                for group, member in (
                    ("colloquial", GROUPS["colloquial"]),
                    ("plan-worded", GROUPS["plan-worded"]),
                ):
                    picked = [ranks[q.id] for q in evaluation if home[q.id] == doc and member(q)]
                    cells.append(
                        f"{doc}/{group} n={len(picked)} " + "{:.3f}/{:.3f}/{:.3f}".format(*triplet(picked))
                    )
            print(f"{name:36} " + "  ".join(cells))
            sys.stdout.flush()
        return 0
    print(f"{'variant':32} {'mode':8} " + "  ".join(f"{g:>18}" for g in GROUPS))
    for name, cls, keyword in variants:
        if wanted and name not in wanted:
            continue
        started = time.perf_counter()
        retriever = cls(kb.chunks, keyword, base.store, base.embedder, settings, base.sentence_store, aliases)
        print_rows(name, evaluate(retriever, evaluation), 32)
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
