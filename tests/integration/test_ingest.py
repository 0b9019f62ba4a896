"""`kb add`: a real Japanese PDF (and .txt / .md / .docx) in, cited passages with pages out.

The PDF is generated at test time with matplotlib's PDF backend and the IPA Gothic font
(TrueType embedded, ``pdf.fonttype: 42``): three A4 pages with a running header and a page
number on each, headings in the plan's styles, letters spaced out (``I C T``), a ruled table and
a paragraph that continues over a page break. The corpus is a small copy in tmp_path (the
repo's corpus/ is never touched) and its index is built once per module.
"""

from __future__ import annotations

import glob
import json
import re
import unicodedata
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import pytest

from kb.config import PROJECT_ROOT, Settings, load_settings
from kb.corpus import load_document
from kb.errors import IngestError
from kb.manifest import builds_dir, load_chunks, read_current

HEADER = "テスト市デジタル推進計画（令和7年度版）"
TITLE = "テスト市デジタル推進計画"
# (kind, text): h = heading, p = a line of body text, t = a table row (cells split by tabs).
PAGES: list[list[tuple[str, str]]] = [
    [
        ("h", "第1章 計画の策定にあたって"),
        ("h", "1.1 計画の目的"),
        ("p", "本計画は、テスト市における行政手続のオンライン化と窓口サービスの改善を"),
        ("p", "一体的に進めるための基本的な方針を定めるものです。"),
        ("p", "市民がいつでもどこでも手続を行える環境を整え、職員の事務負担を軽減します。"),
        ("h", "(1) 基本方針"),
        ("p", "I C T を活用して、誰一人取り残さない地域社会の実現を目指します。"),
        ("p", "特に高齢者や障害のある方に配慮したデジタル支援窓口を各支所に設置します。"),
        ("h", "＜重点取組＞"),
        ("p", "電子申請システムの対象手続を令和8年度までに三百件へ拡大します。"),
        ("p", "あわせて、A I - O C R による紙の申請書の読み取りを本庁舎で試行し、"),
    ],
    [
        ("p", "入力作業にかかる時間を半分に削減することを目標とします。"),
        ("h", "1.2 計画の期間"),
        ("p", "計画期間は令和7年度から令和11年度までの五年間とします。"),
        ("p", "社会情勢や技術の変化に応じて、必要な見直しを毎年度行います。"),
        ("t", "取組名\t所管部署\t目標年度"),
        ("t", "電子申請の拡充\tデジタル推進課\t令和8年度"),
        ("t", "窓口キャッシュレス化\t市民課\t令和9年度"),
        ("t", "庁内ペーパーレス化\t総務課\t令和10年度"),
        ("p", "上記の取組は、進捗状況を年に二回、市のホームページで公表します。"),
    ],
    [
        ("h", "第2章 推進体制"),
        ("h", "2.1 庁内の推進体制"),
        ("p", "最高情報責任者である副市長を本部長とするデジタル推進本部を設置します。"),
        ("p", "各部局にはデジタル推進リーダーを配置し、業務改革の取組を支援します。"),
        ("p", "外部の専門人材を登用し、情報セキュリティ対策の点検を毎年実施します。"),
    ],
]
PAGE3_SENTENCE = "最高情報責任者である副市長を本部長とするデジタル推進本部を設置します。"


def find_font() -> str | None:
    """IPA Gothic from Debian's fonts-ipafont-gothic (scripts/install-browser.sh installs it)."""
    for pattern in ("**/ipag.ttf", "**/*ipa*gothic*.ttf", "**/fonts-japanese-gothic.ttf"):
        found = sorted(glob.glob(f"/usr/share/fonts/{pattern}", recursive=True))
        if found:
            return found[0]
    return None


FONT = find_font()
needs_font = pytest.mark.skipif(
    FONT is None, reason="IPA Gothic not installed (apt-get install fonts-ipafont-gothic)"
)


