"""Era years (和暦) and Western years (西暦): parsing, canonical tokens, the display helper."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.era import (
    check_year_range,
    era_forms,
    find_years,
    parse_year_range,
    with_western,
    year_tokens,
    years_covered,
    years_in,
)
from kb.errors import InvalidQueryError
from kb.text import normalize


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("令和6年度から4年間", ["2024年度", "令和6年度"]),
        ("2024年度から始まる取り組み", ["2024年度", "令和6年度"]),
        ("2016年に策定", ["2016年", "平成28年"]),
        ("平成 28 年 3 月、", ["2016年", "平成28年"]),  # the PDF text's spaces
        ("昭和58年度", ["1983年度", "昭和58年度"]),
        ("令和元年 6 月には", ["2019年", "平成31年", "令和元年"]),
        ("平成31年", ["2019年", "平成31年", "令和元年"]),
        ("令和1年度", ["2019年度", "平成31年度", "令和元年度"]),
        ("平成元年", ["1989年", "昭和64年", "平成元年"]),
        ("1989年度", ["1989年度", "平成元年度"]),
        ("平成二十八年", ["2016年", "平成28年"]),
        ("平成35年度", ["2023年度", "令和5年度", "平成35年度"]),  # a future year in an old plan
    ],
)
def test_year_tokens_both_forms(text: str, expected: list[str]) -> None:
    assert year_tokens(text) == expected


def test_full_width_digits_and_letters_fold_through_normalize() -> None:
    assert normalize("令和６年度") == "令和6年度"
    assert year_tokens("令和６年度") == year_tokens("令和6年度") == ["2024年度", "令和6年度"]
    assert year_tokens("２０２４年度") == ["2024年度", "令和6年度"]
    assert year_tokens("Ｒ６年度") == ["2024年度", "令和6年度"]


def test_fiscal_and_calendar_years_stay_distinct() -> None:
    assert year_tokens("令和6年") == ["2024年", "令和6年"]
    assert year_tokens("令和6年度") == ["2024年度", "令和6年度"]
    assert not set(year_tokens("令和6年")) & set(year_tokens("2024年度"))


@pytest.mark.parametrize("text", ["R6年度", "r6年度", "R6年"])
def test_abbreviated_era_with_year_word(text: str) -> None:
    assert years_in(text) == {2024}
    assert year_tokens(text)[1].startswith("令和6年")


def test_abbreviations_need_year_word_and_stand_alone() -> None:
    assert year_tokens("H28年度") == ["2016年度", "平成28年度"]
    assert year_tokens("R元年度") == ["2019年度", "平成31年度", "令和元年度"]
    assert year_tokens("R6の資料") == []  # a bare R6 may be a label
    assert year_tokens("PHS5年") == []  # a letter inside a word is not an era
    assert year_tokens("windows10年") == []


@pytest.mark.parametrize(
    "text",
    [
        "6年間の計画",
        "第2次枚方市情報化計画",
        "1990年代",
        "p.2024",
        "資料 12 ページ",
        "3か年",
        "令和の時代",
        "100年",
    ],
)
def test_non_years_are_not_taken(text: str) -> None:
    assert year_tokens(text) == []
    assert years_in(text) == set()


def test_years_in_mixed_text() -> None:
    text = "平成 25 年 3 月に条例を施行し、2024年度からは令和7年度末までに移行する。6年間"
    assert years_in(text) == {2013, 2024, 2025}
    assert [m.year for m in find_years(text)] == [2013, 2024, 2025]


def test_find_years_offsets_point_at_the_mention() -> None:
    text = "計画は令和6年度に始まる"
    (mention,) = find_years(text)
    assert text[mention.start : mention.end] == "令和6年度"
    assert (mention.year, mention.fiscal, mention.era) == (2024, True, "令和")


def test_with_western() -> None:
    assert with_western("令和6年度に開始") == "令和6年度（2024年度）に開始"
    assert with_western("平成 28 年 3 月") == "平成 28 年（2016年） 3 月"
    assert with_western("令和元年と2016年") == "令和元年（2019年）と2016年"  # Western years untouched
    assert with_western("令和6年（2024年）") == "令和6年（2024年）"  # already glossed
    assert with_western("6年間") == "6年間"


YEARS = st.integers(min_value=1989, max_value=2040)


@given(YEARS, st.booleans())
def test_era_western_round_trip(year: int, fiscal: bool) -> None:
    suffix = "年度" if fiscal else "年"
    forms = era_forms(year, fiscal)
    assert forms, year
    western_tokens = year_tokens(f"{year}{suffix}")
    assert western_tokens == [f"{year}{suffix}", *forms]
    for form in forms:
        assert years_in(form) == {year}
        assert year_tokens(form) == western_tokens


def test_round_trip_every_year() -> None:
    for year in range(1989, 2041):
        for fiscal in (False, True):
            for form in era_forms(year, fiscal):
                assert years_in(form) == {year}
                assert year_tokens(form)[0] == f"{year}{'年度' if fiscal else '年'}"


def test_transition_years_have_both_eras() -> None:
    assert era_forms(2019) == ["平成31年", "令和元年"]
    assert era_forms(2019, fiscal=True) == ["平成31年度", "令和元年度"]
    assert era_forms(2020) == ["令和2年"]
    assert era_forms(2018) == ["平成30年"]
    assert era_forms(1900) == []


_PIECES = st.sampled_from(
    [
        "令和6年度",
        "平成 28 年",
        "R6年度",
        "２０２４年",
        "6年間",
        "第2次",
        "から",
        "、",
        " ",
        "令和元年",
        "（2019年）",
    ]
)


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_with_western_is_idempotent(text: str) -> None:
    once = with_western(text)
    assert with_western(once) == once
    assert years_in(once) == years_in(text)


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_tokens_are_stable(text: str) -> None:
    tokens = year_tokens(text)
    assert year_tokens(normalize(text)) == tokens
    # The tokens are years themselves: reading them again gives the same set.
    assert set(year_tokens(" ".join(tokens))) == set(tokens)


@given(st.text(max_size=100))
def test_never_raises_and_years_are_plausible(text: str) -> None:
    assert all(1900 <= y <= 2117 for y in years_in(text))
    year_tokens(text)
    with_western(text)


# -- periods (the year filter) and typed year ranges ---------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("第3期（令和6年度から4年間）", {2024, 2025, 2026, 2027}),  # the plan's wording
        ("令和6年度からの4年間の取り組み", {2024, 2025, 2026, 2027}),
        ("平成28年度からの12年間における計画", set(range(2016, 2028))),
        ("計画期間：令和3年1月～令和8年3月", set(range(2021, 2027))),
        ("令和7年度から令和11年度までの五年間", set(range(2025, 2030))),
        ("令和6年度～令和9年度", {2024, 2025, 2026, 2027}),
        ("令和6～9年度", {2024, 2025, 2026, 2027}),
        ("2024年〜2027年", {2024, 2025, 2026, 2027}),
        ("2024～2027年度", {2024, 2025, 2026, 2027}),
        ("令和6年度（2024年度）から4年間", {2024, 2025, 2026, 2027}),  # after with_western
        ("平成27年度からオープンデータを公開", {2015}),  # open-ended: only the first year
        ("令和6年度から、3年間", {2024}),  # a comma ends the period
        ("令和9年度～令和6年度", {2024, 2027}),  # backwards: two years, not a period
        ("令和6年度に開始", {2024}),  # 年度 counts as the year it starts in, not also 2025
        ("6年間の計画", set()),
    ],
)
def test_years_covered_spans_periods(text: str, expected: set[int]) -> None:
    assert years_covered(text) == expected


@given(st.lists(_PIECES, max_size=8).map("".join))
def test_years_covered_includes_every_mention(text: str) -> None:
    assert years_in(text) <= years_covered(text)
    assert years_covered(with_western(text)) == years_covered(text)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2024", (2024, 2024)),
        ("2024年度", (2024, 2024)),
        ("2024-2027", (2024, 2027)),
        ("２０２４－２０２７", (2024, 2027)),
        (" 2024 〜 2027 ", (2024, 2027)),
        ("R6", (2024, 2024)),
        ("r6", (2024, 2024)),
        ("令和6", (2024, 2024)),
        ("令和6年度", (2024, 2024)),
        ("令和元年", (2019, 2019)),
        ("H28", (2016, 2016)),
        ("R6-R9", (2024, 2027)),
        ("令和6～9", (2024, 2027)),
        ("令和6年度から令和9年度まで", (2024, 2027)),
        ("H30-R2", (2018, 2020)),
    ],
)
def test_parse_year_range(typed: str, expected: tuple[int, int]) -> None:
    assert parse_year_range(typed) == expected


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", ("読み取れません", "cannot read")),
        ("abc", ("読み取れません", "cannot read")),
        ("6", ("読み取れません", "cannot read")),  # a bare number needs an era
        ("令和0", ("読み取れません", "cannot read")),
        ("2024-", ("読み取れません", "cannot read")),
        ("2024-2027-2028", ("読み取れません", "cannot read")),
        ("から" * 50_000, ("読み取れません", "から…")),  # long input: refused at once, echoed short
        ("窓口\udcff\x00", ("「窓口\ufffd\ufffd」", "「窓口\ufffd\ufffd」")),  # nothing unprintable echoed
        ("2027-2024", ("逆です", "reversed")),
        ("R9-R6", ("逆です", "reversed")),
        ("1800", ("1900〜2099", "between 1900 and 2099")),
        ("2024-2100", ("1900〜2099", "between 1900 and 2099")),
    ],
)
def test_parse_year_range_refuses_with_a_bilingual_message(typed: str, words: tuple[str, str]) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        parse_year_range(typed)
    ja, en = words
    assert ja in caught.value.ja and en in caught.value.en


@given(st.text(max_size=30))
def test_parse_year_range_gives_a_range_or_our_error(typed: str) -> None:
    try:
        start, end = parse_year_range(typed)
    except InvalidQueryError:
        return
    assert 1900 <= start <= end <= 2099


@pytest.mark.parametrize(
    "bad", [2024, "2024-2027", (2024,), (2024, 2025, 2026), (2024.0, 2025), (True, 2025)]
)
def test_check_year_range_wants_a_pair_of_ints(bad: object) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        check_year_range(bad)
    assert "整数" in caught.value.ja and "pair of whole Western years" in caught.value.en
