"""The vector store: Chroma, embedded (PersistentClient) by default or a Chroma server.

This is the only module that imports chromadb. Vectors always come from our Embedder:
collections get an embedding function that refuses to run, because Chroma's default one
would try to download a model.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import StoreError

#: Chroma shares one client "system" per path within a process and creates, counts and stops
#: them without a lock: two threads opening the same new path at once can get a half-started
#: one. Every open and close of a client in this process goes through this lock.
_CLIENTS_LOCK = threading.RLock()


class _NoEmbeddingFunction:
    """Stops Chroma from ever embedding on its own (its default downloads a model)."""

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:
        raise StoreError(
            "Chroma が独自に埋め込みを計算しようとしました（内部エラー）",
            "Chroma tried to embed texts itself; vectors must come from kb.embed (internal error)",
        )

    @staticmethod
    def name() -> str:
        return "kb-no-embedding"

    def get_config(self) -> dict[str, Any]:
        return {}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> _NoEmbeddingFunction:
        return _NoEmbeddingFunction()

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def is_legacy(self) -> bool:
        return False


def _client(path: Path | None, host: str | None, port: int):  # type: ignore[no-untyped-def]
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if host:
            return chromadb.HttpClient(host=host, port=port, settings=chroma_settings)
        assert path is not None
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        where = f"{host}:{port}" if host else str(path)
        raise StoreError(
            f"Chroma に接続できません: {where}",
            f"cannot open Chroma at {where}: {type(exc).__name__}: {exc}",
        ) from exc


class VectorStore:
    """One Chroma collection of chunk vectors, with kind/chapter/doc metadata for filters."""

    def __init__(
        self, collection_name: str, path: Path | None = None, host: str | None = None, port: int = 8000
    ):
        self.collection_name = collection_name
        with _CLIENTS_LOCK:
            self._client = _client(path, host, port)
            try:
                self._collection = self._client.get_or_create_collection(
                    name=collection_name,
                    embedding_function=_NoEmbeddingFunction(),  # type: ignore[arg-type]
                    # A wide search beam: with Chroma's default, queries returned a slightly
                    # different top 40 of the 758 sentence vectors from build to build (17 of
                    # 30 runs); 500 made them exact and stable at this size.
                    configuration={"hnsw": {"space": "cosine", "ef_search": 500}},
                )
            except Exception as exc:
                self.close()
                raise StoreError(
                    f"Chroma のコレクションを開けません: {collection_name}",
                    f"cannot open Chroma collection {collection_name}: {type(exc).__name__}: {exc}",
                ) from exc

    def count(self) -> int:
        return int(self._collection.count())

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        """Add vectors in batches (Chroma limits one call's size)."""
        step = 1000
        for i in range(0, len(ids), step):
            self._collection.upsert(
                ids=list(ids[i : i + step]),
                embeddings=vectors[i : i + step].tolist(),
                metadatas=list(metadatas[i : i + step]),  # type: ignore[arg-type]
            )

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (missing ids are absent from the result)."""
        if not ids:
            return {}
        found = self._collection.get(ids=list(ids), include=["embeddings"])
        vectors = found.get("embeddings")
        if vectors is None:
            return {}
        return {
            cid: np.asarray(vec, dtype=np.float32) for cid, vec in zip(found["ids"], vectors, strict=True)
        }

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) pairs, best first."""
        return [(vid, sim) for vid, sim, _ in self.query_with_metadata(vector, k, where, metadata=False)]

    def query_with_metadata(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None, metadata: bool = True
    ) -> list[tuple[str, float, dict[str, Any]]]:
        """(id, cosine similarity, metadata) triples, best first."""
        n = self.count()
        if n == 0:
            return []
        include = ["distances", "metadatas"] if metadata else ["distances"]
        try:
            result = self._collection.query(
                query_embeddings=[vector.tolist()],
                n_results=min(k, n),
                where=where or None,
                include=include,  # type: ignore[arg-type]
            )
        except Exception as exc:
            raise StoreError(
                "Chroma の検索に失敗しました", f"Chroma query failed: {type(exc).__name__}: {exc}"
            ) from exc
        ids = result["ids"][0]
        distances = (result.get("distances") or [[]])[0]
        metas = (result.get("metadatas") or [[{}] * len(ids)])[0]
        return [(vid, 1.0 - float(d), dict(m or {})) for vid, d, m in zip(ids, distances, metas, strict=True)]

    def close(self) -> None:
        """Release this store's Chroma client. Chroma shares one client per path within a
        process and counts its users, so other stores open on the same path keep working;
        the last one to close frees the database files (and their memory)."""
        close = getattr(self._client, "close", None)
        if close is not None:
            with _CLIENTS_LOCK:
                close()

    def delete_collection(self) -> None:
        self._client.delete_collection(self.collection_name)

    def list_collections(self) -> list[str]:
        return [c.name if hasattr(c, "name") else str(c) for c in self._client.list_collections()]

    def drop_other_collections(self, prefix: str) -> None:
        """Remove older builds' collections (server mode keeps one build's collections: this one
        and those named after it, such as its sentence vectors)."""
        for name in self.list_collections():
            if name.startswith(prefix) and not name.startswith(self.collection_name):
                self._client.delete_collection(name)


def release_clients() -> None:
    """Forget every cached Chroma client in this process. Prefer :meth:`VectorStore.close`:
    this also cuts off stores other threads are still using."""
    from chromadb.api.client import SharedSystemClient

    with _CLIENTS_LOCK:
        SharedSystemClient.clear_system_cache()