def make_pdf(path: Path, pages: list[list[tuple[str, str]]] = PAGES, header: str | None = HEADER) -> str:
    """Write a Japanese PDF (TrueType embedded); return its body text as drawn."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.font_manager import FontProperties
    from matplotlib.lines import Line2D

    body = FontProperties(fname=FONT, size=11)
    small = FontProperties(fname=FONT, size=9)
    drawn: list[str] = []
    with matplotlib.rc_context({"pdf.fonttype": 42}), PdfPages(path) as pdf:
        for number, items in enumerate(pages, start=1):
            fig = plt.figure(figsize=(8.27, 11.69))  # A4
            if header:
                fig.text(0.5, 0.96, header, fontproperties=small, ha="center")
                fig.text(0.5, 0.03, f"- {number} -", fontproperties=small, ha="center")
            y = 0.90
            for kind, text in items:
                if kind == "t":
                    xs = [0.10, 0.40, 0.65, 0.88]  # column rules
                    for x, cell in zip(xs, text.split("\t"), strict=False):
                        fig.text(x + 0.01, y, cell, fontproperties=body)
                    for rule_y in (y - 0.008, y + 0.022):
                        fig.add_artist(Line2D([xs[0], xs[-1]], [rule_y, rule_y], color="black", lw=0.8))
                    for x in xs:
                        fig.add_artist(Line2D([x, x], [y - 0.008, y + 0.022], color="black", lw=0.8))
                    y -= 0.03
                else:
                    fig.text(0.10, y, text, fontproperties=body)
                    y -= 0.035 if kind == "h" else 0.028
                drawn.append(text)
            pdf.savefig(fig)
            plt.close(fig)
    return "\n".join(drawn)


def make_image_pdf(path: Path) -> None:
    """A 'scanned' PDF: two pages that are pictures only, no text layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.backends.backend_pdf import PdfPages

    rng = np.random.default_rng(0)
    with PdfPages(path) as pdf:
        for _ in range(2):
            fig = plt.figure(figsize=(8.27, 11.69))
            fig.figimage(rng.random((200, 150)), xo=50, yo=50)
            pdf.savefig(fig)
            plt.close(fig)


