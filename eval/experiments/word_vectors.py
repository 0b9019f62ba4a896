"""Word-vector vocabulary bridging for everyday-words questions, measured on the dev split.

    PYTHONPATH=. HF_HUB_OFFLINE=1 python -m eval.experiments.word_vectors \
        --ginza-dir /tmp/h1/wv/ja_ginza/ja_ginza-5.3.0 [--grid single|both|coverage|default]
        [--split dev] [--only SUBSTRING,...] [--show] [--diff]

(--ginza-dir: the folder ja_ginza/ja_ginza-5.3.0 unzipped from the wheel; only vocab/ is read.)

Two sources of "near words" for a typed content word that the keyword index lacks and that the
Sudachi synonyms (kb/expand.py) do not already expand:

- **chiVe** word vectors shipped in the PyPI wheel ``ja_ginza`` 5.3.0 (GiNZA, MIT; vectors from
  chiVe, Apache-2.0, Works Applications): ``vocab/vectors`` (numpy, 20,000 x 300),
  ``vocab/key2row`` (msgpack map: spaCy string hash -> row), ``vocab/strings.json``. The hash is
  spaCy's ``hash_string``: MurmurHash64A of the UTF-8 bytes, seed 1 (:func:`murmurhash64a`);
- **e5 term neighbours**: the packaged e5-small model embeds every keyword-index term and the
  typed word (query mode both), no new data.

The corpus words (keyword-index terms) whose cosine with the typed word is >= tau, top n, are
added on the keyword side at ``w`` of a typed word, and the query with the typed word replaced by
its nearest corpus word is embedded beside the typed query (as kb/expand.py does). Every variant
prints hit@1 / hit@5 / MRR@10 per group (colloquial, plan-worded) and mode, and how many
questions got an expansion. Figures and conclusions: eval/experiments/word_vectors.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import struct
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.check_questions import DEFAULT_QUESTIONS
from eval.experiments.colloquial_levers import GROUPS, MODES, K, triplet
from eval.metrics import Question, first_relevant_rank, load_question_file
from kb.config import load_settings
from kb.expand import Expansion, rewrite_query
from kb.keyword import _scores, index_tokens
from kb.knowledge import KnowledgeBase
from kb.retrieve import Retriever
from kb.text import char_bigrams, morphemes, normalize, word_tokens

_M = 0xC6A4A7935BD1E995
_MASK = (1 << 64) - 1


def murmurhash64a(data: bytes, seed: int = 1) -> int:
    """MurmurHash64A (Austin Appleby), as spaCy's ``hash_string`` (murmurhash ``hash64``, seed 1)."""
    h = (seed ^ (len(data) * _M)) & _MASK
    whole = len(data) // 8 * 8
    for (k,) in struct.iter_unpack("<Q", data[:whole]):
        k = (k * _M) & _MASK
        k ^= k >> 47
        k = (k * _M) & _MASK
        h = ((h ^ k) * _M) & _MASK
    tail = data[whole:]
    if tail:
        h = ((h ^ int.from_bytes(tail, "little")) * _M) & _MASK
    h ^= h >> 47
    h = (h * _M) & _MASK
    return h ^ (h >> 47)


def _msgpack_uint(blob: bytes, i: int) -> tuple[int, int]:
    tag = blob[i]
    if tag < 0x80:
        return tag, i + 1
    width = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[tag]
    return int.from_bytes(blob[i + 1 : i + 1 + width], "big"), i + 1 + width


def read_key2row(path: Path) -> dict[int, int]:
    """spaCy's key2row file: one msgpack map (map32) of unsigned ints to unsigned ints."""
    blob = path.read_bytes()
    if blob[0] != 0xDF:
        raise ValueError(f"{path}: not a msgpack map32")
    (count,) = struct.unpack(">I", blob[1:5])
    out: dict[int, int] = {}
    i = 5
    for _ in range(count):
        key, i = _msgpack_uint(blob, i)
        out[key], i = _msgpack_uint(blob, i)
    return out


