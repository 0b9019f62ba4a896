"""kb.ingest as a package: the names callers import, and its pure steps (no corpus, no index)."""

from __future__ import annotations

import kb.ingest
from kb.ingest import Line, clean_line, drop_headers_footers, heading_level


def test_every_name_callers_import_is_still_there() -> None:
    # kb/cli.py, kb/app and the tests import these from kb.ingest (one module until the split).
    for name in (
        "add_document",
        "convert_file",
        "to_markdown_body",
        "AddReport",
        "MAX_INGEST_BYTES",
        "SUPPORTED_SUFFIXES",
        "_Extracted",
        "_Line",
    ):
        assert hasattr(kb.ingest, name), name
    assert kb.ingest._Line is Line and kb.ingest._Extracted is kb.ingest.Extracted
    assert set(kb.ingest.__all__) <= set(dir(kb.ingest))


def test_clean_line_joins_spaced_letters_and_radicals() -> None:
    assert clean_line("A I - O C R を活用") == "AI-OCRを活用"
    assert clean_line("計 画 の 目 的") == "計画の目的"
    assert clean_line("\u2f47本") == "日本"  # a Kangxi radical a PDF font used for 日


def test_heading_levels_in_the_plans_styles() -> None:
    assert heading_level("第1章 計画の策定にあたって", 0) == 1
    assert heading_level("1.1 計画の目的", 1) == 2
    assert heading_level("(1) 基本方針", 2) == 3
    assert heading_level("＜重点取組＞", 3) == 4
    assert heading_level("本計画は、方針を定めるものです。", 0) is None


def test_running_headers_and_page_numbers_are_dropped() -> None:
    def page(number: int) -> list[Line]:
        return [
            Line("テスト市計画（令和7年度版）", top=10, bottom=20),
            Line(f"本文 {number} ページ目の内容です。", top=300, bottom=310),
            Line(f"- {number} -", top=820, bottom=830),
        ]

    pages, dropped = drop_headers_footers([page(n) for n in (1, 2, 3)], [842.0] * 3)
    assert [[line.text for line in lines] for lines in pages] == [
        [f"本文 {n} ページ目の内容です。"] for n in (1, 2, 3)
    ]
    assert set(dropped) == {"テスト市計画（令和7年度版）", "- 1 -"}