def make_encrypted_pdf(path: Path) -> None:
    """A minimal PDF encrypted with the standard security handler and a user password
    (the empty password does not open it)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>",
        b"<< /Length 8 >>\nstream\n(secret)\nendstream",
        b"<< /Filter /Standard /V 1 /R 2 /O <" + b"11" * 32 + b"> /U <" + b"22" * 32 + b"> /P -44 >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Encrypt 5 0 R /ID [<{'ab' * 16}> <{'ab' * 16}>] >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    path.write_bytes(bytes(out))


def norm(text: str) -> str:
    """NFKC, Markdown syntax and page markers out, no whitespace: what 'the same text' means."""
    text = re.sub(r"<!--.*?-->", "", text)
    text = re.sub(r"^#{1,6}\s+", "", text, flags=re.M)
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def recovered(known: str, got: str) -> float:
    """Share of the known characters found in order in the converted text."""
    a, b = norm(known), norm(got)
    matched = sum(m.size for m in SequenceMatcher(None, a, b, autojunk=False).get_matching_blocks())
    return matched / len(a)


# --- conversion alone (no index) -----------------------------------------------------------------


@needs_font
def test_pdf_text_headings_table_headers_and_pages(tmp_path: Path) -> None:
    from kb.ingest import convert_file

    pdf = tmp_path / "plan.pdf"
    known = make_pdf(pdf)
    extracted, body, headings, tables = convert_file(pdf)

    assert recovered(known, body) >= 0.98, body
    assert extracted.page_count == 3 and tables == 1 and headings == 7
    # Running header and page numbers are gone, and reported.
    assert HEADER not in body and not re.search(r"^-\s*\d\s*-$", body, re.M)
    assert extracted.dropped == [HEADER, "- 1 -"]  # one example per kind of dropped line
    # The converter's clean-up: spaced-out letters joined, the table as readable rows.
    assert "ICTを活用して" in body and "AI-OCRによる" in body
    assert "取組名: 窓口キャッシュレス化、所管部署: 市民課、目標年度: 令和9年度" in body
    # The paragraph that continues over the page break stays whole; page 2's marker follows it.
    assert "本庁舎で試行し、入力作業にかかる時間" in body
    assert body.index("入力作業") < body.index("<!-- page 2 -->") < body.index("1.2 計画の期間")

    md = tmp_path / "plan.md"
    md.write_text("---\ntitle: t\n---\n" + body, encoding="utf-8")
    doc = load_document(md)
    paths = {s.heading_path for s in doc.sections}
    assert ("第1章 計画の策定にあたって", "1.1 計画の目的") in paths
    assert ("第1章 計画の策定にあたって", "1.1 計画の目的", "(1) 基本方針", "重点取組") in paths
    assert ("第2章 推進体制", "2.1 庁内の推進体制") in paths
    assert [page for _, page in doc.page_starts] == [1, 2, 3]
    assert doc.page_at(doc.text.index("一体的に進める")) == 1
    assert doc.page_at(doc.text.index("計画期間は令和7年度")) == 2
    assert doc.page_at(doc.text.index(PAGE3_SENTENCE)) == 3
    assert doc.page_at(0) is None  # the front matter is before page 1

    from kb.chunk import chunk_documents

    chunks = chunk_documents([doc])
    assert all("<!--" not in c.text for c in chunks)
    assert {c.page for c in chunks} == {1, 2, 3}
    assert next(c for c in chunks if PAGE3_SENTENCE in c.text).page == 3


def test_txt_headings_and_shift_jis(tmp_path: Path) -> None:
    from kb.ingest import convert_file

    txt = tmp_path / "memo.txt"
    txt.write_bytes(
        "第1章 概要\n1.1 目的\nI C T の活用を進めます。\n＜留意事項＞\n個人情報を保護します。\n".encode(
            "cp932"
        )
    )
    extracted, body, headings, _ = convert_file(txt)
    assert extracted.page_count is None and "<!-- page" not in body
    assert body.splitlines()[:3] == ["# 第1章 概要", "", "## 1.1 目的"]
    assert "ICTの活用を進めます。" in body and "### 留意事項" in body and headings == 3


# --- kb add into a small corpus, then kb ask -------------------------------------------------------


@dataclass
class Env:
    settings: Settings
    config: Path
    pdf: Path
    add_code: int
    add_out: str
    add_err: str


def _write_small_corpus(corpus: Path) -> None:
    """The first glossary sections of the real corpus (a small, real document)."""
    text = (PROJECT_ROOT / "corpus" / "glossary.md").read_text(encoding="utf-8")
    cut = text.index("\n## ", 3000) if "\n## " in text[3000:] else len(text)
    (corpus / "glossary.md").write_text(text[:cut] + "\n", encoding="utf-8")


def _state(settings: Settings) -> tuple[str | None, int, list[str]]:
    """CURRENT, the chunk count of that build, and the corpus files."""
    current = read_current(settings.index_dir)
    count = len(load_chunks(builds_dir(settings.index_dir) / current)) if current else -1
    return current, count, sorted(p.name for p in settings.corpus_dir.iterdir() if not p.name.startswith("."))


def run_cli(config: Path, *args: str) -> tuple[int, str, str]:
    """``kb --config CONFIG ARGS`` in this process (the model's weights stay in the OS cache)."""
    import contextlib
    import io

    from kb.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--config", str(config), *args])
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def embedder():  # type: ignore[no-untyped-def]
    from kb.embed import Embedder

    return Embedder(load_settings(env={}))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, embedder) -> Env:  # type: ignore[no-untyped-def]
    if FONT is None:
        pytest.skip("IPA Gothic not installed")
    from indexer.build import build_index

    root = tmp_path_factory.mktemp("ingest")
    corpus = root / "corpus"
    corpus.mkdir()
    _write_small_corpus(corpus)
    config = root / "kb.toml"
    config.write_text(f'corpus_dir = "{corpus}"\nindex_dir = "{root / "index"}"\n', encoding="utf-8")
    settings = load_settings(config, env={})
    build_index(settings, embedder=embedder)
    pdf = root / "テスト市計画.pdf"
    make_pdf(pdf)

    code, out, err = run_cli(config, "add", str(pdf), "--kind", "plan", "--title", TITLE, "--quiet")
    return Env(settings, config, pdf, code, out, err)


