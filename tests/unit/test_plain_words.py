"""The everyday-words thesaurus (kb/plain_words.py): reading it, and what it adds to a chunk."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT
from kb.corpus import load_corpus
from kb.errors import CorpusError
from kb.plain_words import keyword_text, load_plain_words, parse_plain_words
from kb.text import normalize

TABLE = """# comment
施設予約システム\t体育館の予約\tネットで施設予約
証明書自動発行機\t住民票を機械で出す\t証明書の発行機

ＩＣＴ\tＩＴ\t情報技術
施設予約システム\t体育館の予約\tテニスコートの予約
"""


def test_parse_merges_normalises_and_skips_comments() -> None:
    table = parse_plain_words(TABLE)
    assert dict(table.entries) == {
        "施設予約システム": ("体育館の予約", "ネットで施設予約", "テニスコートの予約"),
        "証明書自動発行機": ("住民票を機械で出す", "証明書の発行機"),
        "ict": ("it", "情報技術"),  # NFKC + lower case, as the keyword index reads text
    }
    assert len(table) == 3 and table.digest
    assert parse_plain_words("# only a comment\n").digest == ""


@pytest.mark.parametrize(
    ("text", "line"),
    [("施設予約システム\n", 1), ("# c\n語\t\t\n", 2), ("語\t" + "あ" * 41 + "\n", 1)],
)
def test_a_bad_line_is_named(text: str, line: int) -> None:
    with pytest.raises(CorpusError) as caught:
        parse_plain_words(text, "plain_words.tsv")
    assert f"{line} 行目" in caught.value.ja and f"line {line}" in caught.value.en


def test_aliases_of_the_terms_a_text_holds() -> None:
    table = parse_plain_words(TABLE)
    text = "市ホームページの開設、施設予約システムの提供開始、ICT の活用"
    assert table.aliases_in(text) == [
        "体育館の予約",
        "ネットで施設予約",
        "テニスコートの予約",
        "it",
        "情報技術",
    ]
    assert table.aliases_in("証明書のコンビニ交付") == []
    assert keyword_text("本文", ["体育館の予約"]) == "本文\n体育館の予約"
    assert keyword_text("本文", []) == "本文"


def test_matches_what_the_query_says() -> None:
    table = parse_plain_words(TABLE)
    found = table.matches("体育館の予約ってネットでできる？")
    assert [(m.alias, m.term) for m in found] == [("体育館の予約", "施設予約システム")]
    # All of an alias's words, in another order or form, count too.
    assert [m.term for m in table.matches("住民票を出せる機械はある？")] == ["証明書自動発行機"]
    # A query that names the term itself needs no alias; nor does one that shares a word only.
    assert table.matches("施設予約システムで体育館の予約はできる？") == []
    assert table.matches("予約は何日前から？") == []
    # ``within``: only terms the given passage holds.
    assert table.matches("体育館の予約", within="証明書自動発行機を導入") == []


def test_missing_unreadable_and_huge_files(tmp_path: Path) -> None:
    assert len(load_plain_words(tmp_path / "none.tsv")) == 0
    assert len(load_plain_words(None)) == 0
    bad = tmp_path / "bad.tsv"
    bad.write_bytes("施設\t予約".encode("cp932"))
    with pytest.raises(CorpusError, match="UTF-8"):
        load_plain_words(bad)
    huge = tmp_path / "huge.tsv"
    huge.write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    with pytest.raises(CorpusError, match="too large"):
        load_plain_words(huge)


def test_the_packaged_thesaurus_names_only_terms_the_corpus_has() -> None:
    """Every term is in some document: a term that is not would silently do nothing."""
    table = load_plain_words(PROJECT_ROOT / "corpus" / "plain_words.tsv")
    documents, _ = load_corpus(PROJECT_ROOT / "corpus")
    corpus = "\n".join(normalize(d.text) for d in documents)
    absent = [term for term, _ in table.entries if term not in corpus]
    assert len(table) >= 500 and absent == []


def test_a_one_word_alias_must_be_typed_as_written() -> None:
    """「いつまでの計画」 is the single index word 計画: matched word by word it would claim every
    question that says 計画."""
    table = parse_plain_words("計画期間\tいつまでの計画\n")
    assert table.matches("計画の目的は？") == []
    assert [m.term for m in table.matches("これはいつまでの計画ですか")] == ["計画期間"]


def test_the_setting_names_a_file_in_the_corpus_or_anywhere_or_none(tmp_path: Path) -> None:
    from kb.config import load_settings

    default = load_settings(env={})
    assert default.plain_words_path == default.corpus_dir / "plain_words.tsv"
    assert load_settings(env={"KB_PLAIN_WORDS_FILE": ""}).plain_words_path is None
    elsewhere = tmp_path / "mine.tsv"
    assert load_settings(env={"KB_PLAIN_WORDS_FILE": str(elsewhere)}).plain_words_path == elsewhere


def test_the_search_page_says_which_everyday_word_stood_for_which_term() -> None:
    from kb.app.html import search_results_html
    from kb.chunk import Chunk
    from kb.plain_words import PlainWordMatch
    from kb.retrieve import Hit

    chunk = Chunk("c1", "plan", "計画", "plan", ("第1章",), 0, 14, "施設予約システムの提供を開始しました。")
    said = (PlainWordMatch("体育館の<予約>", "施設予約システム"),)
    page = search_results_html("体育館の<予約>", [Hit(1, 0.5, chunk, plain_words=said)], "hybrid")
    assert "体育館の&lt;予約&gt; → 施設予約システム" in page and "matched as" in page
    assert "<mark>施設予約システム</mark>" in page  # the plan's term is marked in the passage
    assert "matched as" not in search_results_html("施設", [Hit(1, 0.5, chunk)], "hybrid")


def test_frequent_noun_phrases_without_an_entry_are_listed_most_first() -> None:
    from kb.plain_words import noun_phrases, uncovered_terms

    assert noun_phrases("電子申請システムを導入し、効果的に令和6年度から運用します") == {"電子申請システム"}
    table = parse_plain_words("施設予約システム\t体育館の予約\n")
    texts = [
        "電子申請システムを導入しました。",
        "電子申請システムと施設予約システムを提供します。",
        "施設予約の画面とキャッシュレス決済を改善しました。",
    ]
    # 施設予約 is inside a term, so it is covered; the others are listed by passages holding them.
    assert uncovered_terms(texts, table) == [("電子申請システム", 2), ("キャッシュレス決済", 1)]
    assert uncovered_terms(texts, table, top=1) == [("電子申請システム", 2)]
