"""Server mode against a real Chroma server: the same hits as the embedded index, builds replaced.

The test starts ``chroma run`` (the server that ships with the chromadb package) on a free
port of 127.0.0.1 with its data in a temp dir, waits for its heartbeat, builds the real corpus
into it with ``KB_CHROMA_HOST``/``KB_CHROMA_PORT`` and compares every search mode with the
session's embedded index; it stops the server at the end.

Embedding the corpus is the slow part of a build, so the server builds reuse the vectors of
the session's embedded index (same texts, same model): any difference in the hits is then the
store's doing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from helpers.servers import ServerError, chroma_executable, chroma_server
from helpers.vectors import ReusingEmbedder, known_question_vectors, known_vectors

from indexer.build import build_index
from kb.config import Settings, load_settings
from kb.knowledge import KnowledgeBase, question_collection, sentence_collection
from kb.retrieve import Filters, Hit
from kb.store import VectorStore

pytestmark = pytest.mark.server

STARTUP_TIMEOUT_S = 60.0

QUERIES = [
    "書かない窓口はいつから",
    "EBPMとは",
    "RPAの導入効果",
    "窓口の待ち時間を減らす取り組み",
    "情報セキュリティ対策",
    "マイナンバーカードの活用",
    "市役所の食堂のメニューは？",
]
FILTERS = [None, Filters(kinds=("glossary",)), Filters(kinds=("plan", "national_strategy"))]
MODES = ("keyword", "semantic", "hybrid")


@pytest.fixture(scope="module")
def chroma_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A Chroma server on 127.0.0.1 for this module, stopped (and its data removed) afterwards."""
    if chroma_executable() is None:
        pytest.skip("the `chroma` command is not installed (it comes with the chromadb package)")
    data = tmp_path_factory.mktemp("chroma-server")
    try:
        with chroma_server(data / "data", data.parent / "chroma-server.log", STARTUP_TIMEOUT_S) as port:
            yield port
    except ServerError as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def reusing_embedder(base_settings: Settings, built_kb) -> ReusingEmbedder:  # type: ignore[no-untyped-def]
    """Passage and question vectors of the embedded index by text, read back from its collections."""
    return ReusingEmbedder(
        base_settings,
        built_kb.retriever.embedder,
        known_vectors(built_kb, base_settings),
        known_question_vectors(built_kb),
    )


