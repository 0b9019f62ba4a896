"""The index directory describes itself: what built it, and whether the settings still match.

Layout of an index directory (``Settings.index_dir``)::

    manifest.json   this file's Manifest
    chunks.jsonl    one Chunk per line (text, offsets, heading path)
    keyword/        the two BM25 indices (bm25s)
    chroma/         embedded Chroma (absent when a Chroma server is configured)

Everything that changes what the index contains or how it ranks is in one dict,
:func:`index_contract`, written at build time and compared at open time by the same function,
so editing a tokeniser setting, a stop list, a BM25 parameter or the model asks for a rebuild.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from kb import lexicon
from kb.chunk import Chunk
from kb.config import Settings
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from kb.text import tokenizer_description

FORMAT_VERSION = 2
# Bump when what is embedded or keyword-indexed per chunk changes (Chunk.embed_text /
# index_text): chunk ids hash only the content, so old vectors would otherwise be reused.
TEXT_FORMAT = "embed=body+sentences;v3"
# Bump when the keyword index's tokens change (kb.keyword.index_tokens): a keyword-only rebuild.
KEYWORD_FORMAT = "title|path+body;lemmas+compounds+latin+years;v1"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"
_REBUILD = ("`kb index --rebuild` で作り直してください", "run `kb index --rebuild`")


#: The contract entries that vectors depend on (the rest only shape the keyword index or ranking).
EMBEDDING_KEYS = (
    "format_version",
    "text_format",
    "embedding_model",
    "query_prefix",
    "passage_prefix",
    "chroma_host",
)


def index_contract(settings: Settings, query_prefix: str, passage_prefix: str) -> dict[str, Any]:
    """Every setting an index depends on; an index is usable only where this is equal."""
    return {
        "format_version": FORMAT_VERSION,
        "text_format": TEXT_FORMAT,
        "keyword_format": KEYWORD_FORMAT,
        "embedding_model": settings.embedding_model,
        "query_prefix": query_prefix,
        "passage_prefix": passage_prefix,
        "tokenizer": tokenizer_description(),
        "stop_lists": lexicon.fingerprint(),
        "chunk_target_chars": settings.chunk_target_chars,
        "chunk_max_chars": settings.chunk_max_chars,
        "chunk_overlap_chars": settings.chunk_overlap_chars,
        "sentence_min_chars": settings.sentence_min_chars,
        "bm25_k1": settings.bm25_k1,
        "bm25_b": settings.bm25_b,
        "bigram_weight": settings.bigram_weight,
        "chroma_host": settings.chroma_host,
    }


@dataclass(frozen=True)
class Manifest:
    """The contract an index was built under, and facts about the build."""

    contract: dict[str, Any]
    package_version: str
    embedding_dimension: int
    corpus_hash: str
    collection: str
    chunk_count: int
    built_at: str
    build_seconds: float

    @property
    def embedding_model(self) -> str:
        return str(self.contract.get("embedding_model", ""))

    @property
    def tokenizer(self) -> str:
        return str(self.contract.get("tokenizer", ""))

    def save(self, directory: Path) -> None:
        (directory / MANIFEST).write_text(
            json.dumps(asdict(self), ensure_ascii=False, indent=2), encoding="utf-8"
        )

    @classmethod
    def load(cls, directory: Path) -> Manifest:
        path = directory / MANIFEST
        if not path.is_file():
            raise IndexMissingError(
                f"インデックスがありません: {directory}（`kb index` を実行してください）",
                f"no index at {directory}: run `kb index`",
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(
                f"インデックスの manifest が壊れています: {path}（{_REBUILD[0]}）",
                f"index manifest is corrupt at {path} ({_REBUILD[1]}): {exc}",
            ) from exc
        if not isinstance(data, dict) or "contract" not in data:
            raise IndexMismatchError(
                f"インデックスは旧い形式で作られています: {directory}（{_REBUILD[0]}）",
                f"the index at {directory} was built by an older version ({_REBUILD[1]})",
            )
        try:
            return cls(**data)
        except TypeError as exc:
            raise IndexCorruptError(
                f"インデックスの manifest が壊れています: {path}（{_REBUILD[0]}）",
                f"index manifest is corrupt at {path} ({_REBUILD[1]}): {exc}",
            ) from exc

    def check(self, expected: dict[str, Any], only: tuple[str, ...] | None = None) -> None:
        """Raise IndexMismatchError naming every contract entry (of ``only``, if given) that
        differs from ``expected``."""
        keys = sorted(only if only is not None else set(expected) | set(self.contract))
        diffs = [
            f"{key}: index={self.contract.get(key)!r} settings={expected.get(key)!r}"
            for key in keys
            if self.contract.get(key) != expected.get(key)
        ]
        if diffs:
            raise IndexMismatchError(
                f"インデックスが現在の設定と一致しません（{_REBUILD[0]}）: " + "; ".join(diffs),
                f"the index was built with other settings ({_REBUILD[1]}): " + "; ".join(diffs),
            )


def save_chunks(directory: Path, chunks: list[Chunk]) -> None:
    with (directory / CHUNKS).open("w", encoding="utf-8") as out:
        for c in chunks:
            out.write(json.dumps(asdict(c), ensure_ascii=False) + "\n")


def load_chunks(directory: Path) -> list[Chunk]:
    path = directory / CHUNKS
    try:
        chunks = []
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                data = json.loads(line)
                data["heading_path"] = tuple(data["heading_path"])
                chunks.append(Chunk(**data))
        return chunks
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise IndexCorruptError(
            f"チャンクファイルが壊れています: {path}（{_REBUILD[0]}）",
            f"chunk file is corrupt at {path} ({_REBUILD[1]}): {exc}",
        ) from exc
