"""The index directory describes itself: what built it, and whether the settings still match.

Layout of an index directory (``Settings.index_dir``)::

    manifest.json   this file's Manifest
    chunks.jsonl    one Chunk per line (text, offsets, heading path)
    keyword/        the two BM25 indices (bm25s)
    chroma/         embedded Chroma (absent when a Chroma server is configured)
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from kb.chunk import Chunk
from kb.config import Settings
from kb.errors import IndexCorruptError, IndexMismatchError, IndexMissingError

FORMAT_VERSION = 1
# Bump when what is embedded or keyword-indexed per chunk changes (Chunk.embed_text /
# index_text): chunk ids hash only the content, so old vectors would otherwise be reused.
TEXT_FORMAT = "embed=body;keyword=title|path+body;v2"
MANIFEST = "manifest.json"
CHUNKS = "chunks.jsonl"


@dataclass(frozen=True)
class Manifest:
    format_version: int
    package_version: str
    embedding_model: str
    embedding_dimension: int
    query_prefix: str
    passage_prefix: str
    tokenizer: str
    text_format: str
    chunk_target_chars: int
    chunk_max_chars: int
    chunk_overlap_chars: int
    corpus_hash: str
    collection: str
    chroma_host: str | None
    chunk_count: int
    built_at: str
    build_seconds: float

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
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise IndexCorruptError(
                f"インデックスの manifest が壊れています: {path}（`kb index --rebuild` で作り直してください）",
                f"index manifest is corrupt at {path} (run `kb index --rebuild`): {exc}",
            ) from exc

    def check(self, settings: Settings, query_prefix: str, passage_prefix: str, tokenizer: str) -> None:
        """Raise IndexMismatchError naming every setting that differs from the build."""
        expected = {
            "format_version": FORMAT_VERSION,
            "embedding_model": settings.embedding_model,
            "query_prefix": query_prefix,
            "passage_prefix": passage_prefix,
            "tokenizer": tokenizer,
            "text_format": TEXT_FORMAT,
            "chunk_target_chars": settings.chunk_target_chars,
            "chunk_max_chars": settings.chunk_max_chars,
            "chunk_overlap_chars": settings.chunk_overlap_chars,
            "chroma_host": settings.chroma_host,
        }
        diffs = [
            f"{key}: index={getattr(self, key)!r} settings={value!r}"
            for key, value in expected.items()
            if getattr(self, key) != value
        ]
        if diffs:
            raise IndexMismatchError(
                "インデックスが現在の設定と一致しません（`kb index --rebuild` で作り直してください）: "
                + "; ".join(diffs),
                "the index was built with other settings (run `kb index --rebuild`): " + "; ".join(diffs),
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
            f"チャンクファイルが壊れています: {path}（`kb index --rebuild` で作り直してください）",
            f"chunk file is corrupt at {path} (run `kb index --rebuild`): {exc}",
        ) from exc
