"""Search modes (keyword, semantic, hybrid) and their fusion into ranked Hits.

Measured on the dev questions (eval/experiments/dense_signals.md, colloquial_levers.md; cells
hit@1 / hit@5 / MRR@10; "colloquial" = the everyday-words tag, "plan-worded" = untagged):

- semantic score = 0.5 · chunk cosine + 0.5 · best sentence cosine (``Settings.sentence_weight``):
  questions in everyday words 0.28 / 0.62 / 0.42 → 0.40 / 0.66 / 0.53 in semantic mode;
- hybrid keyword weight per query rises from 0.15 to 0.5 as the share of the query's words that
  the keyword index knows goes from 0.6 to 0.9 (``fusion = "adaptive"``): a question in everyday
  words leans on meaning, one naming the plan's terms keeps the keyword say that a fixed 0.5
  gave it. The first rule, clip(0.3 · share, 0.1, 0.8), capped that say at 0.3 and cost
  plan-worded test hit@1 0.791 → 0.755; the ramp gives plan-worded dev MRR 0.881 → 0.890 with
  colloquial unchanged (0.43 / 0.68 / 0.54). RRF was worse on both;
- synonyms (kb/expand.py) for typed words the index lacks, on the keyword side at 0.7 of a typed
  word and as a rewritten query embedded beside the typed one: colloquial hybrid
  0.43 / 0.68 / 0.54 → 0.47 / 0.70 / 0.57, semantic 0.43 / 0.64 / 0.53 → 0.49 / 0.64 / 0.57,
  plan-worded unchanged;
- the everyday-words thesaurus (kb/plain_words.py) in the keyword text of the chunks holding each
  term: colloquial hybrid 0.47 / 0.70 / 0.57 → 0.51 / 0.81 / 0.62, plan-worded 0.82 / 0.99 / 0.89 →
  0.83 / 0.99 / 0.90 (eval/experiments/plain_words.md). Search here only reports which of the
  query's words stood for a term of each hit (``Hit.plain_words``);
- expected questions (kb/expected_questions.py: the questions each passage answers, in everyday
  words) in the keyword text of the chunks holding their anchor, and embedded as queries; a
  chunk's semantic score s becomes (1 − w)·s + w·max(s, c − d), c the cosine between the query
  and the chunk's closest expected question: colloquial hybrid 0.51 / 0.81 / 0.62 →
  0.70 / 0.87 / 0.79, plan-worded 0.83 / 0.99 / 0.90 → 0.88 / 1.00 / 0.93
  (eval/experiments/expected_questions.md). ``Hit.similar_question`` names that question.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np

from kb.chunk import Chunk, ChunkView
from kb.config import Settings
from kb.embed import Embedder
from kb.errors import InvalidQueryError
from kb.expand import Expansion, default_table, expand_query, rewrite_query
from kb.expected_questions import QuestionMatch
from kb.filters import Filters, chunk_years, years_by_chunk
from kb.keyword import KeywordIndex
from kb.plain_words import PlainWordMatch, PlainWords, held_in
from kb.query import validate_query
from kb.store import VectorStore
from kb.text import normalize, word_tokens

MODES = ("keyword", "semantic", "hybrid")
__all__ = ["MODES", "Filters", "Hit", "Retriever", "chunk_years", "years_by_chunk"]


@dataclass(frozen=True)
class Hit(ChunkView):
    """One ranked passage: the chunk itself, its rank and its fused score."""

    rank: int
    score: float
    chunk: Chunk
    #: The chunk's sentence closest to the query in meaning (offsets in ``chunk.text``), when known.
    best_sentence: tuple[int, int] | None = None
    #: That sentence's cosine similarity to the query (None in keyword mode).
    sentence_cosine: float | None = None
    #: Found by meaning alone, and not close: shown apart as 「関連が弱い結果」 (Settings.relevance_floor).
    weak: bool = False
    #: Synonyms searched for typed words the corpus lacks (kb/expand.py); the same on every hit.
    expansions: tuple[Expansion, ...] = ()
    #: The query with those words replaced, embedded beside the typed one (None: no rewrite).
    searched_query: str | None = None
    #: Everyday words in the query that stand for a term this passage holds (kb/plain_words.py).
    plain_words: tuple[PlainWordMatch, ...] = ()
    #: The passage's expected question that raised its score (kb/expected_questions.py), if any.
    similar_question: QuestionMatch | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: rank, score, then the chunk's fields (heading path as a list)."""
        chunk = asdict(self.chunk)
        chunk["heading_path"] = list(self.chunk.heading_path)
        best = list(self.best_sentence) if self.best_sentence else None
        return {
            "rank": self.rank,
            "score": self.score,
            **chunk,
            "section": self.chunk.section,
            "best_sentence": best,
            "sentence_cosine": self.sentence_cosine,
            "weak": self.weak,
            "expansions": [e.to_dict() for e in self.expansions],
            "searched_query": self.searched_query,
            "plain_words": [m.to_dict() for m in self.plain_words],
            "similar_question": self.similar_question.to_dict() if self.similar_question else None,
        }


