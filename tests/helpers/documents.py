"""Test documents built at test time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: A one-document corpus for app tests that need their own small index.
SMALL_DOC = """---
title: テスト用の計画
kind: plan
---

# 第1章 概要

## 1.1 目的

書かない窓口は、申請書を手で書かずに手続きできる窓口です。職員が聞き取りながら申請書を作成します。

## 1.2 期間

計画期間は令和6年度から令和8年度までの3年間です。
"""


def small_settings(base_settings: Any, tmp_path: Path, text: str | None = SMALL_DOC) -> Any:
    """``base_settings`` over a corpus of its own in ``tmp_path``: one document ``text`` (none when
    None) and an index folder still to build."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if text is not None:
        (corpus / "small.md").write_text(text, encoding="utf-8")
    return base_settings.replace(corpus_dir=corpus, index_dir=tmp_path / "index")


def make_image_only_pdf(path: Path) -> None:
    """A 'scanned' PDF: a page that is a picture only, no text layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages

    with PdfPages(path) as pdf:
        fig = plt.figure(figsize=(8.27, 11.69))
        fig.figimage(np.random.default_rng(0).random((200, 150)), xo=50, yo=50)
        pdf.savefig(fig)
        plt.close(fig)