def test_kb_add_pdf_writes_corpus_file_with_front_matter(env: Env) -> None:
    assert env.add_code == 0, env.add_err
    assert "Traceback" not in env.add_err
    target = env.settings.corpus_dir / "テスト市計画.md"
    assert target.name in env.add_out and "3 p" in env.add_out
    doc = load_document(target)
    assert doc.title == TITLE and doc.kind == "plan" and doc.source == env.pdf.name
    assert doc.pages == 3 and re.fullmatch(r"\d{4}-\d{2}-\d{2}", doc.added)
    import hashlib

    assert doc.sha256 == hashlib.sha256(env.pdf.read_bytes()).hexdigest()
    chunks = load_chunks(builds_dir(env.settings.index_dir) / str(read_current(env.settings.index_dir)))
    mine = [c for c in chunks if c.doc_id == "テスト市計画"]
    assert mine and {c.page for c in mine} == {1, 2, 3}
    assert all(c.page is None for c in chunks if c.doc_id == "glossary")


def test_kb_ask_cites_the_added_pdf_with_its_page(env: Env) -> None:
    code, out, err = run_cli(env.config, "ask", "デジタル推進本部の本部長は誰ですか", "--json")
    assert code == 0, err
    answer = json.loads(out)
    cited = [c for c in answer["citations"] if c["doc_title"] == TITLE]
    assert cited, answer
    assert cited[0]["page"] == 3 and "副市長" in cited[0]["quote"]
    code, out, _ = run_cli(env.config, "ask", "デジタル推進本部の本部長は誰ですか")
    assert code == 0 and f"{TITLE} › 第2章 推進体制 › 2.1 庁内の推進体制（p. 3）" in out


def test_citation_card_and_documents_table_show_page_source_and_added(env: Env) -> None:
    from kb.app.cards import Card, card_html
    from kb.app.html import documents_table_html, passage_html
    from kb.chunk import chunk_documents

    doc = load_document(env.settings.corpus_dir / "テスト市計画.md")
    chunk = next(c for c in chunk_documents([doc]) if PAGE3_SENTENCE in c.text)
    html = card_html(Card((1,), chunk, (PAGE3_SENTENCE,)), turn=1)
    assert 'class="cite-page" data-page="3">p. 3<' in html
    table = documents_table_html([doc], {doc.doc_id: 5})
    assert env.pdf.name in table and doc.added in table and "（3 p.）" in table
    reader = passage_html(doc.text[doc.sections[-1].start - 40 :])
    assert "&lt;!--" not in reader


def test_search_output_and_langchain_documents_carry_the_page(env: Env) -> None:
    code, out, err = run_cli(
        env.config, "search", "デジタル推進本部の本部長", "--mode", "keyword", "--k", "3"
    )
    assert code == 0, err
    assert f"{TITLE} › 第2章 推進体制 › 2.1 庁内の推進体制（p. 3）" in out
    hit_lines = [line for line in out.splitlines() if line.startswith("[")]
    assert all("（p. " not in line for line in hit_lines if TITLE not in line)  # no page, no mark

    from kb.langchain import KnowledgeBaseRetriever

    retriever = KnowledgeBaseRetriever.from_index(settings=env.settings, mode="keyword", k=10)
    try:
        docs = retriever.invoke("計画")
        pdf_docs = [d for d in docs if d.metadata["doc_title"] == TITLE]
        others = [d for d in docs if d.metadata["doc_title"] != TITLE]
        assert pdf_docs and others
        for doc in pdf_docs:
            chunk = retriever.knowledge_base.chunk(doc.id)
            assert chunk is not None and doc.metadata["page"] == chunk.page in {1, 2, 3}
        assert all("page" not in d.metadata for d in others)
        (page3,) = retriever.invoke(PAGE3_SENTENCE, k=1)
        assert page3.metadata["page"] == 3
    finally:
        retriever.knowledge_base.close()