def rrf_fuse(rankings: Sequence[tuple[list[str], float]], rrf_k: int) -> dict[str, float]:
    """Weighted reciprocal-rank fusion of several rankings (ids best first, weight)."""
    fused: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids, start=1):
            fused[cid] = fused.get(cid, 0.0) + weight / (rrf_k + rank)
    return fused


def score_fuse(
    keyword: list[tuple[str, float]], semantic: list[tuple[str, float]], keyword_weight: float
) -> dict[str, float]:
    """Convex combination of scaled scores: keyword / its best, cosine min-max over the pool.

    Chosen over RRF on the dev questions (hit@1 0.80 vs 0.65-0.75): keyword search is the
    stronger system here, and rank fusion throws away how far ahead its best hit is.
    """
    fused: dict[str, float] = {}
    best = max((s for _, s in keyword), default=0.0)
    if best > 0:
        for cid, score in keyword:
            fused[cid] = keyword_weight * score / best
    if semantic:
        values = [s for _, s in semantic]
        low, high = min(values), max(values)
        for cid, score in semantic:
            scaled = (score - low) / (high - low) if high > low else 1.0
            fused[cid] = fused.get(cid, 0.0) + (1.0 - keyword_weight) * scaled
    return fused


def adaptive_keyword_weight(coverage: float, settings: Settings) -> float:
    """The keyword side's weight for a query whose words the keyword index knows ``coverage`` of.

    A question in everyday words (「体育館の予約ってネットでできる？」) shares few words with the plan:
    its keyword matches rest on filler, so the meaning side decides. A query naming plan terms
    keeps a keyword say.
    """
    low, high = settings.adaptive_coverage_low, settings.adaptive_coverage_high
    rise = min(1.0, max(0.0, (coverage - low) / (high - low)))
    return settings.adaptive_keyword_min + rise * (
        settings.adaptive_keyword_max - settings.adaptive_keyword_min
    )


@dataclass(frozen=True)
class SemanticScores:
    """Per-chunk semantic scores of one query, and each chunk's best sentence."""

    scores: list[tuple[str, float]]  # best first
    best_sentence: dict[str, tuple[int, int]]
    sentence_cosine: dict[str, float]
    #: Per chunk, the expected question that raised its score.
    questions: dict[str, QuestionMatch] = field(default_factory=dict)