@pytest.fixture(scope="module")
def server_settings(
    base_settings: Settings, chroma_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """Default settings from KB_* variables, as a replica would read them: Chroma on the server."""
    env = {
        "KB_CHROMA_HOST": "127.0.0.1",
        "KB_CHROMA_PORT": str(chroma_port),
        "KB_INDEX_DIR": str(tmp_path_factory.mktemp("server-kb") / "index"),
        "KB_CORPUS_DIR": str(base_settings.corpus_dir),
        "KB_MODEL_CACHE_DIR": str(base_settings.model_cache_dir),
    }
    settings = load_settings(env=env)
    assert settings.chroma_host == "127.0.0.1" and settings.chroma_port == chroma_port
    return settings


def _client(port: int):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    return chromadb.HttpClient(
        host="127.0.0.1", port=port, settings=ChromaSettings(anonymized_telemetry=False)
    )


def _server_collections(port: int) -> set[str]:
    return {c.name for c in _client(port).list_collections()}


def _same_hits(expected: list[Hit], got: list[Hit], what: str) -> None:
    assert [(h.rank, h.chunk_id) for h in got] == [(h.rank, h.chunk_id) for h in expected], what
    for e, g in zip(expected, got, strict=True):
        assert g.score == pytest.approx(e.score, abs=1e-4), f"{what}: {e.chunk_id}"
        assert g.best_sentence == e.best_sentence, f"{what}: {e.chunk_id}"
        if e.sentence_cosine is None:
            assert g.sentence_cosine is None, what
        else:
            assert g.sentence_cosine == pytest.approx(e.sentence_cosine, abs=1e-4), what


_approximate_query = VectorStore.query_with_metadata


def _exhaustive_query(
    self: VectorStore, vector: np.ndarray, k: int, where: dict[str, Any] | None = None, metadata: bool = True
) -> list[tuple[str, float, dict[str, Any]]]:
    """VectorStore.query_with_metadata without HNSW's approximation: every vector, then the
    best ``k`` (ties by id). Chroma returns all matches when asked for at least as many."""
    everything = _approximate_query(self, vector, max(k, self.count()), where, metadata)
    if where is None:
        assert len(everything) == self.count()
    return sorted(everything, key=lambda hit: (-round(hit[1], 5), hit[0]))[:k]


def _compare_modes(embedded: KnowledgeBase, served: KnowledgeBase, modes: Sequence[str]) -> int:
    compared = 0
    for query in QUERIES:
        for mode in modes:
            for filters in FILTERS:
                expected = embedded.search(query, mode=mode, k=10, filters=filters)
                got = served.search(query, mode=mode, k=10, filters=filters)
                _same_hits(expected, got, f"{mode} {query!r} {filters}")
                compared += len(expected)
    return compared


def _assert_same_as_embedded(embedded: KnowledgeBase, served: KnowledgeBase) -> None:
    """Every mode gives the same hits, ranks and scores (within 1e-4) in both stores.

    Keyword mode never asks Chroma; hybrid mode asks for its whole candidate pool, which holds
    every vector of this corpus (checked below), so both are compared as they run. Semantic
    mode asks for only k chunks and 4k sentences, and Chroma's HNSW search is approximate: two
    builds of the same vectors, embedded ones included, may return different near-neighbours
    (on the sentence collection, at k=40 about half the queries differ from the exact top 40).
    That is not the server's doing, so semantic mode is compared with an exhaustive query in
    both stores: the same vectors, metadata, filters and cosines on both sides.
    """
    assert [c.chunk_id for c in served.chunks] == [c.chunk_id for c in embedded.chunks]
    pool = served.settings.candidate_pool
    assert served.retriever.store is not None and served.retriever.sentence_store is not None
    assert served.retriever.store.count() <= pool
    assert served.retriever.sentence_store.count() <= 4 * pool
    compared = _compare_modes(embedded, served, ("keyword", "hybrid"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VectorStore, "query_with_metadata", _exhaustive_query)
        compared += _compare_modes(embedded, served, ("semantic",))
    assert compared > len(QUERIES) * len(MODES) * 10  # the queries found something


def test_server_index_has_the_same_hits_as_embedded(
    server_settings: Settings, chroma_port: int, reusing_embedder: ReusingEmbedder, built_kb
) -> None:  # type: ignore[no-untyped-def]
    report = build_index(server_settings, reusing_embedder)
    assert reusing_embedder.computed == 0  # every vector came from the embedded index
    assert report.chunks == len(built_kb.chunks) and report.sentences > report.chunks

    served = KnowledgeBase.open(server_settings, reusing_embedder)
    collection = served.manifest.collection
    assert collection.startswith(f"{server_settings.collection}-")
    # The build's collections live on the server, none in the index folder.
    assert _collections_of(collection) <= _server_collections(chroma_port)
    assert served.retriever.store is not None and served.retriever.sentence_store is not None
    assert served.retriever.store.count() == report.chunks
    assert served.retriever.sentence_store.count() == report.sentences
    assert not list(Path(server_settings.index_dir).rglob("chroma.sqlite3"))

    _assert_same_as_embedded(built_kb, served)


def _collections_of(collection: str) -> set[str]:
    """A build's collections: chunks, sentences, expected questions."""
    return {collection, sentence_collection(collection), question_collection(collection)}


def _ours(settings: Settings, port: int) -> set[str]:
    return {n for n in _server_collections(port) if n.startswith(f"{settings.collection}-")}


def test_reindex_drops_the_older_builds_collections(
    server_settings: Settings, chroma_port: int, reusing_embedder: ReusingEmbedder, built_kb
) -> None:  # type: ignore[no-untyped-def]
    build_index(server_settings, reusing_embedder)  # up to date, or built here if run alone
    # A replica serving the current build while another one re-indexes.
    serving = KnowledgeBase.open(server_settings, reusing_embedder)
    old = serving.manifest.collection
    before = serving.search(QUERIES[0], mode="hybrid", k=5)

    # An unchanged corpus is not rebuilt: the server keeps the same collections.
    assert build_index(server_settings, reusing_embedder).unchanged
    assert _ours(server_settings, chroma_port) == _collections_of(old)

    # A re-index (forced here) writes a new build's collections. The old build's stay while
    # a replica has that build open, so its requests in flight still get answers.
    _client(chroma_port).get_or_create_collection("another_app")
    build_index(server_settings, reusing_embedder, rebuild=True)
    with KnowledgeBase.open(server_settings, reusing_embedder) as second:
        new = second.manifest.collection
    assert new != old
    assert _ours(server_settings, chroma_port) == _collections_of(old) | _collections_of(new)
    assert not serving.is_current()
    assert serving.search(QUERIES[0], mode="hybrid", k=5) == before
    serving.close()

    # The next re-index drops every older build's collections, and only ours.
    build_index(server_settings, reusing_embedder, rebuild=True)
    assert reusing_embedder.computed == 0
    served = KnowledgeBase.open(server_settings, reusing_embedder)
    newest = served.manifest.collection
    assert _ours(server_settings, chroma_port) == _collections_of(newest)
    assert "another_app" in _server_collections(chroma_port)
    _assert_same_as_embedded(built_kb, served)
