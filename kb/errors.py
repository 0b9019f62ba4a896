"""Typed errors for the knowledge base.

Every message says the cause and the fix, Japanese first, then English, so the CLI and
the app can show it as is.
"""

from __future__ import annotations


class KBError(Exception):
    """Base class of every error the library raises on purpose."""

    def __init__(self, ja: str, en: str) -> None:
        self.ja = ja
        self.en = en
        super().__init__(f"{ja} / {en}")


class ConfigError(KBError):
    """Settings are invalid (unknown key, bad value, unreadable TOML)."""


class InvalidQueryError(KBError):
    """The query is empty, too long after cleaning, or otherwise unusable."""


class CorpusError(KBError):
    """A corpus file cannot be read (not UTF-8, unreadable, empty corpus)."""


class IndexMissingError(KBError):
    """No index at the configured directory."""


class IndexMismatchError(KBError):
    """The index was built with other settings (model, tokenizer, chunking)."""


class IndexCorruptError(KBError):
    """The index files exist but cannot be read."""


class ModelError(KBError):
    """The embedding model cannot be prepared or loaded."""


class StoreError(KBError):
    """The vector store (Chroma) failed or is unreachable."""


class GenerationError(KBError):
    """The optional LLM endpoint failed; callers fall back to extractive answers."""


class IndexWriteError(KBError):
    """A build cannot write its files (read-only folder, disk full); the current index stays."""


class IngestError(KBError):
    """A file cannot be added to the corpus (`kb add`): unsupported, too large, encrypted,
    image-only, corrupt or already added. Nothing was changed."""
