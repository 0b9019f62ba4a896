"""Keyword search meets a year in either form: 2024年度 in a query finds 令和6年度, and back.

Sections 1.3 and 1.4 are decoys that share the query's digits and characters (2024件, 年度,
2016件, 28年) without naming the year: on characters and plain word tokens they outrank
the right section, so only the era/Western year tokens put it first.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.build import build_index
from kb.config import Settings
from kb.embed import Embedder
from kb.knowledge import KnowledgeBase

DOC = """---
title: 年の書き方
kind: plan
---
# 第1章 計画

## 1.1 新しい窓口

市民窓口の新しい仕組みを令和6年度から4年間かけて整えます。

## 1.2 以前の計画

前の情報化計画は2016年3月に策定し、市民サービスの向上を図りました。

## 1.3 申請の件数

電子申請の件数は2024件となり、年度ごとに増えています。

## 1.4 これまでの歩み

計画の策定から28年が経ち、2016件の申請を受け付けた年もありました。
"""


@pytest.fixture(scope="module")
def embedder(base_settings: Settings) -> Embedder:
    return Embedder(base_settings)


@pytest.fixture(scope="module")
def era_kb(
    tmp_path_factory: pytest.TempPathFactory, base_settings: Settings, embedder: Embedder
) -> KnowledgeBase:
    root: Path = tmp_path_factory.mktemp("era")
    corpus = root / "corpus"
    corpus.mkdir()
    (corpus / "years.md").write_text(DOC, encoding="utf-8")
    settings = base_settings.replace(corpus_dir=corpus, index_dir=root / "index")
    build_index(settings, embedder)
    return KnowledgeBase.open(settings, embedder)


def _sections(kb: KnowledgeBase, query: str) -> list[str]:
    return [hit.section for hit in kb.search(query, mode="keyword", k=3)]


def test_western_query_finds_era_passage(era_kb: KnowledgeBase) -> None:
    assert _sections(era_kb, "2024年度")[0].endswith("1.1 新しい窓口")
    assert _sections(era_kb, "２０２４年度から始まる取り組み")[0].endswith("1.1 新しい窓口")


def test_era_query_finds_western_passage(era_kb: KnowledgeBase) -> None:
    assert _sections(era_kb, "平成28年")[0].endswith("1.2 以前の計画")
    assert _sections(era_kb, "H28年の計画")[0].endswith("1.2 以前の計画")
    assert _sections(era_kb, "2016年に策定")[0].endswith("1.2 以前の計画")