class Retriever:
    """Answers ``search(query, mode, k, filters)`` over one built index."""

    def __init__(
        self,
        chunks: list[Chunk],
        keyword: KeywordIndex,
        store: VectorStore | None,
        embedder: Embedder | None,
        settings: Settings,
        sentence_store: VectorStore | None = None,
        plain_words: PlainWords | None = None,
        question_store: VectorStore | None = None,
    ) -> None:
        self.chunks = {c.chunk_id: c for c in chunks}
        self.plain_words = plain_words or PlainWords()
        self.question_store = question_store
        self.keyword = keyword
        self.store = store
        self.sentence_store = sentence_store
        self.embedder = embedder
        self.settings = settings
        self._keyword_chunks = [self.chunks[cid] for cid in keyword.chunk_ids]
        self._vocabulary = keyword.vocabulary()
        self._chunk_years = years_by_chunk(self.chunks.values())  # for Filters.years

    def years_of(self, chunk_id: str) -> frozenset[int]:
        """The years the year filter matches a chunk on (:func:`years_by_chunk`)."""
        return self._chunk_years.get(chunk_id, frozenset())

    def _mask(self, filters: Filters | None) -> np.ndarray | None:
        if filters is None or filters.is_empty:
            return None
        years = self._chunk_years
        return np.array([filters.allows(c, years[c.chunk_id]) for c in self._keyword_chunks], dtype=bool)

    def keyword_coverage(self, query: str) -> float:
        """Share of the query's distinct words (lemmas, compounds) that the keyword index knows."""
        words = set(word_tokens(query))
        return sum(w in self._vocabulary for w in words) / len(words) if words else 0.0

    def expansions(self, query: str) -> list[Expansion]:
        """Synonyms the keyword index knows for the query's words it does not (none when off)."""
        if self.settings.expansion_weight <= 0:
            return []
        return self.corpus_synonyms(query)

    def corpus_synonyms(self, query: str) -> list[Expansion]:
        """The same synonyms whether or not search uses them: what the answerer reads to tell a
        word the plan says in other words (スマホ → スマートフォン) from one it never mentions."""
        return expand_query(query, self._vocabulary, default_table())

    def keyword_ranking(
        self,
        query: str,
        n: int,
        filters: Filters | None = None,
        expansions: Sequence[Expansion] = (),
    ) -> list[tuple[str, float]]:
        added = [token for e in expansions for token in e.tokens]
        return self.keyword.search(query, n, self._mask(filters), added, self.settings.expansion_weight)

    def _query_vector(self, query: str, rewritten: str | None = None) -> np.ndarray:
        if self.store is None or self.embedder is None:
            raise InvalidQueryError(
                "意味検索は利用できません（埋め込みモデルが読み込まれていません）",
                "semantic search is unavailable: no embedding model loaded",
            )
        vector = self.embedder.embed_query(query)
        if rewritten is None:
            return vector
        # The typed and the rewritten question count alike: the rewrite moves the vector toward
        # the plan's words without dropping what the person typed.
        mean = vector + self.embedder.embed_query(rewritten)
        return mean / float(np.linalg.norm(mean))

    def best_chunk_cosine(self, query: str) -> float:
        """The highest cosine between the query and a chunk body (answers calibrate on it)."""
        found = self.store.query(self._query_vector(query), 1) if self.store is not None else []
        return float(found[0][1]) if found else 0.0

    def closest_sentences(self, query: str, k: int = 2, filters: Filters | None = None) -> list[float]:
        """Cosines of the ``k`` corpus sentences closest in meaning to the query, best first, each
        text counted once (overlapping chunks repeat sentences); the vector is the one ``search``
        uses. Empty without sentence vectors. A year filter is not applied (Chroma cannot)."""
        if self.sentence_store is None or self.store is None or self.embedder is None:
            return []
        rewritten = rewrite_query(query, self.expansions(query))
        vector = self._query_vector(query, rewritten if rewritten != query else None)
        where = filters.chroma_where() if filters else None
        seen: dict[str, float] = {}
        for _, cosine, meta in self.sentence_store.query_with_metadata(vector, 4 * k, where):
            chunk = self.chunks.get(str(meta.get("chunk_id", "")))
            if chunk is not None:
                seen.setdefault(normalize(chunk.text[int(meta["start"]) : int(meta["end"])]), cosine)
        return sorted(seen.values(), reverse=True)[:k]

    def semantic_scores(
        self, query: str, n: int, filters: Filters | None = None, rewritten: str | None = None
    ) -> SemanticScores:
        """Chunk cosines mixed with each chunk's best sentence cosine (``sentence_weight``);
        ``rewritten``: the query in the corpus's words (kb/expand.py), embedded as well."""
        if filters is not None and filters.years is not None:
            return self._semantic_in_years(query, n, filters, rewritten)
        vector = self._query_vector(query, rewritten)
        where = filters.chroma_where() if filters else None
        assert self.store is not None
        mixed = dict(self.store.query(vector, n, where))
        weight = self.settings.sentence_weight
        best: dict[str, tuple[float, tuple[int, int]]] = {}
        if mixed and self.sentence_store is not None and weight > 0:
            # Sentences are several per chunk: ask for enough that most candidates have theirs.
            sentences = self.sentence_store.query_with_metadata(vector, 4 * n, where)
            for _, cosine, meta in sentences:
                cid = str(meta.get("chunk_id", ""))
                if cid in self.chunks and (cid not in best or cosine > best[cid][0]):
                    best[cid] = (cosine, (int(meta["start"]), int(meta["end"])))
            # A candidate whose sentences all ranked below the returned ones gets the lowest
            # returned value; a chunk with no sentence unit at all keeps its own cosine.
            sentence_floor = min((c for _, c, _ in sentences), default=0.0)
            chunk_floor = min(mixed.values())
            chunk_cos, mixed = mixed, {}
            for cid in set(chunk_cos) | set(best):
                own = chunk_cos.get(cid, chunk_floor)
                sentence = (
                    best[cid][0] if cid in best else (sentence_floor if len(sentences) >= 4 * n else own)
                )
                mixed[cid] = (1.0 - weight) * own + weight * sentence
        questions = self._question_lift(vector, n, where, mixed)
        ranked = sorted(mixed.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
        kept = {cid for cid, _ in ranked}
        return SemanticScores(
            ranked,
            {cid: span for cid, (_, span) in best.items()},
            {cid: cosine for cid, (cosine, _) in best.items()},
            {cid: match for cid, match in questions.items() if cid in kept},
        )

    def _question_lift(
        self, vector: np.ndarray, n: int, where: dict[str, Any] | None, mixed: dict[str, float]
    ) -> dict[str, QuestionMatch]:
        """Raise, in place, the semantic score of each chunk whose expected question is closer to
        the query than the chunk itself; return the questions that did."""
        settings = self.settings
        w = settings.question_weight
        if self.question_store is None or w == 0 or not mixed:
            return {}
        # Per chunk, its closest question after the discount (stand-in sentences are discounted
        # more: they are statements, not questions).
        closest: dict[str, tuple[float, QuestionMatch]] = {}
        for _, cosine, meta in self.question_store.query_with_metadata(vector, 4 * n, where):
            cid = str(meta.get("chunk_id", ""))
            stand_in = bool(meta.get("stand_in", False))
            lift = cosine - (settings.question_fallback_discount if stand_in else settings.question_discount)
            if cid in self.chunks and (cid not in closest or lift > closest[cid][0]):
                match = QuestionMatch(
                    str(meta.get("question", "")),
                    cosine,
                    int(meta.get("start", 0)),
                    int(meta.get("end", 0)),
                    stand_in,
                )
                closest[cid] = (lift, match)
        floor = min(mixed.values())
        lifted: dict[str, QuestionMatch] = {}
        for cid, (lift, match) in closest.items():
            score = mixed.get(cid, floor)
            if lift > score:
                mixed[cid] = (1.0 - w) * score + w * lift
                if not match.stand_in:  # a stand-in is the passage's own words: nothing to show
                    lifted[cid] = match
        return lifted

    def _semantic_in_years(
        self, query: str, n: int, filters: Filters, rewritten: str | None = None
    ) -> SemanticScores:
        """The best ``n`` chunks in the filter's year range. Chroma cannot filter on years, so ask
        for four times as many, then for every chunk when too few of those are in range."""
        unbounded = replace(filters, years=None)
        total = max(1, len(self.chunks))
        ask = min(4 * n, total)
        while True:
            found = self.semantic_scores(query, ask, unbounded, rewritten)
            inside = [
                (cid, score)
                for cid, score in found.scores
                if filters.in_years(self._chunk_years.get(cid, frozenset()))
            ]
            if len(inside) >= n or ask >= total:
                return SemanticScores(inside[:n], found.best_sentence, found.sentence_cosine, found.questions)
            ask = total

    def semantic_ranking(self, query: str, n: int, filters: Filters | None = None) -> list[tuple[str, float]]:
        return self.semantic_scores(query, n, filters).scores

    def search(
        self, query: str, mode: str = "hybrid", k: int = 5, filters: Filters | None = None
    ) -> list[Hit]:
        """Ranked hits for ``query``; raises InvalidQueryError for unusable input."""
        if mode not in MODES:
            raise InvalidQueryError(
                f"検索モードは {', '.join(MODES)} のいずれかです（指定: {mode}）",
                f"mode must be one of {', '.join(MODES)} (got {mode!r})",
            )
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 100:
            raise InvalidQueryError(
                "件数 k は 1〜100 で指定してください", f"k must be between 1 and 100 (got {k})"
            )
        query = validate_query(query, self.settings.max_query_chars)
        expansions = self.expansions(query)
        said = self.plain_words.matches(query)  # shown on the hits whose chunk holds the term
        rewritten = rewrite_query(query, expansions)
        searched = rewritten if rewritten != query else None
        pool = max(k, self.settings.candidate_pool)
        best_sentence: dict[str, tuple[int, int]] = {}
        sentence_cosine: dict[str, float] = {}
        similar: dict[str, QuestionMatch] = {}
        meaning: dict[str, float] = {}  # semantic scores, to tell weak hits
        matched: set[str] = set()  # chunks with a keyword match
        if mode == "keyword":
            scored = self.keyword_ranking(query, k, filters, expansions)
        elif mode == "semantic":
            semantic = self.semantic_scores(query, k, filters, searched)
            scored, best_sentence, sentence_cosine, similar = (
                semantic.scores,
                semantic.best_sentence,
                semantic.sentence_cosine,
                semantic.questions,
            )
            meaning = dict(semantic.scores)
            matched = {cid for cid, _ in self.keyword_ranking(query, pool, filters, expansions)}
        else:
            keyword = self.keyword_ranking(query, pool, filters, expansions)
            semantic = self.semantic_scores(query, pool, filters, searched)
            best_sentence, sentence_cosine = semantic.best_sentence, semantic.sentence_cosine
            similar = semantic.questions
            meaning, matched = dict(semantic.scores), {cid for cid, _ in keyword}
            if self.settings.fusion == "rrf":
                weight = self.settings.hybrid_keyword_weight
                fused = rrf_fuse(
                    [
                        ([cid for cid, _ in keyword], weight),
                        ([cid for cid, _ in semantic.scores], 1.0 - weight),
                    ],
                    self.settings.rrf_k,
                )
            else:
                weight = (
                    adaptive_keyword_weight(self.keyword_coverage(query), self.settings)
                    if self.settings.fusion == "adaptive"
                    else self.settings.hybrid_keyword_weight
                )
                fused = score_fuse(keyword, semantic.scores, weight)
            scored = sorted(fused.items(), key=lambda item: -item[1])[:k]
        return [
            Hit(
                rank,
                round(float(score), 6),
                self.chunks[cid],
                best_sentence.get(cid),
                sentence_cosine.get(cid),
                weak=bool(meaning)
                and cid not in matched
                and meaning.get(cid, 0.0) < self.settings.relevance_floor,
                expansions=tuple(expansions),
                searched_query=searched,
                plain_words=held_in(said, self.chunks[cid].term_text),
                similar_question=similar.get(cid),
            )
            for rank, (cid, score) in enumerate(scored, start=1)
        ]
