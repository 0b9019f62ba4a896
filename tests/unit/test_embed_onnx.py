"""The ONNX backend: settings, the cached export (complete, atomic, redone when broken), same vectors as torch."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import kb.embed_onnx as embed_onnx
from kb.config import PACKAGED_E5, load_settings
from kb.embed import Embedder
from kb.errors import ConfigError

TEXTS = [
    "書かない窓口を令和6年度に導入します。",
    "体育館の予約ってネットでできる？",
    "AI-OCR と RPA による業務の効率化（ＤＸ推進）",
    "<s> が本文に含まれていても文として扱う",
    "マイナンバーカード" * 200,  # over 512 tokens: truncated like sentence-transformers
]


def test_backend_setting() -> None:
    assert load_settings(env={}).embedding_backend == "onnx"
    assert load_settings(env={"KB_EMBEDDING_BACKEND": "torch"}).embedding_backend == "torch"
    with pytest.raises(ConfigError, match="embedding_backend"):
        load_settings(env={"KB_EMBEDDING_BACKEND": "tensorrt"})
    with pytest.raises(ConfigError):
        load_settings(env={"KB_EMBEDDING_THREADS": "-1"})


def test_other_models_run_on_torch() -> None:
    settings = load_settings(env={})
    assert Embedder(settings).backend == "onnx"
    assert Embedder(settings.replace(embedding_model="cl-nagoya/ruri-v3-30m")).backend == "torch"
    assert Embedder(settings.replace(embedding_backend="torch")).backend == "torch"
    assert settings.embedding_model == PACKAGED_E5


def _fake_export(calls: list[Path]):  # type: ignore[no-untyped-def]
    def export(model_dir: Path, out: Path) -> float:
        calls.append(out)
        out.write_bytes(b"onnx" * 100)
        return 1.0

    return export


def test_export_is_cached_and_a_broken_one_is_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Path] = []
    monkeypatch.setattr(embed_onnx, "_export", _fake_export(calls))
    model_dir = tmp_path / "model-f1"
    model_dir.mkdir()
    cache = tmp_path / "cache"
    stages: list[str] = []
    first = embed_onnx.ensure_onnx(model_dir, cache, lambda stage, fraction: stages.append(stage))
    assert first == cache / "model-f1-onnx-o1" / "model.onnx" and first.is_file()
    assert any("ONNX" in s for s in stages)
    stamp = json.loads((first.parent / ".complete").read_text(encoding="utf-8"))
    assert stamp["bytes"] == 400
    assert embed_onnx.ensure_onnx(model_dir, cache) == first and len(calls) == 1  # cached

    first.write_bytes(b"onnx")  # truncated on disk: the size no longer matches the stamp
    assert embed_onnx.ensure_onnx(model_dir, cache).stat().st_size == 400 and len(calls) == 2

    (first.parent / ".complete").unlink()  # an export killed before its stamp
    leftover = cache / ".model-f1-onnx-o1.tmp-killed"
    leftover.mkdir()
    embed_onnx.ensure_onnx(model_dir, cache)
    assert len(calls) == 3 and not leftover.exists()

    embed_onnx.discard_export(first)  # what the Embedder does when a stamped file will not load
    embed_onnx.ensure_onnx(model_dir, cache)
    assert len(calls) == 4


def test_damaged_export_is_redone_when_loading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stamped file that ONNX Runtime cannot read is exported again, once, by the Embedder."""
    calls: list[Path] = []
    monkeypatch.setattr(embed_onnx, "_export", _fake_export(calls))
    model_dir = tmp_path / "model-f1"
    model_dir.mkdir()
    settings = load_settings(env={}).replace(model_cache_dir=tmp_path / "cache")
    embedder = Embedder(settings)
    monkeypatch.setattr(embedder, "_resolve_path", lambda: str(model_dir))
    with pytest.raises(Exception, match="ONNX"):
        embedder._load()  # the fake file is no model, even after redoing it
    assert len(calls) == 2


@pytest.fixture(scope="module")
def both() -> tuple[Embedder, Embedder]:
    settings = load_settings(env={})
    return Embedder(settings.replace(embedding_backend="onnx")), Embedder(
        settings.replace(embedding_backend="torch")
    )


def test_onnx_vectors_equal_torch_vectors(both: tuple[Embedder, Embedder]) -> None:
    onnx, torch = both
    assert onnx.dimension == torch.dimension == 384
    passages = np.sum(onnx.embed_passages(TEXTS) * torch.embed_passages(TEXTS), axis=1)
    queries = np.sum(onnx.embed_queries(TEXTS) * torch.embed_queries(TEXTS), axis=1)
    assert passages.min() > 0.99999 and queries.min() > 0.99999, (passages, queries)
    # And the check can fail: a different text is far from it.
    assert float(onnx.embed_queries([TEXTS[0]])[0] @ torch.embed_queries([TEXTS[1]])[0]) < 0.99


def test_token_ids_equal_sentence_transformers(both: tuple[Embedder, Embedder]) -> None:
    onnx, torch = both
    texts = [onnx.passage_prefix + t for t in TEXTS]
    ids, mask = embed_onnx.tokenize(onnx.model._tokenizer, texts)
    theirs = torch.model.preprocess(texts)
    assert ids.shape[1] == 512
    assert (ids == theirs["input_ids"].numpy()).all()
    assert (mask == theirs["attention_mask"].numpy()).all()


class _CountingModel:
    """A toy model (plumbing only): a text's vector encodes its length; records every batch."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def get_sentence_embedding_dimension(self) -> int:
        return 2

    def encode(self, texts: list[str], batch_size: int = 32, **_: object) -> np.ndarray:
        self.batches.append(list(texts))
        v = np.array([[len(t), 1.0] for t in texts], dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_passages_are_embedded_once_each_longest_first() -> None:
    embedder = Embedder(load_settings(env={}).replace(embedding_batch_size=2))
    model = _CountingModel()
    embedder._model = model  # type: ignore[assignment]
    texts = ["短い文", "とても長い文章です。とても長い文章です。", "短い文", "中くらいの文です"]
    vectors = embedder.embed_passages(texts)
    assert vectors.shape == (4, 2)
    assert np.allclose(vectors[0], vectors[2])
    assert np.allclose(vectors, model.encode([embedder.passage_prefix + t for t in texts]))
    sent = [t.removeprefix(embedder.passage_prefix) for batch in model.batches[:-1] for t in batch]
    assert sent == [texts[1], texts[3], texts[0]]  # distinct texts, longest first
