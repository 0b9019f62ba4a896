"""HTML fragments for the app: every piece of user or corpus text is escaped here.

Text is escaped with :func:`esc` before any markup is added around it, so a question such as
``<script>alert(1)</script>`` or a corpus heading such as ``<本章の内容>`` shows as text. The
answer's own fragments (chat message links, per-answer source cards) are in ``kb.app.cards``.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from kb.corpus import Document
from kb.errors import KBError
from kb.text import normalized_with_map, query_terms

KIND_LABELS = {
    "plan": "計画本文",
    "glossary": "用語集",
    "national_strategy": "国の戦略",
    "other": "その他",
}
_BLANK_LINES = re.compile(r"\n[ \t\u3000]*(?:\n[ \t\u3000]*)+")
_MD_HEADING_LINE = re.compile(r"^(#{1,6})\s+(.*)$")
# A page marker of an added PDF (``<!-- page 12 -->``, kb/ingest/markdown.py) after escaping.
_PAGE_MARK = re.compile(r"^[ \t]*&lt;!-- page (\d+) --&gt;[ \t]*$", re.M)


def esc(text: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape("" if text is None else str(text), quote=True)


# --- highlighting -------------------------------------------------------------------------


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def mark_spans(text: str, spans: Sequence[tuple[int, int]], css_class: str = "") -> str:
    """Escape ``text`` and wrap the given (start, end) ranges in <mark>."""
    attr = f' class="{esc(css_class)}"' if css_class else ""
    pieces: list[str] = []
    pos = 0
    for start, end in _merge([(max(0, s), min(len(text), e)) for s, e in spans if e > s]):
        pieces.append(esc(text[pos:start]))
        pieces.append(f"<mark{attr}>{esc(text[start:end])}</mark>")
        pos = end
    pieces.append(esc(text[pos:]))
    return "".join(pieces)


def highlight_terms(text: str, terms: Sequence[str]) -> str:
    """Escape ``text`` and mark every occurrence of ``terms`` (matched after NFKC + lower-case)."""
    if not terms:
        return esc(text)
    norm, origin = normalized_with_map(text)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = unicodedata.normalize("NFKC", term).lower()
        if not needle:
            continue
        for m in re.finditer(re.escape(needle), norm):
            spans.append((origin[m.start()], origin[m.end() - 1] + 1))
    return mark_spans(text, spans)


def passage_div(escaped_html: str) -> str:
    """A pre-wrapped passage block; runs of blank lines (paragraph breaks) become a small gap."""
    body = _PAGE_MARK.sub(r'<span class="page-mark" data-page="\1">p. \1</span>', escaped_html.strip())
    body = _BLANK_LINES.sub('<span class="pgap"></span>', body)
    return f'<div class="passage">{body}</div>'


def passage_html(text: str) -> str:
    """Corpus text as a pre-wrapped block, Markdown heading lines shown as headings."""
    lines = []
    for line in text.split("\n"):
        m = _MD_HEADING_LINE.match(line)
        if m:
            lines.append(f'<span class="md-h md-h{len(m.group(1))}">{esc(m.group(2))}</span>')
        else:
            lines.append(esc(line))
    return passage_div("\n".join(lines))


# --- status and messages --------------------------------------------------------------------


def error_html(exc: KBError) -> str:
    """A bilingual error box (Japanese first)."""
    return (
        '<div class="kb-notice kb-error" role="alert">'
        f'<div class="ja">⚠️ {esc(exc.ja)}</div><div class="en">{esc(exc.en)}</div></div>'
    )


def notice_html(ja: str, en: str, kind: str = "info") -> str:
    return (
        f'<div class="kb-notice kb-{esc(kind)}" role="status"><div class="ja">{esc(ja)}</div>'
        f'<div class="en">{esc(en)}</div></div>'
    )


def progress_html(stage: str, fraction: float, note_ja: str = "", note_en: str = "") -> str:
    """A visible progress bar for index preparation."""
    pct = int(round(max(0.0, min(1.0, fraction)) * 100))
    note = f'<div class="ja">{esc(note_ja)}</div><div class="en">{esc(note_en)}</div>' if note_ja else ""
    return (
        f'<div class="kb-notice kb-progress" data-progress="{pct}">'
        f"<div>⏳ 索引を準備しています / preparing the index: <b>{esc(stage)}</b> {pct}%</div>"
        f'<progress max="100" value="{pct}">{pct}%</progress>{note}</div>'
    )


def ready_html(documents: int, chunks: int, built_at: str, note: str = "") -> str:
    extra = f' <span class="warn">{esc(note)}</span>' if note else ""
    return (
        '<div class="kb-ready" data-ready="true">✅ 準備完了 / ready — '
        f"{documents} 文書・{chunks} 区画（索引作成 {esc(built_at)}）{extra}</div>"
    )


# --- search ----------------------------------------------------------------------------------


def plain_words_html(matches: Sequence[Any]) -> str:
    """Everyday words of the query that stand for a term of this passage (kb/plain_words.py)."""
    if not matches:
        return ""
    pairs = "、".join(esc(str(m)) for m in matches)
    return f'<div class="searched plain-words">💬 言い換え / matched as: {pairs}</div>'


def similar_question_html(match: Any) -> str:
    """The passage's expected question closest to the query (kb/expected_questions.py)."""
    if match is None:
        return ""
    return (
        f'<div class="searched similar-question">❓ 想定質問 / similar question: {esc(match.question)}</div>'
    )