def _bad_files(tmp: Path, env: Env) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """name -> (file, words its message must contain)."""
    encrypted = tmp / "locked.pdf"
    make_encrypted_pdf(encrypted)
    scanned = tmp / "scan.pdf"
    make_image_pdf(scanned)
    corrupt = tmp / "broken.pdf"
    corrupt.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    garbage = tmp / "notes.docx"
    garbage.write_bytes(b"this is not a Word file")
    huge = tmp / "huge.pdf"
    with huge.open("wb") as f:  # sparse: 51 MB on paper, nothing on disk
        f.truncate(51 * 1024 * 1024)
    other = tmp / "budget.xlsx"
    other.write_bytes(b"PK\x03\x04")
    return {
        "encrypted": (encrypted, ("パスワード", "password-protected")),
        "image_only": (scanned, ("OCR", "no text layer", "OCR is needed")),
        "corrupt_pdf": (corrupt, ("壊れている", "corrupt")),
        "corrupt_docx": (garbage, ("壊れている", "corrupt")),
        "too_large": (huge, ("大きすぎます", "上限 50.0 MB", "too large", "limit 50.0 MB")),
        "unsupported": (other, ("対応していない形式", "unsupported file type .xlsx")),
        "duplicate": (env.pdf, ("追加済み", "already in the corpus", "テスト市計画.md")),
    }


@pytest.mark.parametrize(
    "case",
    ["encrypted", "image_only", "corrupt_pdf", "corrupt_docx", "too_large", "unsupported", "duplicate"],
)
def test_bad_files_give_a_clear_message_and_change_nothing(env: Env, tmp_path: Path, case: str) -> None:
    path, words = _bad_files(tmp_path, env)[case]
    before = _state(env.settings)
    code, out, err = run_cli(env.config, "add", str(path), "--quiet")
    assert code == 2, (out, err)
    assert "エラー" in err and "error:" in err and "Traceback" not in err
    for word in words:
        assert word in err, err
    assert _state(env.settings) == before


