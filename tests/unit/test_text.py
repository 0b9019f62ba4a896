"""Japanese normalisation and tokenisation, with fixed expectations on real sentences."""

from __future__ import annotations

import threading

from hypothesis import given
from hypothesis import strategies as st

from kb.text import char_bigrams, morphemes, normalize, sentence_spans, word_tokens


def test_nfkc_folds_width_and_case() -> None:
    assert normalize("ＯＲＤＥＮ　ｶﾞｲﾄﾞ\t１２３") == "orden ガイド 123"


@given(st.text(max_size=200))
def test_normalize_is_idempotent(text: str) -> None:
    assert normalize(normalize(text)) == normalize(text)


def test_word_tokens_fixed_sentence() -> None:
    tokens = word_tokens("マイナンバーカードを用いた保険資格確認")
    assert tokens == [
        "マイ",
        "ナンバー",
        "カード",
        "マイナンバーカード",
        "用いる",
        "保険",
        "資格",
        "確認",
        "保険資格確認",
    ]


def test_acronyms_survive() -> None:
    assert "orden" in word_tokens("大阪広域データ連携基盤（ＯＲＤＥＮ）")
    tokens = word_tokens("AI-OCRやRPAを導入")
    assert {"ai-ocr", "rpa", "ai", "ocr"} <= set(tokens)


def test_question_words_are_dropped() -> None:
    tokens = word_tokens("EBPMとは何ですか？教えてください")
    assert tokens == ["ebpm"]


def test_char_bigrams() -> None:
    assert char_bigrams("窓口 DX") == ["窓口", "口d", "dx"]


def test_sentence_spans_slice_back() -> None:
    text = "第一文です。第二文！\n箇条書き\n最後"
    spans = sentence_spans(text)
    assert [text[a:b].strip() for a, b in spans] == ["第一文です。", "第二文！", "箇条書き", "最後"]
    assert [text[a:b] for a, b in spans] == sorted(
        {text[a:b] for a, b in spans}, key=text.index
    )  # no overlaps


def test_morphemes_from_several_threads_match_one_thread() -> None:
    # The app answers users from a thread pool and MeCab's tagger is shared: without the lock
    # in kb.text, parses in other threads overwrote words still being read (about 1 in 200).
    texts = [
        "書かない窓口はいつから始まりますか",
        "マイナンバーカードの普及率を教えてください",
        "情報セキュリティポリシーの見直しについて",
        "RPAとAI-OCRの導入効果はどのくらいですか",
    ]
    expected = {t: morphemes(t) for t in texts}
    wrong: list[str] = []

    def parse(offset: int) -> None:
        for n in range(1000):
            text = texts[(offset + n) % len(texts)]
            if morphemes(text) != expected[text]:
                wrong.append(text)

    threads = [threading.Thread(target=parse, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert wrong == []