@dataclass
class WordVectors:
    """Words -> unit vectors (rows shared: the wheel's vectors are pruned to 20,000 rows)."""

    row_of: dict[str, int]
    matrix: np.ndarray  # unit rows

    @classmethod
    def from_ginza(cls, folder: Path) -> WordVectors:
        vocab = folder / "vocab"
        key2row = read_key2row(vocab / "key2row")
        strings = json.loads((vocab / "strings.json").read_text(encoding="utf-8"))
        row_of = {}
        for s in strings:
            row = key2row.get(murmurhash64a(s.encode("utf-8")))
            if row is not None:
                row_of[s] = row
        matrix = np.load(vocab / "vectors").astype(np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        return cls(row_of, matrix)

    def vector(self, word: str) -> np.ndarray | None:
        row = self.row_of.get(word)
        return None if row is None else self.matrix[row]


# ---- which typed words are candidates --------------------------------------------------------

CONTENT_POS = {"名詞": {"名詞"}, "noun+adj": {"名詞", "形容詞", "形状詞"}, "all": None}


def _hiragana_only(word: str) -> bool:
    return all("\u3040" <= c <= "\u309f" for c in word)


def candidate_words(
    query: str, vocabulary, already: set[str], pos: str, skip_kana: bool = False
) -> list[tuple[str, str]]:
    """(lemma or compound, form as written) of the query's words the index lacks, not already
    expanded; compounds first. ``pos``: a key of CONTENT_POS (the single words allowed)."""
    tokens = word_tokens(query)
    words = [w for w in morphemes(query) if w.lemma in tokens]
    lemmas = {w.lemma for w in words}
    allowed = CONTENT_POS[pos]
    out: list[tuple[str, str]] = []
    for t in dict.fromkeys(tokens):
        if t not in lemmas and t not in vocabulary and t not in already:
            out.append((t, t))  # a noun compound
    for w in words:
        if allowed is not None and w.pos1 not in allowed:
            continue
        if skip_kana and _hiragana_only(w.surface):
            continue
        if w.lemma in vocabulary or w.surface in vocabulary or w.lemma in already or w.surface in already:
            continue
        if (w.lemma, w.surface) not in out:
            out.append((w.lemma, w.surface))
    return out


def _is_latin(word: str) -> bool:
    return all(ord(c) < 0x3000 for c in word)


class Neighbours:
    """Nearest corpus terms of a word, by some word-vector space."""

    def __init__(
        self, terms: list[str], term_matrix: np.ndarray, lookup: Callable[[str, str], np.ndarray | None]
    ):
        self.terms = terms
        self.term_matrix = term_matrix
        self.lookup = lookup  # (lemma, surface) -> unit vector or None

    def near(self, lemma: str, surface: str, tau: float, n: int) -> list[tuple[str, float]]:
        vector = self.lookup(lemma, surface)
        if vector is None:
            return []
        sims = self.term_matrix @ vector
        order = np.argsort(-sims)[: n * 3]
        out = []
        for i in order:
            term = self.terms[i]
            if sims[i] < tau or len(out) >= n:
                break
            if term in (lemma, surface) or (_is_latin(term) and not _is_latin(lemma)):
                continue
            out.append((term, float(sims[i])))
        return out


def target_terms(vocabulary, nouns_only: bool) -> list[str]:
    """Keyword-index terms allowed as expansions: 2+ characters, not digits/years; nouns only
    (a term whose last word is a noun) when asked."""
    out = []
    for term in vocabulary:
        if len(term) < 2 or term.isdigit() or "年" in term and any(c.isdigit() for c in term):
            continue
        if nouns_only:
            ms = morphemes(term)
            if not ms or ms[-1].pos1 not in {"名詞", "接尾辞"}:
                continue
        out.append(term)
    return out


def chive_neighbours(vectors: WordVectors, terms: list[str]) -> Neighbours:
    known = [t for t in terms if t in vectors.row_of]
    matrix = np.stack([vectors.matrix[vectors.row_of[t]] for t in known])

    def lookup(lemma: str, surface: str) -> np.ndarray | None:
        for form in (lemma, surface, normalize(surface)):
            v = vectors.vector(form)
            if v is not None:
                return v
        return None

    return Neighbours(known, matrix, lookup)


def e5_neighbours(embedder, terms: list[str], cache: Path) -> Neighbours:
    """e5 query-mode vectors of every term (cached in ``cache``) and of the typed word."""
    stored: dict[str, np.ndarray] = {}
    if cache.exists():
        data = np.load(cache, allow_pickle=False)
        stored = dict(zip(data["terms"].tolist(), data["vectors"], strict=True))
    missing = [t for t in terms if t not in stored]
    if missing:
        vectors = embedder.embed_queries(missing)
        stored.update(zip(missing, vectors, strict=True))
        keys = sorted(stored)
        np.savez(cache, terms=np.array(keys), vectors=np.stack([stored[k] for k in keys]))
    matrix = np.stack([stored[t] for t in terms])

    def lookup(lemma: str, surface: str) -> np.ndarray | None:
        return embedder.embed_query(surface if len(surface) >= len(lemma) else lemma)

    return Neighbours(terms, matrix, lookup)


class Agreed(Neighbours):
    """chiVe neighbours that e5 also finds close (cosine >= tau2): both spaces must agree."""

    def __init__(self, chive: Neighbours, e5: Neighbours, tau2: float):
        self.chive, self.e5, self.tau2 = chive, e5, tau2
        self.terms = chive.terms
        self._e5_row = {t: i for i, t in enumerate(e5.terms)}

    def near(self, lemma: str, surface: str, tau: float, n: int) -> list[tuple[str, float]]:
        found = self.chive.near(lemma, surface, tau, 3 * n)
        if not found:
            return []
        vector = self.e5.lookup(lemma, surface)
        out = []
        for term, cosine in found:
            row = self._e5_row.get(term)
            if row is not None and float(self.e5.term_matrix[row] @ vector) >= self.tau2:
                out.append((term, cosine))
        return out[:n]


# ---- the retriever variant --------------------------------------------------------------------


class NearWords(Expansion):
    """An expansion found by word vectors (kept apart from Sudachi's for its own weight)."""


@dataclass(frozen=True)
class Config:
    name: str
    source: str  # "chive" | "e5" | "none"
    tau: float = 0.6
    n: int = 2
    weight: float = 0.5
    pos: str = "名詞"
    semantic: bool = True  # the rewritten query vector too
    nouns_only: bool = True  # targets
    tau2: float = 0.88  # "both": the e5 cosine a chiVe neighbour must also reach
    coverage: bool = False  # typed words with near words count as known for the keyword weight
    skip_kana: bool = False  # typed words written in hiragana only (いくつ, やりとり) never expand


def near_word_retriever(neighbours: Neighbours | None, config: Config) -> type[Retriever]:
    class NearWordRetriever(Retriever):
        def expansions(self, query: str) -> list[Expansion]:
            found = super().expansions(query)
            if neighbours is None:
                return found
            already = {e.typed for e in found}
            for lemma, surface in candidate_words(
                query, self._vocabulary, already, config.pos, config.skip_kana
            ):
                near = neighbours.near(lemma, surface, config.tau, config.n)
                if near:
                    typed = surface if surface in normalize(query) else lemma
                    words = tuple(t for t, _ in near)
                    found.append(NearWords(typed, words, words))
            return found

        def keyword_coverage(self, query: str) -> float:
            if not config.coverage:
                return super().keyword_coverage(query)
            words = set(word_tokens(query))
            near = {e.typed for e in self.expansions(query) if isinstance(e, NearWords)}
            surfaces = {w.lemma: w.surface for w in morphemes(query)}
            known = [w in self._vocabulary or w in near or surfaces.get(w) in near for w in words]
            return sum(known) / len(words) if words else 0.0

        def keyword_ranking(self, query, n, filters=None, expansions=()):  # type: ignore[no-untyped-def]
            kw = self.keyword
            synonyms = [t for e in expansions if not isinstance(e, NearWords) for t in e.tokens]
            near = [t for e in expansions if isinstance(e, NearWords) for t in e.tokens]
            words = _scores(kw.words, index_tokens(query))
            if synonyms:
                words = words + self.settings.expansion_weight * _scores(kw.words, synonyms)
            if near:
                words = words + config.weight * _scores(kw.words, near)
            bigrams = _scores(kw.bigrams, char_bigrams(query))
            combined = np.zeros(len(kw.chunk_ids), dtype=np.float32)
            if words.max(initial=0.0) > 0:
                combined += words / words.max()
            if bigrams.max(initial=0.0) > 0:
                combined += kw.bigram_weight * bigrams / bigrams.max()
            mask = self._mask(filters)
            if mask is not None:
                combined = np.where(mask, combined, 0.0)
            order = np.argsort(-combined, kind="stable")[:n]
            return [(kw.chunk_ids[i], float(combined[i])) for i in order if combined[i] > 0]

        def semantic_scores(self, query, n, filters=None, rewritten=None):  # type: ignore[no-untyped-def]
            if not config.semantic and rewritten is not None:
                # the rewrite without the near words: Sudachi's part only
                again = rewrite_query(query, super().expansions(query))
                rewritten = again if again != query else None
            return super().semantic_scores(query, n, filters, rewritten)

    return NearWordRetriever


def evaluate(retriever: Retriever, questions: list[Question], show: bool = False):  # type: ignore[no-untyped-def]
    out: dict[tuple[str, str], tuple[float, ...]] = {}
    expanded = {g: 0 for g in GROUPS}
    examples = []
    for q in questions:
        near = [e for e in retriever.expansions(q.question) if isinstance(e, NearWords)]
        if near:
            for g, member in GROUPS.items():
                expanded[g] += member(q)
            examples.append((q.id, q.question, [(e.typed, e.tokens) for e in near]))
    ranks_by_mode = {}
    for mode in MODES:
        ranks: dict[str, int | None] = {}
        for q in questions:
            hits = retriever.search(q.question, mode, K)
            ranks[q.id] = first_relevant_rank([h.text for h in hits], q.evidence)
        ranks_by_mode[mode] = ranks
        for group, member in GROUPS.items():
            out[(group, mode)] = triplet([ranks[q.id] for q in questions if member(q)])
    return out, expanded, examples, ranks_by_mode


def grids() -> dict[str, list[Config]]:
    """The sweeps of word_vectors.md, by name (each starts with the current default)."""
    base = Config("sudachi only (default)", "none")
    single = [base]
    for source, taus in (("chive", (0.5, 0.6, 0.7)), ("e5", (0.91, 0.93, 0.95))):
        for tau, n, weight, semantic, pos in itertools.product(
            taus, (1, 3), (0.3, 0.7, 1.0), (True, False), ("名詞", "noun+adj")
        ):
            side = "sem" if semantic else "kw"
            single.append(
                Config(f"{source} t{tau} n{n} w{weight} {side} {pos}", source, tau, n, weight, pos, semantic)
            )
    both = [base]
    for tau, tau2, n, weight, semantic in itertools.product(
        (0.4, 0.5, 0.6), (0.85, 0.88, 0.91), (1, 3), (0.3, 1.0), (True, False)
    ):
        side = "sem" if semantic else "kw"
        both.append(
            Config(
                f"both t{tau}/{tau2} n{n} w{weight} {side}",
                "both",
                tau,
                n,
                weight,
                semantic=semantic,
                tau2=tau2,
            )
        )
    coverage = [base]
    for source, tau, tau2 in (
        ("both", 0.5, 0.88),
        ("both", 0.4, 0.91),
        ("chive", 0.6, 0.88),
        ("e5", 0.93, 0.88),
    ):
        for weight in (0.3, 0.7, 1.0):
            coverage.append(
                Config(
                    f"{source} t{tau}/{tau2} n3 w{weight} kw coverage",
                    source,
                    tau,
                    3,
                    weight,
                    semantic=False,
                    tau2=tau2,
                    coverage=True,
                )
            )
    return {"single": single, "both": both, "coverage": coverage, "default": [base]}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    parser.add_argument("--ginza-dir", type=Path, required=True)
    parser.add_argument("--only", default="", help="substring filters, comma separated")
    parser.add_argument("--show", action="store_true", help="print each variant's expansions")
    parser.add_argument("--diff", action="store_true", help="print questions whose rank moved vs the first")
    parser.add_argument("--e5-cache", type=Path, default=Path("/tmp/h1/e5_terms.npz"))
    parser.add_argument("--grid", default="single", help="single | both | coverage | default")
    args = parser.parse_args(argv)
    settings = load_settings()
    kb = KnowledgeBase.open(settings)
    questions = [q for q in load_question_file(DEFAULT_QUESTIONS, split=args.split) if q.answerable]
    base = kb.retriever
    embedder = base.embedder
    cache: dict[str, np.ndarray] = {}
    original = embedder.embed_query

    def embed_query(text: str) -> np.ndarray:
        if text not in cache:
            cache[text] = original(text)
        return cache[text]

    embedder.embed_query = embed_query  # type: ignore[method-assign]
    vocabulary = base._vocabulary
    wanted = [w for w in args.only.split(",") if w]
    chosen = grids()[args.grid]
    chosen = [c for c in chosen if not wanted or any(w in c.name for w in wanted)]
    sources: dict[tuple[str, bool], Neighbours] = {}
    vectors = None
    first_ranks: dict[str, dict[str, int | None]] | None = None
    header = f"{'variant':34} {'mode':8} {'n exp (all/col/plan)':>20} " + "  ".join(
        f"{g:>18}" for g in GROUPS
    )
    print(header)
    for config in chosen:
        started = time.perf_counter()
        neighbours = None
        if config.source != "none":
            key = (config.source, config.nouns_only)
            if config.source == "both":
                for part in ("chive", "e5"):
                    if (part, config.nouns_only) not in sources:
                        terms = target_terms(vocabulary, config.nouns_only)
                        if part == "chive":
                            vectors = vectors or WordVectors.from_ginza(args.ginza_dir)
                            sources[(part, config.nouns_only)] = chive_neighbours(vectors, terms)
                        else:
                            sources[(part, config.nouns_only)] = e5_neighbours(embedder, terms, args.e5_cache)
                sources[key] = Agreed(
                    sources[("chive", config.nouns_only)], sources[("e5", config.nouns_only)], config.tau2
                )
            if key not in sources:
                terms = target_terms(vocabulary, config.nouns_only)
                if config.source == "chive":
                    vectors = vectors or WordVectors.from_ginza(args.ginza_dir)
                    sources[key] = chive_neighbours(vectors, terms)
                else:
                    sources[key] = e5_neighbours(embedder, terms, args.e5_cache)
                print(f"  ({config.source}: {len(sources[key].terms)} target terms)", file=sys.stderr)
            neighbours = sources[key]
        retriever = near_word_retriever(neighbours, config)(
            kb.chunks, base.keyword, base.store, embedder, settings, base.sentence_store
        )
        result, expanded, examples, ranks = evaluate(retriever, questions)
        if first_ranks is None:
            first_ranks = ranks
        counts = "{}/{}/{}".format(expanded["all"], expanded["colloquial"], expanded["plan-worded"])
        for mode in MODES:
            cells = "  ".join("{:.3f}/{:.3f}/{:.3f}".format(*result[(g, mode)]) for g in GROUPS)
            print(f"{config.name:34} {mode:8} {counts:>20} {cells}")
        if args.show:
            for qid, text, near in examples:
                print(f"    {qid} {text}  " + "; ".join(f"{t} → {'/'.join(w)}" for t, w in near))
        if args.diff and ranks is not first_ranks:
            near_of = {qid: near for qid, _, near in examples}
            for mode in MODES:
                for q in questions:
                    before, after = first_ranks[mode][q.id], ranks[mode][q.id]
                    if before != after:
                        group = (
                            "col"
                            if "colloquial" in q.tags
                            else "plan"
                            if GROUPS["plan-worded"](q)
                            else "other"
                        )
                        near = "; ".join(f"{t} → {'/'.join(w)}" for t, w in near_of.get(q.id, []))
                        print(f"    {mode:8} {group:5} {q.id} {before} → {after}  {q.question}  [{near}]")
        print(f"  ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