def test_the_size_limit_is_a_setting(env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KB_MAX_INGEST_MB (Settings.max_ingest_mb) is the limit kb add applies, not a constant."""
    notes = tmp_path / "議事録.txt"
    with notes.open("wb") as f:  # sparse: 1 MB on paper
        f.truncate(1024 * 1024)
    before = _state(env.settings)
    monkeypatch.setenv("KB_MAX_INGEST_MB", "0.5")
    code, out, err = run_cli(env.config, "add", str(notes), "--quiet")
    assert code == 2 and "上限 0.5 MB" in err and "limit 0.5 MB" in err, (out, err)
    assert _state(env.settings) == before


def test_add_txt_md_docx(env: Env, embedder, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    import docx

    from kb.ingest import add_document

    txt = tmp_path / "お知らせ.txt"
    txt.write_text(
        "第1章 窓口案内\n市役所の窓口は平日の午前八時四十五分から開いています。\n", encoding="utf-8"
    )
    md = tmp_path / "faq.md"
    md.write_text(
        "---\ntitle: よくある質問\n---\n# 住民票\n\n住民票の写しはコンビニでも取得できます。\n",
        encoding="utf-8",
    )
    word = tmp_path / "議事録.docx"
    document = docx.Document()
    document.add_heading("第3回 推進会議", level=1)
    document.add_paragraph("会議では、公衆無線LANの設置場所を十か所増やすことが了承されました。")
    table = document.add_table(rows=2, cols=2)
    for row, cells in zip(table.rows, [("施設", "台数"), ("市民会館", "4台")], strict=True):
        for cell, value in zip(row.cells, cells, strict=True):
            cell.text = value
    document.save(str(word))

    before = _state(env.settings)
    reports = [add_document(p, env.settings, kind="other", embedder=embedder) for p in (txt, md, word)]
    assert [r.doc_id for r in reports] == ["お知らせ", "faq", "議事録"]
    assert all(r.pages is None and r.build is not None for r in reports)
    after = _state(env.settings)
    assert after[0] != before[0] and after[1] > before[1]

    faq = load_document(env.settings.corpus_dir / "faq.md")
    assert faq.title == "よくある質問" and faq.source == "faq.md" and faq.text.count("---\n") == 2
    minutes = load_document(env.settings.corpus_dir / "議事録.md")
    assert ("第3回 推進会議",) in {s.heading_path for s in minutes.sections}
    assert "施設: 市民会館、台数: 4台" in minutes.text

    from kb.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(env.settings, embedder=embedder)
    try:
        hits = kb.search("公衆無線LANの設置場所", mode="hybrid", k=3)
        assert hits[0].doc_id == "議事録" and hits[0].chunk.page is None
    finally:
        close = getattr(kb, "close", None)
        if close:
            close()

    with pytest.raises(IngestError) as err:  # the same text file again
        add_document(txt, env.settings, embedder=embedder)
    assert "お知らせ.md" in err.value.en


def test_failed_reindex_removes_the_new_corpus_file(env: Env, tmp_path: Path) -> None:
    from kb.errors import KBError
    from kb.ingest import add_document

    txt = tmp_path / "later.txt"
    txt.write_text("第1章 予定\n来年度は庁内の無線LANを更新します。\n", encoding="utf-8")
    broken = env.settings.replace(embedding_model=str(tmp_path / "no-such-model"))
    before = _state(env.settings)
    with pytest.raises(KBError):
        add_document(txt, broken)
    assert _state(env.settings) == before


def test_wrapped_lines_join_and_headings_start_pages() -> None:
    from kb.ingest import _Extracted, _Line, to_markdown_body

    def line(text: str, x1: float) -> _Line:
        return _Line(text, x0=50, x1=x1)

    pages = [
        [
            line("利用者数は前年度と比べて大きく増加しており、窓口の混雑も", 500),
            line("2.5倍に増えました。", 200),
            line("この傾向は今後も続く見込みです。本市としては対応を急ぎま", 498),
        ],
        [line("1.2 今後の方針", 150), line("窓口の予約制を導入します。", 300)],
    ]
    body, headings, _ = to_markdown_body(_Extracted(pages, 2))
    assert "窓口の混雑も2.5倍に増えました。" in body  # a continuation, not a "2.5" heading
    assert headings == 1 and "\n## 1.2 今後の方針\n" in body  # a heading at the top of page 2
    assert body.index("対応を急ぎま") < body.index("<!-- page 2 -->") < body.index("## 1.2")


def test_a_document_without_expected_questions_is_flagged(tmp_path: Path) -> None:
    """When the corpus has expected questions, adding a document none of them is anchored in says
    so: its passages rank below those with questions on everyday-words queries."""
    from kb.ingest import add_document

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    _write_small_corpus(corpus)
    (corpus / "expected_questions.tsv").write_text(
        "公衆無線LANの設置場所\tWi-Fiが使える場所は増える？\n", encoding="utf-8"
    )
    settings = load_settings(env={}).replace(corpus_dir=corpus, index_dir=tmp_path / "index")
    plain = tmp_path / "予定.txt"
    plain.write_text("第1章 予定\n来年度は庁内の端末を更新します。\n", encoding="utf-8")
    flagged = add_document(plain, settings, reindex=False)
    assert any("想定質問がありません" in w and "no expected questions" in w for w in flagged.warnings)
    answered = tmp_path / "会議.txt"
    answered.write_text("第1章 会議\n公衆無線LANの設置場所を十か所増やします。\n", encoding="utf-8")
    assert not any("想定質問" in w for w in add_document(answered, settings, reindex=False).warnings)
