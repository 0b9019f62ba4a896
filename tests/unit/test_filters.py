"""kb.retrieve.Filters: validation of its values and which chunks it lets through (no index)."""

from __future__ import annotations

import pytest

from kb.chunk import Chunk
from kb.errors import InvalidQueryError
from kb.retrieve import Filters, chunk_years


def chunk(text: str, heading_path: tuple[str, ...] = ("第1章 計画",), kind: str = "plan") -> Chunk:
    return Chunk("c1", "plan", "計画", kind, heading_path, 0, len(text), text)


def test_years_match_the_text_or_the_heading_path_in_either_form() -> None:
    era = chunk("市民窓口を令和6年度から整えます。")
    western = chunk("2016年3月に策定しました。")
    heading = chunk("窓口を整えます。", ("第4章 期別取り組み", "令和7年度の取り組み"))
    period = chunk("第3期（令和6年度から4年間）に取り組みます。")
    none = chunk("窓口を整えます。")
    assert chunk_years(heading) == {2025} and chunk_years(none) == frozenset()
    in_2024 = Filters(years=(2024, 2024))
    assert in_2024.allows(era) and not in_2024.allows(western) and not in_2024.allows(none)
    assert Filters(years=(2010, 2016)).allows(western)
    assert Filters(years=(2025, 2025)).allows(heading) and not in_2024.allows(heading)
    assert Filters(years=(2027, 2030)).allows(period)  # the period's last year
    assert not Filters(years=(2028, 2030)).allows(period)
    # The range is inclusive at both ends; years passed in are used instead of re-reading the text.
    assert Filters(years=(2020, 2024)).allows(era) and Filters(years=(2024, 2030)).allows(era)
    assert Filters(years=(2030, 2030)).allows(none, frozenset({2030}))


def test_years_combine_with_kind_and_chapter() -> None:
    glossary = chunk("令和6年度から。", ("用語集",), kind="glossary")
    assert not Filters(kinds=("plan",), years=(2024, 2024)).allows(glossary)
    assert Filters(kinds=("glossary",), chapter="用語集", years=(2024, 2024)).allows(glossary)
    assert not Filters(chapter="第1章 計画", years=(2024, 2024)).allows(glossary)
    assert Filters().is_empty and not Filters(years=(2024, 2024)).is_empty
    # Chroma never sees the years (it cannot filter on them): they are applied after the query.
    assert Filters(years=(2024, 2027)).chroma_where() is None
    assert Filters(kinds=("plan",), years=(2024, 2027)).chroma_where() == {"kind": {"$in": ["plan"]}}


@pytest.mark.parametrize(
    ("years", "words"),
    [
        ((2027, 2024), ("逆です", "reversed")),
        ((1800, 2024), ("1900〜2099", "between 1900 and 2099")),
        ((2024, 2100), ("1900〜2099", "between 1900 and 2099")),
        ((2024.0, 2025), ("整数", "whole Western years")),
        (("2024", "2025"), ("整数", "whole Western years")),
        ((True, 2025), ("整数", "whole Western years")),
        ([2024, 2025], ("整数", "whole Western years")),
        ((2024,), ("整数", "whole Western years")),
        (2024, ("整数", "whole Western years")),
    ],
)
def test_bad_years_are_refused_with_a_clear_message(years: object, words: tuple[str, str]) -> None:
    with pytest.raises(InvalidQueryError) as caught:
        Filters(years=years)  # type: ignore[arg-type]
    ja, en = words
    assert ja in caught.value.ja and en in caught.value.en