def _hit_html(h: Any, terms: Sequence[str]) -> str:
    kind = KIND_LABELS.get(h.kind, h.kind)
    weak = ' data-weak="true"' if getattr(h, "weak", False) else ""
    matches = getattr(h, "plain_words", ())
    similar = getattr(h, "similar_question", None)
    # The plan's term that the person said in other words is marked like a typed word, and so
    # are the words that answer the expected question the query resembles.
    terms = [*terms, *(m.term for m in matches)]
    if similar is not None and similar.end > similar.start:
        terms.append(h.text[similar.start : similar.end])
    return (
        f'<li class="hit" data-rank="{int(h.rank)}" data-chunk-id="{esc(h.chunk_id)}"{weak}>'
        f'<div class="hit-head"><span class="hit-rank">{int(h.rank)}</span> '
        f'<span class="hit-path">{esc(h.location)}</span>'
        f' <span class="badge">{esc(kind)}</span>'
        f' <span class="hit-score">score {float(h.score):.4f}</span></div>'
        f"{plain_words_html(matches)}{similar_question_html(similar)}"
        f"{passage_div(highlight_terms(h.text, terms))}</li>"
    )


def expansions_html(expansions: Sequence[Any]) -> str:
    """The synonyms searched for typed words the corpus lacks (kb/expand.py), one line."""
    pairs = "、".join(f"{esc(e.typed)} → {esc('・'.join(e.synonyms))}" for e in expansions)
    return (
        f'<div class="searched expansions">🔍 計画書にない語を言い換えて検索しました / '
        f"also searched as: {pairs}</div>"
    )


def search_results_html(query: str, hits: Sequence[Any], mode: str) -> str:
    """Ranked hits (kb.retrieve.Hit) with rank, section path, score and the query terms marked.

    Weak hits (found by meaning alone, below ``Settings.relevance_floor``) come after the strong
    ones, folded under 「関連が弱い結果」; when every hit is weak, the page first says that no
    clearly matching passage was found and shows them unfolded but faded.
    """
    if not hits:
        return notice_html(
            f"「{query}」に該当する箇所は見つかりませんでした。言葉を変えるか、絞り込みを外してください。",
            "No matching passages: try other words or remove the filters.",
        )
    terms = query_terms(query)
    strong = [h for h in hits if not getattr(h, "weak", False)]
    expansions = getattr(hits[0], "expansions", ())
    weak = [h for h in hits if getattr(h, "weak", False)]
    parts = []
    if strong:
        parts.append(
            f'<div class="hits-head">「{esc(query)}」の検索結果 {len(strong)} 件（{esc(mode)}） / '
            f"{len(strong)} results</div>"
            f'<ol class="hit-list">{"".join(_hit_html(h, terms) for h in strong)}</ol>'
        )
    else:
        parts.append(
            notice_html(
                f"「{query}」にはっきり一致する箇所は見つかりませんでした。"
                "意味の近い箇所を「関連が弱い結果」として示します。言葉を変えるか、絞り込みを外してください。",
                "No clearly matching passage was found; the nearest passages by meaning are shown below "
                "as weakly related. Try other words or remove the filters.",
                "warn",
            )
        )
    if expansions:
        # Synonyms were searched for words the plan never uses: show them, so a surprising hit
        # can be traced to the word that brought it.
        parts.insert(0, expansions_html(expansions))
    if weak:
        unfolded = "" if strong else " open"
        parts.append(
            f'<details class="weak-hits" data-count="{len(weak)}"{unfolded}>'
            f'<summary class="weak-head">関連が弱い結果 {len(weak)} 件 / weakly related ({len(weak)})</summary>'
            f'<ol class="hit-list">{"".join(_hit_html(h, terms) for h in weak)}</ol></details>'
        )
    return f'<div class="hits" data-strong="{len(strong)}" data-weak="{len(weak)}">{"".join(parts)}</div>'


# --- documents -------------------------------------------------------------------------------


def section_reader_html(doc: Document, heading_path: tuple[str, ...], text: str) -> str:
    """A heading path breadcrumb and the text under it."""
    crumbs = " › ".join(f"<span>{esc(p)}</span>" for p in (doc.title, *heading_path))
    return f'<div class="reader"><div class="crumbs">{crumbs}</div>{passage_html(text.strip(chr(10)))}</div>'


def documents_table_html(documents: Sequence[Document], chunk_counts: dict[str, int]) -> str:
    """Every document with its kind, issuer, source, date, date added and size (front matter where
    present; ``kb add`` writes source and added)."""
    if not documents:
        return ""
    rows = []
    for doc in documents:
        source = doc.source or doc.path.name
        pages = f"（{int(doc.pages)} p.）" if doc.pages else ""
        rows.append(
            f'<tr data-doc-id="{esc(doc.doc_id)}"><td class="doc-title">{esc(doc.title)}</td>'
            f'<td><span class="badge">{esc(KIND_LABELS.get(doc.kind, doc.kind))}</span></td>'
            f'<td>{esc(doc.issuer or "—")}</td><td class="doc-source">{esc(source)}{esc(pages)}</td>'
            f'<td>{esc(doc.date or "—")}</td><td class="doc-added">{esc(doc.added or "—")}</td>'
            f"<td>{int(chunk_counts.get(doc.doc_id, 0))}</td></tr>"
        )
    head = (
        "<tr><th>資料 / document</th><th>種類 / kind</th><th>発行 / issuer</th>"
        "<th>出典 / source</th><th>日付 / date</th><th>追加日 / added</th><th>区画 / passages</th></tr>"
    )
    return f'<div class="doc-list"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'
