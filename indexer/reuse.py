"""What a new build takes from the current one: its manifest and folder, whether its files read
back whole, and its vectors, by id or by identical text (vectors depend only on the text and the
model, so re-indexing embeds only what is new)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from kb.chunk import chunk_sentences
from kb.config import Settings
from kb.errors import KBError
from kb.keyword import KeywordIndex
from kb.knowledge import open_store, question_collection, sentence_collection
from kb.manifest import EMBEDDING_KEYS, Manifest, builds_dir, is_legacy_layout, load_chunks, read_current
from kb.store import VectorStore


def previous_build(index_dir: Path) -> tuple[Manifest, Path] | None:
    """The current build's manifest and folder (or an old-layout index's), if readable.
    Safe without a lease: only builds delete builds, and we hold the build lock."""
    build_id = read_current(index_dir)
    if build_id:
        folder = builds_dir(index_dir) / build_id
    elif is_legacy_layout(index_dir):
        folder = index_dir
    else:
        return None
    try:
        return Manifest.load(folder), folder
    except KBError:
        return None


def intact(folder: Path, manifest: Manifest, settings: Settings) -> bool:
    """Whether a build's files read back whole (a damaged build is rebuilt, not kept)."""
    try:
        chunks = load_chunks(folder)
        keyword = KeywordIndex.load(folder / "keyword", settings.bigram_weight)
    except Exception:  # damaged in any way
        return False
    return (
        len(chunks) == manifest.chunk_count
        and keyword.chunk_ids == [c.chunk_id for c in chunks]
        and (bool(settings.chroma_host) or (folder / "chroma").is_dir())
    )


def previous_vectors(
    settings: Settings,
    contract: dict[str, Any],
    texts: dict[str, str],
    previous: tuple[Manifest, Path] | None,
) -> dict[str, np.ndarray]:
    """Vectors (chunks and sentences) the current build already holds, when built the same way:
    by id, else by identical text. A vector depends only on the text (and the model and prefixes
    in the contract), so a renamed file, a moved section or a passage repeated in a new document
    keeps its vectors; ids alone would embed all of those again."""
    if previous is None:
        return {}
    old, folder = previous
    stores: list[VectorStore] = []
    try:
        # Only what the vectors depend on must match: a new stop list or BM25 parameter
        # rebuilds the keyword index but keeps every vector.
        old.check({key: contract[key] for key in EMBEDDING_KEYS}, only=EMBEDDING_KEYS)
        same_text = _previous_ids_by_text(settings, folder, texts)
        wanted = sorted(set(texts) | set(same_text.values()))
        found: dict[str, np.ndarray] = {}
        for name in (old.collection, sentence_collection(old.collection)):
            stores.append(open_store(settings, folder, name))
            found.update(stores[-1].get_vectors(wanted))
        reused = {vid: found[vid] for vid in texts if vid in found}
        for vid, old_id in same_text.items():
            if vid not in reused and old_id in found:
                reused[vid] = found[old_id]
        return reused
    except Exception:  # no usable previous build (other settings, damaged): embed all
        return {}
    finally:
        for store in stores:
            store.close()


def question_vectors(store: VectorStore) -> dict[str, np.ndarray]:
    """An expected-question collection's vectors by question text (stand-in sentences included);
    empty when it is too large to read whole (its questions are then embedded again)."""
    exact = store.exact_index()
    if exact is None:
        return {}
    return {
        str(meta.get("question", "")): exact.vectors[row]
        for row, meta in enumerate(exact.metadatas)
        if meta.get("question")
    }


def previous_question_vectors(
    settings: Settings, contract: dict[str, Any], previous: tuple[Manifest, Path] | None
) -> dict[str, np.ndarray]:
    """The expected questions' vectors the current build holds, by question text, when embedded
    the same way. By text, not id: a question's vector does not depend on the chunk it is
    attached to, so an edited passage keeps its questions' vectors."""
    if previous is None:
        return {}
    old, folder = previous
    store: VectorStore | None = None
    try:
        old.check({key: contract[key] for key in EMBEDDING_KEYS}, only=EMBEDDING_KEYS)
        store = open_store(settings, folder, question_collection(old.collection))
        return question_vectors(store)
    except Exception:  # no usable previous build (other settings, damaged, older layout): embed all
        return {}
    finally:
        if store is not None:
            store.close()


def _previous_ids_by_text(settings: Settings, folder: Path, texts: dict[str, str]) -> dict[str, str]:
    """For each new id whose text the previous build embedded under another id: that old id.

    The previous build's texts come from its saved chunks (sentence ids are chunk id + offsets,
    so they are recomputed exactly); a build without readable chunks gives nothing here."""
    try:
        old_chunks = load_chunks(folder)
    except KBError:
        return {}
    old_sentences = chunk_sentences(old_chunks, settings.sentence_min_chars)
    old_id_of_text: dict[str, str] = {}
    for old_id, text in [(c.chunk_id, c.embed_text) for c in old_chunks] + [
        (s.sentence_id, s.text) for s in old_sentences
    ]:
        old_id_of_text.setdefault(text, old_id)
    return {
        vid: old_id_of_text[text]
        for vid, text in texts.items()
        if text in old_id_of_text and old_id_of_text[text] != vid
    }
