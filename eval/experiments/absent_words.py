"""Words the plan never uses: which decline rule separates off-topic questions from answerable ones?

Answers every question of a split with the missing-kind rule switched off, then counts, per group,
the questions that each variant of "a question word the corpus never uses (document frequency 0,
no corpus synonym through kb.expand, not in the quotes) → decline" would decline among those the
answerer answers. Declining only removes answers, so the counts give every group's figures
directly. Results: answer_signals.md, session 8.

    python -m eval.experiments.absent_words --split dev [--show]

Variants:
- ``any``: any content noun of the question (kanji/katakana, 2+ characters, not the asked slot,
  a frame word or the unit after a question word);
- ``subject``: only a noun of the question's noun phrases (``Question.subject``);
- ``focus``: only a noun of its last noun phrase (``Question.focus``);
- ``compound``: only a word of a noun compound that also holds a word the corpus uses
  (``Question.compounds``: 電子入札システム, スマート農業);
- ``compound+quoted``: the same, and the answer quotes that other word (the rule kept:
  ``kb.answer.extractive.missing_kind``).
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from eval.answers import content_checks
from eval.metrics import load_question_file
from eval.report import NOT_PLAN_WORDED
from eval.retrieval import open_kb
from kb.answer import Answerer
from kb.answer import patterns as P
from kb.answer.agreement import missing_kind
from kb.answer.question import Question, analyse
from kb.config import load_settings
from kb.lexicon import STOP_LEMMAS
from kb.text import morphemes, normalize


class _WithoutRule(Answerer):
    def _missing_kind(self, q: Question, quotes: list[str]) -> str | None:
        return None


def group(tags: Sequence[str], answerable: bool) -> str:
    tags_ = set(tags)
    if "colloquial" in tags_:
        return "colloquial " + ("ans." if answerable else "unans.")
    if "near_miss" in tags_:
        return "near-miss"
    if tags_ & NOT_PLAN_WORDED:
        return "other"
    return "plan-worded " + ("ans." if answerable else "unans.")


def absent_nouns(answerer: Answerer, query: str, synonyms: Sequence[str]) -> list[str]:
    """Content nouns of the question that the corpus never uses and that have no corpus synonym."""
    words = morphemes(query)
    out = []
    for i, w in enumerate(words):
        if w.pos1 != "名詞" or w.pos2 not in ("普通名詞", "固有名詞"):
            continue
        if (i > 0 and words[i - 1].surface.startswith(P.INTERROGATIVES)) or w.surface.startswith(
            P.INTERROGATIVES
        ):
            continue
        if w.surface in P.FRAME_NOUNS or w.surface in P.MEASURE_NOUNS or w.lemma in STOP_LEMMAS:
            continue
        if not P.KANJI_OR_KANA_WORD.fullmatch(w.surface):
            continue
        if answerer.stats.df(w.surface) > 0 or answerer.stats.df(normalize(w.lemma)) > 0:
            continue
        if any(w.surface in s or w.lemma in s for s in synonyms):
            continue
        out.append(w.surface)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--questions", default="eval/questions.jsonl")
    ap.add_argument("--split", default="dev")
    ap.add_argument("--index", default=".kb/index")
    ap.add_argument("--show", action="store_true", help="list each answered question a variant declines")
    args = ap.parse_args(argv)
    kb = open_kb(Path(args.index))
    answerer = _WithoutRule(kb, load_settings())
    counts: Counter[tuple[str, str, str]] = Counter()
    totals: Counter[str] = Counter()
    for question in load_question_file(args.questions, split=args.split):
        g = group(question.tags, question.answerable)
        totals[g] += 1
        answer = answerer.answer(question.question)
        if not answer.answerable:
            continue
        evidence = content_checks(question, answer)[0]
        status = "with evidence" if evidence else ("no evidence" if question.answerable else "answered")
        q = analyse(question.question)
        quotes = [c.quote for c in answer.citations]
        synonyms = [e.typed for e in kb.retriever.corpus_synonyms(q.query)]
        quoted = normalize(" ".join(quotes))
        absent = [a for a in absent_nouns(answerer, q.query, synonyms) if a not in quoted]
        in_compound = [
            a
            for a in absent
            for compound in q.compounds
            if a in compound and any(o != a and answerer.stats.df(o) > 0 for o in compound)
        ]
        variants = {
            "any": absent,
            "subject": [a for a in absent if a in q.subject],
            "focus": [a for a in absent if a in q.focus],
            "compound": in_compound,
            "compound+quoted": [w] if (w := missing_kind(q, quotes, answerer.stats, synonyms)) else [],
        }
        for name, words in variants.items():
            if words:
                counts[(name, g, status)] += 1
                if args.show:
                    print(f"{name}\t{g}\t{status}\t{question.id}\t{question.question}\t{words}")
    print("\ngroup sizes:", dict(totals))
    print("| variant | group | answered, declined by the variant | n |\n|---|---|---|---|")
    for (name, g, status), n in sorted(counts.items()):
        print(f"| {name} | {g} | {status} | {n} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
