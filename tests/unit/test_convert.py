"""The converter keeps the plan's content and structure (corpus/*.md from corpus/source/)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from indexer.cleaning import clean_inline, join_spaced_letters
from indexer.convert import DEFAULT_SOURCE, convert
from indexer.corrections import DEFAULT_CORRECTIONS, foreign_letters_in_words, load_corrections
from indexer.tables import render_table
from kb.corpus import load_document


def _squash(text: str) -> str:
    text = re.sub(r"</?[a-zA-Z][^<>]*>", "", text)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return convert(DEFAULT_SOURCE, tmp_path_factory.mktemp("corpus"))


def test_committed_corpus_is_what_the_converter_produces(converted: list[Path], corpus_dir: Path) -> None:
    for path in converted:
        assert (corpus_dir / path.name).read_text(encoding="utf-8") == path.read_text(encoding="utf-8"), (
            f"corpus/{path.name} is stale: run `python -m indexer.convert`"
        )


def test_no_content_lost(converted: list[Path]) -> None:
    """>= 99% of the source's characters (NFKC, no tags, no whitespace) appear in the corpus, in order.

    "In order" is checked locally: a character counts when a 6-character run around it
    appears verbatim in the corpus. The converter moves whole blocks (2.1 into its own
    document, a figure's body under its caption heading), never characters inside a block,
    so a global order check would punish the structure it is meant to build. Six characters
    (2-3 Japanese words) still tolerates tables rendered as 「列名: 値」 rows.
    """
    window = 6
    source = _squash(DEFAULT_SOURCE.read_text(encoding="utf-8"))
    corpus = "\n".join(_squash(re.sub(r"(?m)^#{1,6} ", "", p.read_text(encoding="utf-8"))) for p in converted)
    grams = {corpus[i : i + window] for i in range(len(corpus) - window + 1)}
    covered = [False] * len(source)
    for i in range(len(source) - window + 1):
        if source[i : i + window] in grams:
            covered[i : i + window] = [True] * window
    ratio = sum(covered) / len(source)
    missing = "".join(ch if not ok else "|" for ch, ok in zip(source, covered, strict=True))
    lost = sorted({run for run in missing.split("|") if len(run) > 3}, key=len, reverse=True)[:10]
    assert ratio >= 0.99, f"only {ratio:.2%} of the source survived conversion; largest losses: {lost}"


def test_three_documents_with_kinds(converted: list[Path]) -> None:
    kinds = {load_document(p).kind for p in converted}
    assert kinds == {"plan", "glossary", "national_strategy"}


def test_headings_mirror_structure(converted: list[Path]) -> None:
    plan = next(load_document(p) for p in converted if p.stem == "plan")
    paths = {s.heading_path for s in plan.sections}
    assert (
        "第4章 期別取り組み（第3期）",
        "4.2 第3期 取り組みの詳細",
        "(1) 『あらゆる主体が便利さ・豊かさを享受できるデジタル社会の推進』における取り組み",
        "取組1-2 誰一人取り残されない、みんなにやさしい行政の推進",
    ) in paths
    chapters = [p[0] for p in paths if p]
    for n in range(1, 6):
        assert any(c.startswith(f"第{n}章") for c in chapters)
    # The front matter has an empty heading path: it must not reach p[-1] (that made this test
    # fail about once in a hundred runs, whenever set order put it before a 図表 heading).
    assert any(p[-1].startswith("図表：") for p in paths if p)


def test_national_strategies_one_section_each(converted: list[Path]) -> None:
    doc = next(load_document(p) for p in converted if p.stem == "national_strategies")
    second_level = {s.heading_path[1] for s in doc.sections if len(s.heading_path) > 1}
    for name in ("デジタル社会形成基本法", "デジタル田園都市国家構想基本方針", "大阪スマートシティ戦略"):
        assert name in second_level


def test_glossary_terms_are_sections(converted: list[Path]) -> None:
    doc = next(load_document(p) for p in converted if p.stem == "glossary")
    leaves = {s.heading_path[-1] for s in doc.sections if s.heading_path}
    assert any(leaf.startswith("EBPM") for leaf in leaves)
    assert "ガバメントクラウド" in leaves


def test_html_and_toc_dots_removed(converted: list[Path]) -> None:
    text = "".join(p.read_text(encoding="utf-8") for p in converted)
    assert "<p>" not in text and "<ul" not in text
    assert "....." not in text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("I C Tを活用", "ICTを活用"),
        ("A I - O C R、R P A", "AI-OCR、RPA"),
        ("S a a S", "SaaS"),
        ("Evidence Based Policy Making", "Evidence Based Policy Making"),
        ("Infrastructure as a Service", "Infrastructure as a Service"),
    ],
)
def test_join_spaced_letters(raw: str, expected: str) -> None:
    assert join_spaced_letters(raw) == expected


def test_clean_inline_drops_layout_spaces_and_tags() -> None:
    assert clean_inline("<p>平成 25 年 3 月に I C T の</p>") == "平成25年3月にICTの"


def test_foreign_letters_inside_japanese_words_are_detected() -> None:
    assert foreign_letters_in_words("デジタルデバйд対策を進めます") == ["デジタルデバйд対策を進めます"]
    assert (
        foreign_letters_in_words("AI活用とICT基盤、Δ値") == []
    )  # Latin is fine; Greek alone is not in a word


def test_reviewed_corrections_apply_and_no_foreign_letters_remain(converted: list[Path]) -> None:
    corrections = load_corrections(DEFAULT_CORRECTIONS)
    assert corrections, "corpus/corrections.tsv is empty or missing"
    source = DEFAULT_SOURCE.read_text(encoding="utf-8")
    for fix in corrections:
        assert fix.original in source, f"stale correction (not in the source any more): {fix.original}"
        assert fix.reason, f"correction without a reason: {fix.original}"
    for path in converted:
        text = path.read_text(encoding="utf-8")
        assert not foreign_letters_in_words(text), path.name
        assert not any(fix.original in text for fix in corrections), path.name


def test_a_middle_dot_inside_brackets_or_between_letters_is_not_a_bullet() -> None:
    from indexer.cleaning import html_cell_to_lines

    cell = "<p>「自治体の A I ・ R P A の利用推進」が重点。また、A I ・ R P A を導入 ・ 研修 ・ 点検</p>"
    assert html_cell_to_lines(cell) == [
        "「自治体のAI・RPAの利用推進」が重点。また、AI・RPAを導入",
        "・ 研修",
        "・ 点検",
    ]


def test_ticks_under_a_two_row_header_are_named_by_their_column() -> None:
    # The plan's 関連計画一覧 (5.3): 「対応する視点」 spans four columns numbered ①-④ on the next
    # row, and each plan ticks some of them with ○. A bare 「○、○」 said nothing.
    rows = [
        "計画等の名称\t\t概要説明\t対応する視点\t\t\t",
        "\t\t\t①\t②\t③\t④",
        "情報スキル向上計画\t\t職員に求められる情報スキルを定義\t\t\t\t○",
        "枚方市情報セキュリティポリシー\t\t情報資産の保護\t\t○\t○\t",
        "システム管理者実施手順書\t\t各システムの運用手順\t\t\t\t",
        "試行中の計画\t\t説明\t\t検討中\t\t",
    ]
    paras, _ = render_table(rows)
    assert [p.lines for p in paras] == [
        ["計画等の名称 ／ 概要説明 ／ 対応する視点（① ② ③ ④）"],
        ["計画等の名称: 情報スキル向上計画、概要説明: 職員に求められる情報スキルを定義、対応する視点（④）"],
        ["計画等の名称: 枚方市情報セキュリティポリシー、概要説明: 情報資産の保護、対応する視点（②、③）"],
        ["計画等の名称: システム管理者実施手順書、概要説明: 各システムの運用手順"],
        ["計画等の名称: 試行中の計画、概要説明: 説明、対応する視点 ②: 検討中"],  # not a tick: kept
    ]


def test_a_one_row_header_keeps_its_rows_as_they_were() -> None:
    paras, _ = render_table(["名称\t件数", "\t12", "窓口\t3"])
    assert [p.lines for p in paras] == [["名称 ／ 件数"], ["件数: 12"], ["名称: 窓口、件数: 3"]]


@pytest.mark.parametrize(
    "second_row",
    [
        "\t3\t5",  # numbers under their years: a data row with a merged first cell
        "\tあり\tなし",  # short words, but under columns named on the first row
    ],
)
def test_a_data_row_after_the_header_is_not_a_second_header(second_row: str) -> None:
    paras, _ = render_table(["区分\t2022年度\t2023年度", second_row])
    assert len(paras) == 2 and paras[1].lines[0].startswith("2022年度: ")
