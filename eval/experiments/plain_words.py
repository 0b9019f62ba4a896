"""An everyday-words thesaurus (plan term → words people use for it) as a retrieval lever (#8).

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m eval.experiments.plain_words THESAURUS.tsv
        [--split dev] [--only NAME,NAME] [--index-dir PATH]

The thesaurus (one plan term per line, then its everyday words, tab-separated) was written from
the corpus alone by writers who did not see the question set. Each variant below uses it one
way; groups and cells as in colloquial_levers.py (hit@1 / hit@5 / MRR@10, k = 10):

- doc units: every alias of a term becomes an extra "sentence" of each chunk whose keyword text
  holds the term; a chunk's best sentence cosine is the max over its real sentences and its
  aliases (minus a discount);
- doc keyword: the aliases join each such chunk's keyword text (a second BM25, added at a
  weight), as document expansion;
- query lexical: an alias whose content words all occur in the query adds the term on the
  keyword side (like kb/expand.py) and to the rewritten query that is embedded beside the typed one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.check_questions import DEFAULT_QUESTIONS
from eval.experiments.colloquial_levers import GROUPS, evaluate, print_rows
from eval.metrics import load_question_file
from kb.config import load_settings
from kb.expand import Expansion
from kb.keyword import KeywordIndex, index_tokens
from kb.knowledge import KnowledgeBase
from kb.plain_words import keyword_text, parse_plain_words
from kb.retrieve import Retriever, SemanticScores
from kb.text import normalize, word_tokens


def load_thesaurus(paths: Sequence[Path]) -> dict[str, list[str]]:
    """Plan term → aliases, the files merged as kb.plain_words reads one (the product's parser)."""
    text = "\n".join(path.read_text(encoding="utf-8") for path in paths)
    return {term: list(aliases) for term, aliases in parse_plain_words(text, "thesaurus").entries}


@dataclass
class AliasData:
    terms: list[str]
    aliases: list[str]  # flat
    alias_term: list[int]  # index into terms
    chunks_of_term: dict[int, list[str]]
    passage_vectors: np.ndarray
    query_vectors: np.ndarray


def prepare(kb: KnowledgeBase, table: dict[str, list[str]], max_chunks: int = 0) -> AliasData:
    terms = list(table)
    # Body and heading path, not the document title (the plan's title is on every plan chunk).
    texts = {c.chunk_id: normalize(f"{c.section}\n{c.text}") for c in kb.chunks}
    chunks_of_term = {i: [cid for cid, t in texts.items() if term in t] for i, term in enumerate(terms)}
    if max_chunks:
        # A term in many chunks says nothing about which one: its aliases go nowhere.
        chunks_of_term = {i: (cids if len(cids) <= max_chunks else []) for i, cids in chunks_of_term.items()}
    missing = [terms[i] for i, cids in chunks_of_term.items() if not cids]
    if missing:
        print(f"terms found in no chunk ({len(missing)}): {' '.join(missing[:30])}", file=sys.stderr)
    aliases, alias_term = [], []
    for i, term in enumerate(terms):
        for alias in table[term]:
            aliases.append(alias)
            alias_term.append(i)
    embedder = kb.retriever.embedder
    assert embedder is not None
    started = time.perf_counter()
    passage = embedder.embed_passages(aliases)
    query = embedder.embed_queries(aliases)
    print(
        f"{len(terms)} terms, {len(aliases)} aliases embedded twice in {time.perf_counter() - started:.0f} s",
        file=sys.stderr,
    )
    return AliasData(terms, aliases, alias_term, chunks_of_term, np.asarray(passage), np.asarray(query))


def alias_retriever(
    data: AliasData,
    *,
    units: str = "",
    discount: float = 0.0,
    lexical: float = 0.0,
    rewrite: bool | str = False,
) -> type[Retriever]:
    """A Retriever with the thesaurus used as described in the module docstring.

    units: "" (off), "passage" or "query" (how alias units are embedded); lexical: keyword weight
    of a term matched through an alias in the query (0 = off); rewrite: add matched terms to the
    rewritten query embedded beside the typed one ("replace": the alias replaced by its term)."""
    vectors = data.passage_vectors if units == "passage" else data.query_vectors
    alias_tokens = [set(word_tokens(a)) for a in data.aliases]

    class WithAliases(Retriever):
        def matched_terms(self, query: str) -> list[int]:
            tokens = set(word_tokens(query))
            text = normalize(query)
            found: list[int] = []
            for i, words in enumerate(alias_tokens):
                term = data.alias_term[i]
                if term in found or data.terms[term] in text:
                    continue
                if data.aliases[i] in text or (words and words <= tokens):
                    found.append(term)
            return found

        def expansions(self, query: str) -> list[Expansion]:
            base = super().expansions(query)
            if lexical <= 0 and not rewrite:
                return base
            extra = []
            for term in self.matched_terms(query):
                name = data.terms[term]
                extra.append(Expansion(f"~{name}", (name,), tuple(index_tokens(name))))
            return base + extra

        def keyword_ranking(self, query, n, filters=None, expansions=()):  # type: ignore[no-untyped-def]
            typed = [e for e in expansions if not e.typed.startswith("~")]
            mine = [e for e in expansions if e.typed.startswith("~")]
            ranked = super().keyword_ranking(query, n, filters, typed)
            if not mine or lexical <= 0:
                return ranked
            tokens = [t for e in mine for t in e.tokens]
            scores = self.keyword.scores(
                query, [t for e in typed for t in e.tokens], self.settings.expansion_weight
            )
            scores = scores + lexical * self.keyword.scores(" ".join(tokens)) if tokens else scores
            order = np.argsort(-scores, kind="stable")[:n]
            return [(self.keyword.chunk_ids[i], float(scores[i])) for i in order if scores[i] > 0]

        def semantic_scores(self, query, n, filters=None, rewritten=None):  # type: ignore[no-untyped-def]
            if rewrite == "replace":
                # An alias typed as written is replaced by its term in the embedded rewrite, as
                # kb/expand.py does with a Sudachi synonym.
                text = rewritten or normalize(query)
                for i, alias in enumerate(data.aliases):
                    if alias in text and len(alias) >= 2 and data.terms[data.alias_term[i]] not in text:
                        text = text.replace(alias, data.terms[data.alias_term[i]])
                if text != normalize(query):
                    rewritten = text
            elif rewrite:
                names = [data.terms[t] for t in self.matched_terms(query)]
                if names:
                    rewritten = (rewritten or normalize(query)) + " " + " ".join(names)
            if not units:
                return super().semantic_scores(query, n, filters, rewritten)
            vector = self._query_vector(query, rewritten)
            total = len(self.chunks)
            chunk_cos = dict(self.store.query(vector, total))
            sentences = self.sentence_store.query_with_metadata(vector, 10_000)
            best: dict[str, tuple[float, tuple[int, int]]] = {}
            for _, cosine, meta in sentences:
                cid = str(meta.get("chunk_id", ""))
                if cid in self.chunks and (cid not in best or cosine > best[cid][0]):
                    best[cid] = (cosine, (int(meta["start"]), int(meta["end"])))
            alias_cos = vectors @ vector - discount
            alias_best: dict[str, float] = {}
            for i, cos in enumerate(alias_cos):
                for cid in data.chunks_of_term[data.alias_term[i]]:
                    if cos > alias_best.get(cid, -1.0):
                        alias_best[cid] = float(cos)
            weight = self.settings.sentence_weight
            mixed = {}
            for cid, own in chunk_cos.items():
                sentence = best[cid][0] if cid in best else own
                sentence = max(sentence, alias_best.get(cid, -1.0))
                mixed[cid] = (1 - weight) * own + weight * sentence
            ranked = sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
            return SemanticScores(
                ranked, {c: s for c, (_, s) in best.items()}, {c: v for c, (v, _) in best.items()}
            )

    return WithAliases


def alias_texts(kb: KnowledgeBase, data: AliasData) -> dict[str, list[str]]:
    extra: dict[str, list[str]] = {c.chunk_id: [] for c in kb.chunks}
    for i, alias in enumerate(data.aliases):
        for cid in data.chunks_of_term[data.alias_term[i]]:
            extra[cid].append(alias)
    return extra


def doc_keyword_index(kb: KnowledgeBase, data: AliasData, settings) -> KeywordIndex:  # type: ignore[no-untyped-def]
    """The chunks' keyword text with the aliases of every term they hold appended."""
    extra = alias_texts(kb, data)
    return KeywordIndex.build(
        [c.chunk_id for c in kb.chunks],
        [keyword_text(c.index_text, extra[c.chunk_id]) for c in kb.chunks],
        settings.bm25_k1,
        settings.bm25_b,
        settings.bigram_weight,
    )


def base_coverage(vocabulary: dict[str, int]) -> type[Retriever]:
    """Keyword weight from the plan's own words: alias words do not count as known."""

    class BaseCoverage(Retriever):
        def keyword_coverage(self, query: str) -> float:
            words = set(word_tokens(query))
            return sum(w in vocabulary for w in words) / len(words) if words else 0.0

    return BaseCoverage


def plan_vocabulary(vocabulary: dict[str, int]) -> type[Retriever]:
    """Coverage and Sudachi synonyms read the plan's own words: an alias word is not "known"."""

    class PlanVocabulary(Retriever):
        def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self._vocabulary = vocabulary

    return PlanVocabulary


def plan_synonyms(vocabulary: dict[str, int]) -> type[Retriever]:
    """Sudachi synonyms for words the plan's own text lacks (an alias word is still expanded);
    the keyword weight reads the index with the aliases."""
    from kb.expand import default_table, expand_query

    class PlanSynonyms(Retriever):
        def corpus_synonyms(self, query: str) -> list[Expansion]:
            return expand_query(query, vocabulary, default_table())

    return PlanSynonyms


def words_only_index(kb: KnowledgeBase, data: AliasData, settings) -> KeywordIndex:  # type: ignore[no-untyped-def]
    """Aliases in the word BM25 only; the bigram BM25 sees the plan's text alone."""
    extra = alias_texts(kb, data)
    with_aliases = doc_keyword_index(kb, data, settings)
    plain = KeywordIndex.build(
        [c.chunk_id for c in kb.chunks],
        [c.index_text for c in kb.chunks],
        settings.bm25_k1,
        settings.bm25_b,
        settings.bigram_weight,
    )
    del extra
    return KeywordIndex(plain.chunk_ids, with_aliases.words, plain.bigrams, settings.bigram_weight)


def alias_field(
    kb: KnowledgeBase, data: AliasData, settings, beta: float, union_coverage: bool
) -> type[Retriever]:  # type: ignore[no-untyped-def]
    """The aliases as a second keyword field, its score added at ``beta`` of the text's."""
    extra = alias_texts(kb, data)
    field = KeywordIndex.build(
        [c.chunk_id for c in kb.chunks],
        ["\n".join(extra[c.chunk_id]) for c in kb.chunks],
        settings.bm25_k1,
        settings.bm25_b,
        settings.bigram_weight,
    )
    field_vocab = field.vocabulary()

    class AliasField(Retriever):
        def keyword_coverage(self, query: str) -> float:
            if not union_coverage:
                return super().keyword_coverage(query)
            words = set(word_tokens(query))
            known = sum(w in self._vocabulary or w in field_vocab for w in words)
            return known / len(words) if words else 0.0

        def keyword_ranking(self, query, n, filters=None, expansions=()):  # type: ignore[no-untyped-def]
            added = [t for e in expansions for t in e.tokens]
            scores = self.keyword.scores(query, added, self.settings.expansion_weight)
            scores = scores + beta * field.scores(query)
            order = np.argsort(-scores, kind="stable")[:n]
            return [(self.keyword.chunk_ids[i], float(scores[i])) for i in order if scores[i] > 0]

    return AliasField


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("thesaurus", type=Path, nargs="+")
    parser.add_argument("--split", default="dev")
    parser.add_argument("--only", default="")
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--max-chunks", type=int, default=0)
    args = parser.parse_args(argv)
    settings = load_settings()
    if args.index_dir:
        settings = settings.replace(index_dir=args.index_dir)
    kb = KnowledgeBase.open(settings)
    base = kb.retriever
    data = prepare(kb, load_thesaurus(args.thesaurus), args.max_chunks)
    questions = [q for q in load_question_file(DEFAULT_QUESTIONS, split=args.split) if q.answerable]
    # Both keyword indexes are built here, so the figures do not depend on what the live index
    # holds: the plan's text alone, and the text with the aliases (what `kb index` now builds).
    plain = KeywordIndex.build(
        [c.chunk_id for c in kb.chunks],
        [c.index_text for c in kb.chunks],
        settings.bm25_k1,
        settings.bm25_b,
        settings.bigram_weight,
    )
    doc_keyword = doc_keyword_index(kb, data, settings)
    variants: list[tuple[str, type[Retriever], KeywordIndex]] = [
        ("no thesaurus", Retriever, plain),
        ("units replay (aliases never win)", alias_retriever(data, units="passage", discount=10.0), plain),
        ("units passage", alias_retriever(data, units="passage"), plain),
        ("units query", alias_retriever(data, units="query"), plain),
        ("units passage -0.02", alias_retriever(data, units="passage", discount=0.02), plain),
        ("units query -0.02", alias_retriever(data, units="query", discount=0.02), plain),
        ("doc keyword", Retriever, doc_keyword),
        ("doc keyword plan vocabulary", plan_vocabulary(plain.vocabulary()), doc_keyword),
        ("doc keyword plan synonyms", plan_synonyms(plain.vocabulary()), doc_keyword),
        ("doc keyword base coverage", base_coverage(plain.vocabulary()), doc_keyword),
        ("doc keyword words only", Retriever, words_only_index(kb, data, settings)),
        ("field 0.5", alias_field(kb, data, settings, 0.5, False), plain),
        ("field 1.0", alias_field(kb, data, settings, 1.0, False), plain),
        ("field 0.5 union coverage", alias_field(kb, data, settings, 0.5, True), plain),
        ("field 1.0 union coverage", alias_field(kb, data, settings, 1.0, True), plain),
        ("lexical 0.7", alias_retriever(data, lexical=0.7), plain),
        ("lexical 0.7 + rewrite", alias_retriever(data, lexical=0.7, rewrite=True), plain),
        ("rewrite only", alias_retriever(data, rewrite=True), plain),
        ("units passage + doc keyword", alias_retriever(data, units="passage"), doc_keyword),
        *(
            (
                f"units passage -{d:.2f} + doc keyword",
                alias_retriever(data, units="passage", discount=d),
                doc_keyword,
            )
            for d in (0.01, 0.02, 0.03, 0.04, 0.05)
        ),
        ("doc keyword + replace rewrite", alias_retriever(data, rewrite="replace"), doc_keyword),
        ("units query + doc keyword", alias_retriever(data, units="query"), doc_keyword),
        (
            "units passage + lexical + rewrite",
            alias_retriever(data, units="passage", lexical=0.7, rewrite=True),
            plain,
        ),
    ]
    wanted = set(filter(None, args.only.split(",")))
    print(f"{'variant':36} {'mode':8} " + "  ".join(f"{g:>18}" for g in GROUPS))
    for name, cls, keyword in variants:
        if wanted and name not in wanted:
            continue
        started = time.perf_counter()
        retriever = cls(kb.chunks, keyword, base.store, base.embedder, settings, base.sentence_store)
        print_rows(name, evaluate(retriever, questions), 36)
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
