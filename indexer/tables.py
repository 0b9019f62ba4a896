"""Tables of the extracted text (tab-separated rows) as readable paragraphs: labelled rows
(「設定の背景: …」), a header row's names carried into each row (「用語: 説明」), merged cells filled
down, and glossary rows as terms."""

from __future__ import annotations

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
            paras.append(Para([" ／ ".join(non_empty)], figure_like=True))  # the column names, once
            continue
        if header is not None and len(non_empty) >= 1:
            # Merged cells come out as an empty first cell: fill down from the row above.
            if not parts[0] and previous_first:
                parts[0] = previous_first
            previous_first = parts[0]
            pairs = [
                f"{header[i]}: {p}" if i < len(header) and header[i] else p for i, p in enumerate(parts) if p
            ]
            paras.append(Para(["、".join(pairs)], figure_like=True))
        else:
            paras.append(Para([" ／ ".join(non_empty)], figure_like=True))
    return paras, terms
