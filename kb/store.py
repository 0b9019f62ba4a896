"""The vector store: Chroma, embedded (PersistentClient) by default or a Chroma server.

This is the only module that imports chromadb. Vectors always come from our Embedder:
collections get an embedding function that refuses to run, because Chroma's default one
would try to download a model.

Chroma is the store of record. A collection of up to ``exact_search_max`` vectors (100,000 by
default: 154 MB at 384 dimensions) is read once into memory and searched exactly with one matrix
product: for this corpus (184 + 758 vectors) a query took 0.05-0.1 ms instead of Chroma's
~17 ms with HNSW at ef_search=500, and the result is the exact top k rather than HNSW's
approximation (bench/bench_search.py). A build's collections never change once written, so the
copy never goes stale. Larger collections are queried through Chroma's HNSW index.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
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


#: Default size limit for searching a collection exactly in memory (see the module docstring).
EXACT_SEARCH_MAX = 100_000


class _Unsupported(Exception):
    """A ``where`` clause the in-memory search does not implement (Chroma answers it instead)."""


class ExactIndex:
    """Every vector of one collection in memory, searched exactly (cosine = dot of unit vectors).

    Implements the ``where`` filters this project sends to Chroma: ``{"key": value}``,
    ``{"key": {"$eq" | "$ne" | "$in" | "$nin": ...}}``, ``{"$and": [...]}`` and ``{"$or": [...]}``;
    anything else raises _Unsupported so the caller can ask Chroma.
    """

    def __init__(self, ids: list[str], vectors: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        self.ids = ids
        norms = np.linalg.norm(vectors, axis=1, keepdims=True) if len(ids) else np.ones((0, 1))
        self.vectors = np.ascontiguousarray(vectors / np.clip(norms, 1e-12, None), dtype=np.float32)
        self.metadatas = metadatas
        self._masks: OrderedDict[str, np.ndarray] = OrderedDict()  # a few filters, reused
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    def _values(self, key: str) -> list[Any]:
        return [m.get(key) for m in self.metadatas]

    def _match(self, where: dict[str, Any]) -> np.ndarray:
        if not isinstance(where, dict) or not where:
            raise _Unsupported(repr(where))
        masks: list[np.ndarray] = []
        for key, cond in where.items():
            if key in ("$and", "$or"):
                if not isinstance(cond, list) or not cond:
                    raise _Unsupported(repr(where))
                parts = [self._match(c) for c in cond]
                masks.append(np.logical_and.reduce(parts) if key == "$and" else np.logical_or.reduce(parts))
            elif key.startswith("$"):
                raise _Unsupported(key)
            else:
                masks.append(self._compare(self._values(key), cond))
        return np.logical_and.reduce(masks)

    @staticmethod
    def _compare(values: list[Any], cond: Any) -> np.ndarray:
        if not isinstance(cond, dict):
            cond = {"$eq": cond}
        if len(cond) != 1:
            raise _Unsupported(repr(cond))
        ((op, arg),) = cond.items()
        present = np.array([v is not None for v in values], dtype=bool)
        if op in ("$eq", "$ne"):
            equal = np.array([v == arg for v in values], dtype=bool)
            return equal if op == "$eq" else present & ~equal
        if op in ("$in", "$nin") and isinstance(arg, list):
            allowed = set(arg)
            inside = np.array([v in allowed for v in values], dtype=bool)
            return inside if op == "$in" else present & ~inside
        raise _Unsupported(op)

    def mask(self, where: dict[str, Any]) -> np.ndarray:
        """Which vectors satisfy ``where`` (cached per filter)."""
        key = json.dumps(where, sort_keys=True, ensure_ascii=False)
        with self._lock:
            cached = self._masks.get(key)
            if cached is not None:
                self._masks.move_to_end(key)
                return cached
        found = self._match(where)
        with self._lock:
            self._masks[key] = found
            if len(self._masks) > 64:
                self._masks.popitem(last=False)
        return found

    def search(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float, dict[str, Any]]]:
        """The exact top ``k`` (id, cosine, metadata), best first; ties in collection order."""
        if not self.ids or k < 1:
            return []
        query = np.asarray(vector, dtype=np.float32)
        query = query / max(float(np.linalg.norm(query)), 1e-12)
        sims = self.vectors @ query
        rows = np.flatnonzero(self.mask(where)) if where else np.arange(len(self.ids))
        if len(rows) > k:
            top = np.argpartition(-sims[rows], k - 1)[:k]
            rows = rows[top]
        rows = rows[np.lexsort((rows, -sims[rows]))]
        ids, metas = self.ids, self.metadatas
        return [
            (ids[i], score, metas[i]) for i, score in zip(rows.tolist(), sims[rows].tolist(), strict=True)
        ]


_READ_PAGE = 5_000  # records per get() when reading a collection into memory


class VectorStore:
    """One Chroma collection of chunk vectors, with kind/chapter/doc metadata for filters.

    Queries search an in-memory copy when the collection holds at most ``exact_search_max``
    vectors (0: always Chroma); see the module docstring.
    """

    def __init__(
        self,
        collection_name: str,
        path: Path | None = None,
        host: str | None = None,
        port: int = 8000,
        exact_search_max: int = EXACT_SEARCH_MAX,
    ):
        self.collection_name = collection_name
        self.exact_search_max = exact_search_max
        self._exact: ExactIndex | None = None
        self._exact_checked = False
        self._exact_lock = threading.Lock()
        # Chroma's count() costs ~10 ms on a large collection; queries read it once (a build's
        # collections are complete before they are queried, and `add` forgets it).
        self._queried_count: int | None = None
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
        exact = self.exact_index()
        return len(exact) if exact is not None else int(self._collection.count())

    def exact_index(self) -> ExactIndex | None:
        """The in-memory copy used for queries (read on first use), or None when the collection is
        larger than ``exact_search_max``. Call only once the collection is complete: a build's
        collections are written once, then only read."""
        if self._exact_checked:
            return self._exact
        with self._exact_lock:
            if not self._exact_checked:
                self._exact = self._read_all() if self.exact_search_max > 0 else None
                self._exact_checked = True
        return self._exact

    def _read_all(self) -> ExactIndex | None:
        ids: list[str] = []
        rows: list[Any] = []
        metas: list[dict[str, Any]] = []
        try:
            total = int(self._collection.count())
            if total > self.exact_search_max:
                return None
            # In pages: one get() of ~75,000 records fails inside Chroma ("too many SQL variables").
            for offset in range(0, total, _READ_PAGE):
                found = self._collection.get(
                    include=["embeddings", "metadatas"],  # type: ignore[list-item]
                    limit=_READ_PAGE,
                    offset=offset,
                )
                page_ids = list(found["ids"])
                embeddings = found.get("embeddings")
                ids += page_ids
                rows += list(embeddings) if embeddings is not None and len(page_ids) else []
                metas += [dict(m or {}) for m in (found.get("metadatas") or [{}] * len(page_ids))]
        except Exception as exc:
            raise StoreError(
                f"Chroma のコレクションを読めません: {self.collection_name}",
                f"cannot read Chroma collection {self.collection_name}: {type(exc).__name__}: {exc}",
            ) from exc
        if not ids:  # an empty collection (a corpus without expected questions, say)
            return ExactIndex([], np.zeros((0, 1), dtype=np.float32), [])
        return ExactIndex(ids, np.asarray(rows, dtype=np.float32).reshape(len(ids), -1), metas)

    def add(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, str]]) -> None:
        """Add vectors in batches (Chroma limits one call's size)."""
        self._queried_count = None
        with self._exact_lock:  # the in-memory copy, if read already, is out of date
            self._exact, self._exact_checked = None, False
        step = 1000
        for i in range(0, len(ids), step):
            self._collection.upsert(
                ids=list(ids[i : i + step]),
                embeddings=vectors[i : i + step].tolist(),
                metadatas=list(metadatas[i : i + step]),  # type: ignore[arg-type]
            )
        self._queried_count = None  # a query during the upserts may have read a partial count

    def get_vectors(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id (missing ids are absent from the result)."""
        ids = list(ids)
        result: dict[str, np.ndarray] = {}
        # In pages: one get() of tens of thousands of ids fails inside Chroma (too many SQL
        # variables), which made a re-index of a large corpus silently embed everything again.
        for offset in range(0, len(ids), _READ_PAGE):
            found = self._collection.get(ids=ids[offset : offset + _READ_PAGE], include=["embeddings"])
            vectors = found.get("embeddings")
            if vectors is None:
                continue
            result.update(
                (cid, np.asarray(vec, dtype=np.float32))
                for cid, vec in zip(found["ids"], vectors, strict=True)
            )
        return result

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """(id, cosine similarity) pairs, best first."""
        return [(vid, sim) for vid, sim, _ in self.query_with_metadata(vector, k, where, metadata=False)]

    def query_with_metadata(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None, metadata: bool = True
    ) -> list[tuple[str, float, dict[str, Any]]]:
        """(id, cosine similarity, metadata) triples, best first."""
        exact = self.exact_index()
        if exact is not None:
            try:
                return exact.search(vector, k, where)
            except _Unsupported:  # a filter only Chroma understands
                pass
        if self._queried_count is None:
            self._queried_count = int(self._collection.count())
        n = self._queried_count
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
