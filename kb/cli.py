"""The ``kb`` command: thin wrappers that call one library function each.

Library errors (KBError) become a bilingual message on stderr and exit code 2; bad
arguments exit 2 via argparse; success exits 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from kb.config import Settings, load_settings
from kb.errors import KBError

if TYPE_CHECKING:
    from kb.chunk import Chunk
    from kb.corpus import Document


class _Bar:
    """A tqdm progress bar on stderr driven by (stage, fraction) callbacks."""

    def __init__(self, enabled: bool) -> None:
        self._bar: Any = None
        self._stage = ""
        self._enabled = enabled

    def __call__(self, stage: str, fraction: float) -> None:
        if not self._enabled:
            return
        from tqdm import tqdm

        if self._bar is None:
            self._bar = tqdm(
                total=100, file=sys.stderr, bar_format="{desc} {bar} {percentage:3.0f}% {elapsed}"
            )
        if stage != self._stage:
            self._stage = stage
            self._bar.set_description_str(stage)
        self._bar.n = int(max(0.0, min(1.0, fraction)) * 100)
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _settings(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    if getattr(args, "index_dir", None):
        settings = settings.replace(index_dir=args.index_dir)
    return settings


def cmd_index(args: argparse.Namespace) -> int:
    from indexer.build import build_index

    bar = _Bar(not args.quiet)
    try:
        report = build_index(_settings(args), progress=bar, rebuild=args.rebuild)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        if report.unchanged:  # nothing was embedded: the counts of this run's work would all be 0
            print(
                f"変更なし / up to date: {report.documents} documents, {report.chunks} chunks, "
                f"{report.seconds} s -> {report.index_dir}"
            )
        else:
            print(
                f"更新しました / built: {report.documents} documents, {report.chunks} chunks "
                f"+ {report.sentences} sentences + {report.expected_questions} expected questions "
                f"({report.stand_in_questions} stand-in sentences) "
                f"(vectors embedded {report.embedded}, reused {report.reused}), "
                f"mean {report.mean_chunk_chars} chars, {report.seconds} s -> {report.index_dir}"
            )
    for skipped in report.skipped_files:
        print(f"警告 / warning: skipped {skipped}", file=sys.stderr)
    if report.plain_words_unused:
        unused = report.plain_words_unused
        listed = "、".join(unused[:10]) + (" …" if len(unused) > 10 else "")
        print(
            f"警告: 言い換え辞書の {len(unused)} 語はどの文書にもありません（効果なし） / warning: "
            f"{len(unused)} thesaurus terms occur in no document (they do nothing): {listed}",
            file=sys.stderr,
        )
    if report.documents_without_questions:
        names = "、".join(report.documents_without_questions)
        print(
            f"注意: 想定質問のない文書があります: {names}。日常の言葉での質問には見つかりにくくなります"
            "（`kb expected-questions` で一覧） / note: documents without expected questions: "
            f"{names}; questions in everyday words find them less well (see `kb expected-questions`)",
            file=sys.stderr,
        )
    if report.expected_unused:
        unused = report.expected_unused
        listed = "、".join(f"「{a}」" for a in unused[:5]) + (" …" if len(unused) > 5 else "")
        print(
            f"警告: 想定質問の抜き書き {len(unused)} 件がどの文書にもありません（効果なし） / warning: "
            f"{len(unused)} expected-question anchors occur in no document (they do nothing): {listed}",
            file=sys.stderr,
        )
    return 0


def _open(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from kb.knowledge import KnowledgeBase

    kb = KnowledgeBase.open(_settings(args))
    if kb.is_stale():
        print(
            "注意: コーパスが索引後に変更されています（`kb index` で更新） / note: corpus changed since indexing (run `kb index`)",
            file=sys.stderr,
        )
    return kb


def _years(args: argparse.Namespace) -> tuple[int, int] | None:
    """``--year`` as an inclusive range of Western years (InvalidQueryError when unreadable)."""
    from kb.era import parse_year_range

    return parse_year_range(args.year) if args.year is not None else None


def cmd_search(args: argparse.Namespace) -> int:
    from kb.query import validate_k, validate_query
    from kb.retrieve import Filters

    # Checked before opening the index: kb.search would read k=0 as "the default", and a chapter
    # that is not text (a lone surrogate from a mis-encoded argument) would reach Chroma.
    k = validate_k(args.k)
    chapter = validate_query(args.chapter, 500, ("章の名前", "chapter name")) if args.chapter else None
    filters = Filters(kinds=tuple(args.kind or ()), chapter=chapter, years=_years(args))
    kb = _open(args)
    hits = kb.search(args.query, mode=args.mode, k=k, filters=filters)
    if args.json:
        print(json.dumps([h.to_dict() for h in hits], ensure_ascii=False, indent=2))
        return 0
    if not hits:
        print("該当する箇所は見つかりませんでした / no matching passages")
    for h in hits:
        page = f"（p. {h.page}）" if h.page is not None else ""  # as citations show it
        print(f"[{h.rank}] {h.score:.4f}  {h.location}{page}")
        if h.plain_words:
            print("    言い換え / matched as: " + "、".join(map(str, h.plain_words)))
        if h.similar_question:
            print(f"    想定質問 / similar question: {h.similar_question.question}")
        print("    " + h.text.replace("\n", "\n    "))
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    kb = _open(args)
    stats = asdict(kb.stats())
    if args.json:
        print(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        for key, value in stats.items():
            print(f"{key}: {value}")
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    from kb.answer import Answerer
    from kb.retrieve import Filters

    years = _years(args)
    kb = _open(args)
    filters = Filters(years=years) if years is not None else None
    answer = Answerer.from_settings(kb, kb.settings).answer(args.question, filters=filters)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(answer.to_text())
    return 0


def _corpus_for_check(args: argparse.Namespace) -> tuple[Settings, list[Document], list[Chunk]]:
    """Settings, documents and chunks as `kb index` would cut them, for the corpus-table checks
    (`kb plain-words`, `kb expected-questions`); ``--top`` outside 1..1000 is an input error."""
    from kb.chunk import chunk_documents
    from kb.corpus import load_corpus
    from kb.errors import InvalidQueryError

    if not 1 <= args.top <= 1000:
        raise InvalidQueryError(
            "--top は 1〜1000 で指定してください", f"--top must be between 1 and 1000 (got {args.top})"
        )
    settings = _settings(args)
    documents, _ = load_corpus(settings.corpus_dir)
    chunks = chunk_documents(
        documents, settings.chunk_target_chars, settings.chunk_max_chars, settings.chunk_overlap_chars
    )
    return settings, documents, chunks


def cmd_plain_words(args: argparse.Namespace) -> int:
    from kb.plain_words import load_plain_words, uncovered_terms

    settings, _, chunks = _corpus_for_check(args)
    table = load_plain_words(settings.plain_words_path)
    # Terms are looked for where the index looks (body and heading path); new words only in
    # bodies, since every heading path repeats its parents' words.
    unused = table.unused_terms(table.terms_in(c.term_text) for c in chunks)
    uncovered = uncovered_terms([c.text for c in chunks], table, args.top)
    path = settings.plain_words_path
    if args.json:
        report = {
            "file": str(path) if path else None,
            "terms": len(table),
            "aliases": table.alias_count,
            "unused_terms": unused,
            "uncovered": [{"phrase": p, "passages": n} for p, n in uncovered],
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(f"言い換え辞書 / thesaurus: {path or '-'} ({len(table)} terms, {table.alias_count} aliases)")
    print(f"どの文書にもない語 / terms no passage holds: {'、'.join(unused) or '-'}")
    print("言い換えのない頻出語（区画数） / frequent noun phrases without an entry (passages):")
    for phrase, n in uncovered:
        print(f"  {phrase}\t{n}")
    return 0


def cmd_expected_questions(args: argparse.Namespace) -> int:
    from kb.expected_questions import load_expected_questions

    settings, documents, chunks = _corpus_for_check(args)
    path = settings.expected_questions_path
    table = load_expected_questions(path)
    held = [table.anchors_in(c.text) for c in chunks]
    unused = table.unused_anchors(held)
    # Passages without questions rank below those with them on questions in everyday words
    # (kb/expected_questions.py): listed per document, in document order, where to write next.
    bare = [c for c, anchors in zip(chunks, held, strict=True) if not anchors]
    per_document = {
        d.doc_id: (sum(c.doc_id == d.doc_id for c in bare), sum(c.doc_id == d.doc_id for c in chunks))
        for d in documents
    }
    if args.json:
        report = {
            "file": str(path) if path else None,
            "anchors": len(table),
            "questions": table.question_count,
            "unused_anchors": unused,
            "documents": {doc: {"without": n, "passages": m} for doc, (n, m) in per_document.items()},
            "passages_without": [
                {"chunk_id": c.chunk_id, "location": c.location, "text": c.text[:80]}
                for c in bare[: args.top]
            ],
        }
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    print(
        f"想定質問 / expected questions: {path or '-'} ({len(table)} anchors, {table.question_count} questions)"
    )
    print(
        f"どの文書にもない抜き書き / anchors no passage holds: {'、'.join(f'「{a}」' for a in unused) or '-'}"
    )
    print("想定質問のない区画 / passages without questions (per document):")
    for doc, (n, m) in per_document.items():
        print(f"  {doc}\t{n} / {m}")
    for c in bare[: args.top]:
        print(f"  - {c.location}: {c.text[:40].replace(chr(10), ' ')}")
    return 0


def cmd_feedback_export(args: argparse.Namespace) -> int:
    from kb.feedback import FeedbackStore

    settings = _settings(args)
    count = FeedbackStore.from_settings(settings).export_questions(args.out, only_negative=not args.all)
    print(f"{count} 件を書き出しました / exported {count} questions -> {args.out}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from kb.ingest import add_document

    bar = _Bar(not args.quiet)
    try:
        report = add_document(args.path, _settings(args), kind=args.kind, title=args.title, progress=bar)
    finally:
        bar.close()
    if args.json:
        print(json.dumps(asdict(report), ensure_ascii=False, indent=2))
    else:
        pages = f", {report.pages} p." if report.pages is not None else ""
        print(
            f"追加しました / added: {report.path} 「{report.title}」 ({report.kind}{pages}, "
            f"{report.characters} chars, {report.headings} headings, {report.tables} tables)"
        )
        if report.dropped_lines:
            dropped = " | ".join(report.dropped_lines)
            print(f"ヘッダー・フッターとして除いた行 / dropped as page header/footer: {dropped}")
        if report.build is not None:
            print(
                f"索引を更新しました / index updated: {report.build.documents} documents, {report.build.chunks} chunks "
                f"(embedded {report.build.embedded}, reused {report.build.reused}) -> {report.build.index_dir}"
            )
    for warning in report.warnings:
        print(f"警告 / warning: {warning}", file=sys.stderr)
    return 0


YEAR_HELP = (
    "only passages naming a year in this range, 和暦 included / 年で絞り込み: "
    "2024, 2024-2027, R6, 令和6, R6-R9 (a fiscal year counts as the year it starts)"
)


class _Parser(argparse.ArgumentParser):
    """argparse with its usage errors in both languages, Japanese first, like the library's (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(
            2,
            f"エラー: コマンドの引数が正しくありません（`{self.prog} -h` で使い方を表示）: {message}\n"
            f"error: {self.prog}: {message}\n",
        )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="kb", description="枚方市情報化計画ナレッジベース / Hirakata IT plan knowledge base"
    )
    parser.add_argument("--config", type=Path, help="settings TOML (default: $KB_CONFIG or ./kb.toml)")
    parser.add_argument("--index-dir", type=Path, help="index folder (overrides settings)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="build or update the index / 索引を作成・更新")
    p.add_argument("--rebuild", action="store_true", help="re-embed everything")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="search passages / 検索")
    p.add_argument("query")
    p.add_argument("--mode", choices=("keyword", "semantic", "hybrid"), default="hybrid")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--kind", action="append", choices=("plan", "glossary", "national_strategy", "other"))
    p.add_argument("--chapter", help="top-level heading, e.g. '第4章 期別取り組み（第3期）'")
    p.add_argument("--year", help=YEAR_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("stats", help="index statistics / 索引の統計")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("ask", help="answer with citations / 引用付きで回答")
    p.add_argument("question")
    p.add_argument("--year", help=YEAR_HELP)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser(
        "add",
        help="add a .pdf/.docx/.txt/.md to the corpus and re-index / 資料を追加して索引を更新",
        description="Converts the file to corpus/<name>.md (front matter, headings, tables, pages) and re-indexes.",
    )
    p.add_argument("path", type=Path)
    p.add_argument("--kind", choices=("plan", "glossary", "national_strategy", "other"), default="other")
    p.add_argument("--title", help="document title (default: the file's metadata title, else its name)")
    p.add_argument("--json", action="store_true")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser(
        "plain-words",
        help="check the everyday-words thesaurus / 言い換え辞書の点検",
        description="Terms of corpus/plain_words.tsv that no passage holds, and the corpus words "
        "found in the most passages that have no entry yet (where aliases are most worth adding).",
    )
    p.add_argument("--top", type=int, default=30, help="how many words without an entry to list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_plain_words)

    p = sub.add_parser(
        "expected-questions",
        help="check the expected questions / 想定質問の点検",
        description="Anchors of corpus/expected_questions.tsv that no passage holds, and the passages "
        "without questions (they rank below passages with questions on everyday-words queries).",
    )
    p.add_argument("--top", type=int, default=30, help="how many passages without questions to list")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_expected_questions)

    p = sub.add_parser(
        "feedback-export", help="export feedback as eval questions / フィードバックを評価用質問に書き出し"
    )
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--all", action="store_true", help="include 👍 answers too (default: only 👎)")
    p.set_defaults(func=cmd_feedback_export)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except KBError as exc:
        print(f"エラー: {exc.ja}\nerror: {exc.en}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path given that is a folder, unreadable, on a full disk...
        where = exc.filename if exc.filename is not None else ""
        print(
            f"エラー: ファイルを読み書きできません: {where}（{exc.strerror or exc}）\n"
            f"error: cannot read or write {where}: {exc.strerror or exc}",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("中断しました / interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
