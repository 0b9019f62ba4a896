"""Expected questions (kb/expected_questions.py): reading the file, and where each question lands."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.chunk import Chunk
from kb.config import PROJECT_ROOT
from kb.corpus import load_corpus
from kb.errors import CorpusError
from kb.expected_questions import (
    QuestionMatch,
    load_expected_questions,
    parse_expected_questions,
    stand_in_units,
)
from kb.text import find_normalized, normalize

FILE = """# comment
キャッシュレス決済端末を導入\t窓口でカード払いできる？\t現金を持たずに住民票を取れる？

施設予約システムの提供開始\t体育館の予約はネットでできる？
キャッシュレス決済端末を導入\t窓口でカード払いできる？\tスマホ決済は使える？
ＩＣＴの利活用を、まちづくり\t市はITをどう使うつもり？
"""


def _chunk(chunk_id: str, text: str) -> Chunk:
    return Chunk(chunk_id, "plan", "計画", "plan", ("第1章",), 0, len(text), text)


def test_parse_merges_normalises_and_skips_comments() -> None:
    table = parse_expected_questions(FILE)
    assert dict(table.entries) == {
        "キャッシュレス決済端末を導入": (
            "窓口でカード払いできる?",
            "現金を持たずに住民票を取れる?",
            "スマホ決済は使える?",
        ),
        "施設予約システムの提供開始": ("体育館の予約はネットでできる?",),
        "ictの利活用を、まちづくり": ("市はitをどう使うつもり?",),  # NFKC + lower case
    }
    assert len(table) == 3 and table.question_count == 5 and table.digest
    assert parse_expected_questions("# only a comment\n").digest == ""


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("施設予約システムの提供開始\n", 1),  # no question
        ("# c\n予約\t体育館の予約は？\n", 2),  # anchor too short to place
        ("施設予約システムの提供開始\t" + "あ" * 81 + "\n", 1),  # question too long
        ("あ" * 61 + "\t体育館の予約は？\n", 1),  # anchor too long
    ],
)
def test_a_bad_line_is_named(text: str, line: int) -> None:
    with pytest.raises(CorpusError) as caught:
        parse_expected_questions(text, "expected_questions.tsv")
    assert f"{line} 行目" in caught.value.ja and f"line {line}" in caught.value.en


def test_questions_land_on_the_chunks_holding_their_anchor() -> None:
    table = parse_expected_questions(FILE)
    first = _chunk("c1", "支払い窓口においてキャッシュレス決済端末を導入し、\n多様な支払方法を選べます。")
    second = _chunk("c2", "本市は、ＩＣＴの利活用を、まちづくりの基盤と位置付けます。")
    neither = _chunk("c3", "証明書自動発行機を導入しました。")
    units = table.units([first, second, neither])
    assert [(u.chunk.chunk_id, u.question) for u in units] == [
        ("c1", "窓口でカード払いできる?"),
        ("c1", "現金を持たずに住民票を取れる?"),
        ("c1", "スマホ決済は使える?"),
        ("c2", "市はitをどう使うつもり?"),
    ]
    # The anchor's offsets are in the chunk's own text, whatever normalisation changed.
    assert first.text[units[0].start : units[0].end] == "キャッシュレス決済端末を導入"
    assert second.text[units[3].start : units[3].end] == "ＩＣＴの利活用を、まちづくり"
    # Ids are stable and distinct; the keyword text gets each question once.
    assert len({u.unit_id for u in units}) == 4 and units[0].unit_id.startswith("c1:q:")
    assert table.questions_of(table.anchors_in(first.text)) == [
        "窓口でカード払いできる?",
        "現金を持たずに住民票を取れる?",
        "スマホ決済は使える?",
    ]
    held = [table.anchors_in(c.text) for c in (first, second, neither)]
    assert table.unused_anchors(held) == ["施設予約システムの提供開始"]


def test_find_normalized_maps_back_to_the_original_text() -> None:
    text = "本市は　ＩＣＴの利活用を\n 進めます。"
    assert find_normalized(text, normalize("ＩＣＴの利活用を 進め")) == (4, 16)
    assert find_normalized(text, "存在しない") is None
    assert find_normalized(text, "") is None


def test_missing_unreadable_and_huge_files(tmp_path: Path) -> None:
    assert len(load_expected_questions(tmp_path / "none.tsv")) == 0
    assert len(load_expected_questions(None)) == 0
    bad = tmp_path / "bad.tsv"
    bad.write_bytes("施設予約システムの提供開始\t予約できる？".encode("cp932"))
    with pytest.raises(CorpusError, match="UTF-8"):
        load_expected_questions(bad)
    huge = tmp_path / "huge.tsv"
    huge.write_bytes(b"#" * (5 * 1024 * 1024 + 1))
    with pytest.raises(CorpusError, match="too large"):
        load_expected_questions(huge)


def test_the_packaged_file_anchors_every_question_in_the_corpus() -> None:
    """Every anchor is in some document: one that is not would silently do nothing."""
    table = load_expected_questions(PROJECT_ROOT / "corpus" / "expected_questions.tsv")
    documents, _ = load_corpus(PROJECT_ROOT / "corpus")
    corpus = "\n".join(normalize(d.text) for d in documents)
    absent = [anchor for anchor, _ in table.entries if anchor not in corpus]
    assert table.question_count >= 1000 and absent == []


def test_the_setting_names_a_file_in_the_corpus_or_anywhere_or_none(tmp_path: Path) -> None:
    from kb.config import load_settings
    from kb.errors import ConfigError

    default = load_settings(env={})
    assert default.expected_questions_path == default.corpus_dir / "expected_questions.tsv"
    assert load_settings(env={"KB_EXPECTED_QUESTIONS_FILE": ""}).expected_questions_path is None
    elsewhere = tmp_path / "mine.tsv"
    assert (
        load_settings(env={"KB_EXPECTED_QUESTIONS_FILE": str(elsewhere)}).expected_questions_path == elsewhere
    )
    with pytest.raises(ConfigError, match="question_weight"):
        load_settings(env={"KB_QUESTION_WEIGHT": "1.5"})


def test_the_search_page_shows_the_similar_question_and_marks_its_answer() -> None:
    from kb.app.html import search_results_html
    from kb.retrieve import Hit

    chunk = _chunk("c1", "支払い窓口においてキャッシュレス決済端末を導入しました。")
    match = QuestionMatch("窓口で<カード>払いできる?", 0.95, 9, 23)
    page = search_results_html("カード払い", [Hit(1, 0.5, chunk, similar_question=match)], "hybrid")
    assert "想定質問 / similar question: 窓口で&lt;カード&gt;払いできる?" in page
    assert "<mark>キャッシュレス決済端末を導入</mark>" in page
    assert Hit(1, 0.5, chunk, similar_question=match).to_dict()["similar_question"] == {
        "question": "窓口で<カード>払いできる?",
        "cosine": 0.95,
        "anchor": [9, 23],
    }
    assert "similar question" not in search_results_html("窓口", [Hit(1, 0.5, chunk)], "hybrid")


def test_a_chunk_without_questions_gets_its_sentences_as_stand_ins() -> None:
    chunk = _chunk("c9", "ORDEN は府内のデータ連携基盤です。\n自治体がデータをつなぎます。")
    units = stand_in_units([chunk], min_chars=8)
    assert [u.question for u in units] == [
        "ORDEN は府内のデータ連携基盤です。",
        "自治体がデータをつなぎます。",
    ]
    assert all(u.stand_in and chunk.text[u.start : u.end] == u.question for u in units)
    assert [u.unit_id for u in units] == ["c9:s:0:20", "c9:s:21:35"]
