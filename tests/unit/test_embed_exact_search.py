"""In-memory exact vector search (kb.store.ExactIndex) against Chroma on the same vectors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.store import ExactIndex, VectorStore

KINDS = ("plan", "glossary", "national_strategy")
CHAPTERS = ("第1章", "第2章", "第3章", "")


def _data(n: int = 120, dim: int = 16, seed: int = 7) -> tuple[list[str], np.ndarray, list[dict[str, Any]]]:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = [f"v{i:04d}" for i in range(n)]
    metas = [
        {"kind": KINDS[i % 3], "chapter": CHAPTERS[i % 4], "chunk_id": f"c{i // 4}", "start": i, "end": i + 5}
        for i in range(n)
    ]
    return ids, vectors, metas


WHERES: list[dict[str, Any] | None] = [
    None,
    {"kind": "plan"},
    {"chapter": {"$eq": "第2章"}},
    {"kind": {"$in": ["plan", "glossary"]}},
    {"$and": [{"kind": {"$in": ["glossary"]}}, {"chapter": "第1章"}]},
    {"$or": [{"kind": "plan"}, {"chapter": "第3章"}]},
    {"kind": {"$ne": "plan"}},
    {"kind": {"$nin": ["plan", "glossary"]}},
    {"kind": "no such kind"},
]


@pytest.mark.parametrize("where", WHERES)
def test_exact_search_is_the_brute_force_top_k(where: dict[str, Any] | None) -> None:
    ids, vectors, metas = _data()
    index = ExactIndex(ids, vectors, metas)
    query = vectors[3] + 0.5 * vectors[10]
    found = index.search(query, 15, where)
    unit = query / np.linalg.norm(query)

    allowed = index.mask(where) if where else np.ones(len(ids), dtype=bool)
    expected = sorted(
        ((i, float(vectors[j] @ unit)) for j, i in enumerate(ids) if allowed[j]),
        key=lambda x: -x[1],
    )[:15]
    assert [h[0] for h in found] == [e[0] for e in expected]
    assert [h[1] for h in found] == pytest.approx([e[1] for e in expected], abs=1e-6)


def test_filters_mean_what_chroma_means() -> None:
    ids, vectors, metas = _data(12)
    index = ExactIndex(ids, vectors, metas)
    kinds = [m["kind"] for m in metas]
    chapters = [m["chapter"] for m in metas]
    assert index.mask({"kind": "plan"}).tolist() == [k == "plan" for k in kinds]
    both = index.mask({"$and": [{"kind": {"$in": ["plan", "glossary"]}}, {"chapter": "第1章"}]})
    assert both.tolist() == [
        k in ("plan", "glossary") and c == "第1章" for k, c in zip(kinds, chapters, strict=True)
    ]
    assert index.mask({"missing_key": "x"}).tolist() == [False] * 12


def test_unsupported_filters_are_left_to_chroma(tmp_path: Path) -> None:
    ids, vectors, metas = _data(40)
    store = VectorStore("exact", path=tmp_path / "chroma")
    store.add(ids, vectors, metas)
    # $gt is not implemented in memory: Chroma must answer, with the same meaning.
    hits = store.query_with_metadata(vectors[0], 10, {"start": {"$gt": 30}})
    assert hits and all(m["start"] > 30 for _, _, m in hits)
    store.close()


def test_store_answers_like_chroma(tmp_path: Path) -> None:
    """Same ids, order and cosines as Chroma's own search (exact at this size with ef_search 500)."""
    ids, vectors, metas = _data()
    exact = VectorStore("same", path=tmp_path / "chroma")
    exact.add(ids, vectors, metas)
    chroma = VectorStore("same", path=tmp_path / "chroma", exact_search_max=0)
    assert exact.exact_index() is not None and chroma.exact_index() is None
    for q in (0, 5, 77):
        for where in WHERES:
            got = exact.query_with_metadata(vectors[q], 12, where)
            want = chroma.query_with_metadata(vectors[q], 12, where)
            assert [g[0] for g in got] == [w[0] for w in want], where
            assert [g[1] for g in got] == pytest.approx([w[1] for w in want], abs=1e-5)
            assert [g[2] for g in got] == [w[2] for w in want]
    exact.close()
    chroma.close()


def test_large_collections_stay_in_chroma_and_adds_are_seen(tmp_path: Path) -> None:
    ids, vectors, metas = _data(30)
    store = VectorStore("limit", path=tmp_path / "chroma", exact_search_max=20)
    store.add(ids[:10], vectors[:10], metas[:10])
    assert store.exact_index() is not None and store.count() == 10
    store.add(ids[10:], vectors[10:], metas[10:])  # now over the limit: searched by Chroma
    assert store.exact_index() is None and store.count() == 30
    assert store.query(vectors[25], 1)[0][0] == ids[25]
    store.close()


def test_collections_are_read_into_memory_in_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One get() of ~75,000 records fails inside Chroma (too many SQL variables): pages of
    _READ_PAGE records, here 7, must give back every vector with its own id and metadata."""
    import kb.store

    monkeypatch.setattr(kb.store, "_READ_PAGE", 7)
    ids, vectors, metas = _data(30)
    VectorStore("paged", path=tmp_path / "chroma").add(ids, vectors, metas)
    exact = VectorStore("paged", path=tmp_path / "chroma").exact_index()
    assert exact is not None and len(exact) == 30
    for q in (0, 13, 29):
        [(vid, cosine, meta)] = exact.search(vectors[q], 1, None)
        assert vid == ids[q] and meta == metas[q] and cosine == pytest.approx(1.0, abs=1e-5)


def test_vectors_by_id_are_read_in_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """get_vectors (the re-index's reuse of vectors) pages its ids too: one get() of a large
    corpus's ids failed inside Chroma and the build silently embedded everything again."""
    import kb.store

    monkeypatch.setattr(kb.store, "_READ_PAGE", 7)
    ids, vectors, metas = _data(30)
    store = VectorStore("paged_ids", path=tmp_path / "chroma")
    store.add(ids, vectors, metas)
    found = store.get_vectors([*ids[::-1], "no-such-id"])
    assert sorted(found) == sorted(ids)
    for i in (0, 6, 7, 29):
        assert np.allclose(found[ids[i]], vectors[i], atol=1e-6)
