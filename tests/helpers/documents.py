"""Test documents built at test time."""

from __future__ import annotations

from pathlib import Path

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
