"""Tables of the extracted text (tab-separated rows) as readable paragraphs: labelled rows
(「設定の背景: …」), a header row's names carried into each row (「用語: 説明」), merged cells filled
down, marks under a two-row header named by their column (「対応する視点（②、③）」 for ○ under ②
and ③), and glossary rows as terms."""

from __future__ import annotations

import re

from indexer.cleaning import clean_inline, html_cell_to_lines
from indexer.document import Para

_LABELS = (
    "設定の背景",
    "施策の方向性",
    "期待する効果",
    "関連する法令・制度・指針等",
    "主な実施施策【所管部署】",
    "成果",
    "課題",
    "趣旨",
    "概要",
)


#: Cells that only tick a column (○ under 「対応する視点 ②」): the column's name says what they mean.
_MARKS = frozenset("○〇◎●✓✔")
_NUMBER = re.compile(r"[0-9０-９,.，．%％]+")


def _sub_header(parts: list[str], header: list[str]) -> dict[int, tuple[str, str]]:
    """The columns a second header row names under a spanning first-row name, as
    {column: (group, sub-label)}; {} when ``parts`` is not such a row.

    「対応する視点」 over four columns, then a row 「① ② ③ ④」 under it: each column is
    (対応する視点, ①) …. The row has short labels only, none in the first column and none a
    plain number, and some of them stand where the first row has no name of its own (a name
    spans them): otherwise it is a data row whose first cell was merged (「\t3\t5」)."""
    filled = [i for i, p in enumerate(parts) if p]
    if (
        len(filled) < 2
        or filled[0] == 0
        or any(len(parts[i]) > 6 or _NUMBER.fullmatch(parts[i]) for i in filled)
    ):
        return {}
    if all(i < len(header) and header[i] for i in filled):
        return {}
    out: dict[int, tuple[str, str]] = {}
    for i in filled:
        group = next((header[j] for j in range(min(i, len(header) - 1), -1, -1) if header[j]), "")
        if not group:
            return {}
        out[i] = (group, parts[i])
    return out


def _row_pairs(parts: list[str], header: list[str], subs: dict[int, tuple[str, str]]) -> list[str]:
    """「列名: 値」 for each filled cell; ticks under sub-labelled columns are gathered as
    「group（label、label）」 where the group's first ticked column is."""
    pairs: list[str] = []
    ticked: dict[str, tuple[int, list[str]]] = {}  # group -> (its place in pairs, ticked labels)
    for i, p in enumerate(parts):
        if not p:
            continue
        if i in subs:
            group, label = subs[i]
            if p in _MARKS:
                if group not in ticked:
                    ticked[group] = (len(pairs), [])
                    pairs.append("")  # filled below, once all its ticks are known
                ticked[group][1].append(label)
            else:
                pairs.append(f"{group} {label}: {p}")
        elif i < len(header) and header[i]:
            pairs.append(f"{header[i]}: {p}")
        else:
            pairs.append(p)
    # 「対応する視点（②、③）」, not 「対応する視点: ② ③」: a circled number after a space starts a
    # list item for the sentence splitter (kb/text.py), which would cut the labels off the row.
    for group, (place, labels) in ticked.items():
        pairs[place] = f"{group}（{'、'.join(labels)}）"
    return pairs


def cell_lines(cell: str) -> list[str]:
    return html_cell_to_lines(cell) if "<" in cell else ([clean_inline(cell)] if cell.strip() else [])


def render_table(rows: list[str]) -> tuple[list[Para], list[tuple[str, list[str]]]]:
    """Render tab rows as readable lines.

    Returns plain paragraphs, plus ``(term, lines)`` pairs for glossary tables (header
    用語/説明/掲載ページ), which become one section per term.
    """
    cells = [row.split("\t") for row in rows]
    paras: list[Para] = []
    terms: list[tuple[str, list[str]]] = []
    header: list[str] | None = None
    subs: dict[int, tuple[str, str]] = {}
    after_header = False
    previous_first = ""
    for raw in cells:
        parts = [" ".join(cell_lines(c)) for c in raw]
        non_empty = [p for p in parts if p]
        if not non_empty:
            continue
        if parts[0] == "用語" and len(parts) >= 2 and parts[1] == "説明":
            header = ["用語", "説明", "掲載ページ"]
            continue
        if header and header[0] == "用語":
            term, desc = parts[0], " ".join(cell_lines(raw[1])) if len(raw) > 1 else ""
            pages = parts[2] if len(parts) > 2 else ""
            lines = [f"{term}: {desc}" if desc else term]
            if pages:
                lines.append(f"掲載ページ: {pages}")
            terms.append((term, lines))
            continue
        label = clean_inline(raw[0]).replace(" ", "")
        if len(raw) >= 2 and label in _LABELS and len(non_empty) >= 1:
            value_lines = [line for c in raw[1:] for line in cell_lines(c)]
            if value_lines:
                first, *rest = value_lines
                paras.append(Para([f"{label}: {first}", *rest], figure_like=True))
            else:
                paras.append(Para([label], figure_like=True))
            continue
        is_header_like = (
            header is None
            and len(non_empty) >= 2
            and all(len(p) <= 20 and "。" not in p for p in non_empty)
            and not any(p.isdigit() for p in non_empty)
        )
        if is_header_like:
            header = parts
            after_header = True
            paras.append(Para([" ／ ".join(non_empty)], figure_like=True))  # the column names, once
            continue
        if header is not None and after_header and (found := _sub_header(parts, header)):
            subs, after_header = found, False
            labels = " ".join(label for _, label in found.values())
            paras[-1] = Para([f"{paras[-1].lines[0]}（{labels}）"], figure_like=True)
            continue
        after_header = False
        if header is not None and len(non_empty) >= 1:
            # Merged cells come out as an empty first cell: fill down from the row above.
            if not parts[0] and previous_first:
                parts[0] = previous_first
            previous_first = parts[0]
            paras.append(Para(["、".join(_row_pairs(parts, header, subs))], figure_like=True))
        else:
            paras.append(Para([" ／ ".join(non_empty)], figure_like=True))
    return paras, terms
