"""Validate the retrieval evaluation question set (``eval/questions.jsonl``).

Run as::

    python -m eval.check_questions eval/questions.jsonl [--source PATH]

    python -m eval.check_questions eval/questions.jsonl --overlap   # also list colloquial overlaps

Prints every problem found and exits non-zero if there is at least one.  The format, the
relevance rule and the tag vocabulary are documented in ``eval/QUESTIONS.md``.

A ``colloquial`` question may share at most one content lemma (``kb.text.word_tokens``) with
the sentence(s) of the corpus holding its evidence; that check needs the project's tokenizer
(fugashi + unidic-lite), imported only when it runs (``--skip-overlap`` skips it).

``normalise_for_match`` is the single definition of the text normalisation used by the
relevance rule ("a passage is relevant if its normalised text contains the normalised
evidence span"); import it rather than re-implementing it.
"""

from __future__ import annotations

import argparse
import bisect
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
DEFAULT_SOURCE = PROJECT_ROOT / "corpus" / "source" / "hirakata_joho_kihon_keikaku_3ki.txt"
#: The cleaned Markdown corpus; the evidence sentence of a colloquial question is looked up here first.
DEFAULT_CORPUS_DIR = PROJECT_ROOT / "corpus"

#: An HTML tag such as ``<p>``, ``</p>``, ``<ul style="...">`` or ``<br/>``.  Only tags whose
#: name starts with an ASCII letter are removed, so the document's own angle-bracket headings
#: (``<本章の内容>``, ``＜本市の…について＞`` after NFKC) and autolinks (``<http://…>``) are kept.
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_WS_RE = re.compile(r"\s+")

KIND_TAGS = frozenset({"plan", "national_strategy", "glossary"})
TYPE_TAGS = frozenset(
    {"fact", "date", "number", "who", "definition", "paraphrase", "keyword", "table", "unanswerable"}
)
#: Focus tags (optional, any number): slices of the set that reports show on their own.
#: ``colloquial``: everyday wording, at most MAX_COLLOQUIAL_OVERLAP content lemma shared with the
#: evidence sentence; ``western_year``: the question uses a Western year where the evidence uses the
#: era (令和/平成/昭和); ``near_miss``: unanswerable, but on a topic the plan does mention;
#: ``session``: taken from a real user session.
FOCUS_TAGS = frozenset({"colloquial", "western_year", "near_miss", "session"})
ALLOWED_TAGS = KIND_TAGS | TYPE_TAGS | FOCUS_TAGS
MAX_COLLOQUIAL_OVERLAP = 1
#: Order used to pick the one "primary" type of a question (its stratum for the dev/test split).
PRIMARY_TYPE_ORDER = (
    "unanswerable",
    "keyword",
    "paraphrase",
    "definition",
    "who",
    "date",
    "number",
    "table",
    "fact",
)
SPLITS = frozenset({"dev", "test"})
REQUIRED_FIELDS: dict[str, type] = {
    "id": str,
    "question": str,
    "evidence": list,
    "answerable": bool,
    "tags": list,
    "split": str,
}
#: Optional provenance fields, e.g. ``"origin": "feedback"`` for questions taken from app feedback.
OPTIONAL_FIELDS: dict[str, type] = {"origin": str, "note": str}
ID_RE = re.compile(r"^q\d{3,}$")
MIN_SPAN_CHARS = 4
MAX_SPAN_CHARS = 60
MAX_SPANS = 3


_WESTERN_YEAR_RE = re.compile(r"((?:19|20)\d\d)年")
_ERA_RE = re.compile(r"令和|平成|昭和")
#: First Western year of each era (era year N = Western year - offset; 元年 is year 1).
_ERAS = (("令和", 2018), ("平成", 1988), ("昭和", 1925))


def era_forms(western_year: int) -> list[str]:
    """The era spellings of a Western year, normalised: 2024 -> ['令和6'], 2019 -> ['令和1', '令和元', '平成31']."""
    forms: list[str] = []
    for era, offset in _ERAS:
        n = western_year - offset
        if n < 1 or (era == "平成" and n > 31) or (era == "昭和" and n > 64):
            continue
        forms.append(f"{era}{n}")
        if n == 1:
            forms.append(f"{era}元")
    return forms


def normalise_for_match(text: str) -> str:
    """NFKC-normalise, remove HTML tags, then remove all whitespace."""
    text = unicodedata.normalize("NFKC", text)
    text = _TAG_RE.sub("", text)
    return _WS_RE.sub("", text)


def primary_type(tags: Iterable[str]) -> str | None:
    """The question's primary type tag (see ``PRIMARY_TYPE_ORDER``), or None if it has none."""
    present = set(tags)
    for tag in PRIMARY_TYPE_ORDER:
        if tag in present:
            return tag
    return None


def split_for_new_question(question_id: str, dev_share: float = 0.6) -> str:
    """Deterministic split for a question added later (existing splits are never reassigned)."""
    bucket = int(hashlib.sha256(question_id.encode("utf-8")).hexdigest(), 16) % 1000
    return "dev" if bucket < dev_share * 1000 else "test"


def load_questions(path: str | Path = DEFAULT_QUESTIONS) -> list[dict[str, Any]]:
    """Read the JSON Lines file; raises ValueError on a line that is not a JSON object."""
    items: list[dict[str, Any]] = []
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise ValueError(f"line {lineno}: not a JSON object")
            items.append(obj)
    return items


def _check_item(item: dict[str, Any], where: str, source_norm: str | None) -> list[str]:
    problems: list[str] = []
    for field, typ in REQUIRED_FIELDS.items():
        if field not in item:
            problems.append(f"{where}: missing field {field!r}")
        elif not isinstance(item[field], typ):
            problems.append(f"{where}: field {field!r} must be {typ.__name__}")
    if problems:
        return problems
    extra = set(item) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if extra:
        problems.append(f"{where}: unknown field(s) {sorted(extra)}")
    for field, typ in OPTIONAL_FIELDS.items():
        if field in item and not isinstance(item[field], typ):
            problems.append(f"{where}: field {field!r} must be {typ.__name__}")
    if not ID_RE.match(item["id"]):
        problems.append(f"{where}: id {item['id']!r} does not match q001-style pattern")
    if not item["question"].strip():
        problems.append(f"{where}: empty question")
    if item["split"] not in SPLITS:
        problems.append(f"{where}: split must be one of {sorted(SPLITS)}, got {item['split']!r}")

    tags = item["tags"]
    if not all(isinstance(t, str) for t in tags):
        problems.append(f"{where}: tags must be strings")
        return problems
    unknown = [t for t in tags if t not in ALLOWED_TAGS]
    if unknown:
        problems.append(f"{where}: unknown tag(s) {unknown}")
    if len(set(tags)) != len(tags):
        problems.append(f"{where}: duplicate tags")
    kinds = [t for t in tags if t in KIND_TAGS]
    if len(kinds) != 1:
        problems.append(f"{where}: needs exactly one kind tag from {sorted(KIND_TAGS)}, got {kinds}")
    if primary_type(tags) is None:
        problems.append(f"{where}: needs at least one type tag from {sorted(TYPE_TAGS)}")

    answerable = item["answerable"]
    evidence = item["evidence"]
    if "near_miss" in tags and answerable:
        problems.append(f"{where}: tag 'near_miss' is for unanswerable questions only")
    if "western_year" in tags:
        problems.extend(_check_western_year(item["question"], evidence, answerable, where))
    if answerable != ("unanswerable" not in tags):
        problems.append(f"{where}: tag 'unanswerable' must be present exactly when answerable is false")
    if answerable and not evidence:
        problems.append(f"{where}: answerable question without evidence")
    if not answerable and evidence:
        problems.append(f"{where}: unanswerable question must have empty evidence")
    if len(evidence) > MAX_SPANS:
        problems.append(f"{where}: at most {MAX_SPANS} evidence spans, got {len(evidence)}")
    seen_spans: set[str] = set()
    for k, span in enumerate(evidence):
        label = f"{where} evidence[{k}]"
        if not isinstance(span, str):
            problems.append(f"{label}: not a string")
            continue
        if "\t" in span or "\n" in span:
            problems.append(f"{label}: span crosses a table cell or line break")
        norm = normalise_for_match(span)
        if _TAG_RE.search(unicodedata.normalize("NFKC", span)):
            problems.append(f"{label}: span contains an HTML tag")
        if not MIN_SPAN_CHARS <= len(norm) <= MAX_SPAN_CHARS:
            problems.append(
                f"{label}: normalised length {len(norm)} outside {MIN_SPAN_CHARS}-{MAX_SPAN_CHARS}: {span!r}"
            )
        if norm in seen_spans:
            problems.append(f"{label}: duplicate span")
        seen_spans.add(norm)
        if source_norm is not None and norm not in source_norm:
            problems.append(f"{label}: not found in source after normalisation: {span!r}")
    return problems


def _check_western_year(question: str, evidence: list[Any], answerable: bool, where: str) -> list[str]:
    """A western_year question writes a Western year; an answerable one's evidence has it as an era year."""
    norm_q = normalise_for_match(question)
    years = [int(y) for y in _WESTERN_YEAR_RE.findall(norm_q)]
    if not years:
        return [f"{where}: tag 'western_year' but the question has no Western year (e.g. 2024年)"]
    if _ERA_RE.search(norm_q):
        return [f"{where}: tag 'western_year' but the question also uses an era name"]
    if not answerable:
        return []
    spans = normalise_for_match(" ".join(s for s in evidence if isinstance(s, str)))
    if not any(form in spans for y in years for form in era_forms(y)):
        wanted = sorted({f for y in years for f in era_forms(y)})
        return [f"{where}: tag 'western_year' but no evidence span writes the year as {wanted}"]
    return []


def check_items(items: Sequence[dict[str, Any]], source_text: str | None) -> list[str]:
    """All problems in already-parsed items (``source_text`` None skips the source lookup)."""
    source_norm = normalise_for_match(source_text) if source_text is not None else None
    problems: list[str] = []
    ids: Counter[str] = Counter()
    questions: Counter[str] = Counter()
    for n, item in enumerate(items, start=1):
        where = f"item {n} ({item.get('id', '?')})"
        problems.extend(_check_item(item, where, source_norm))
        if isinstance(item.get("id"), str):
            ids[item["id"]] += 1
        if isinstance(item.get("question"), str):
            questions[item["question"].strip()] += 1
    problems.extend(f"duplicate id {i!r} ({c} times)" for i, c in ids.items() if c > 1)
    problems.extend(f"duplicate question {q!r} ({c} times)" for q, c in questions.items() if c > 1)
    return problems


class SentenceIndex:
    """Sentences of one text (``kb.text.sentence_spans``) searchable by normalised evidence span."""

    def __init__(self, text: str) -> None:
        from kb.text import sentence_spans  # lazy: fugashi only when the check runs

        self.sentences = [text[a:b] for a, b in sentence_spans(text)]
        self.starts: list[int] = []
        parts: list[str] = []
        pos = 0
        for sentence in self.sentences:
            self.starts.append(pos)
            norm = normalise_for_match(sentence)
            parts.append(norm)
            pos += len(norm)
        self.norm = "".join(parts)

    def sentences_with(self, span: str) -> list[str]:
        """For every occurrence of the span: the sentence holding it (joined sentences if it crosses one)."""
        needle = normalise_for_match(span)
        found: list[str] = []
        if not needle:
            return found
        at = self.norm.find(needle)
        while at >= 0:
            first = bisect.bisect_right(self.starts, at) - 1
            last = bisect.bisect_right(self.starts, at + len(needle) - 1) - 1
            found.append("".join(self.sentences[first : last + 1]))
            at = self.norm.find(needle, at + 1)
        return found


@dataclass(frozen=True)
class Overlap:
    """Content lemmas a question shares with the evidence sentence that shares the fewest."""

    id: str
    count: int | None  # None: no evidence sentence found
    shared: tuple[str, ...]
    sentence: str


def content_lemmas(text: str) -> set[str]:
    """The set of ``kb.text.word_tokens``: lemmas without stop words, noun compounds, Latin runs."""
    from kb.text import word_tokens  # lazy: fugashi only when the check runs

    return set(word_tokens(text))


def load_sentence_indexes(
    corpus_dir: str | Path = DEFAULT_CORPUS_DIR, source_path: str | Path = DEFAULT_SOURCE
) -> list[list[SentenceIndex]]:
    """Texts to look evidence sentences up in, by priority: the corpus/*.md files, then the source."""
    markdown = [SentenceIndex(p.read_text(encoding="utf-8")) for p in sorted(Path(corpus_dir).glob("*.md"))]
    source = Path(source_path)
    fallback = [SentenceIndex(source.read_text(encoding="utf-8"))] if source.is_file() else []
    return [tier for tier in (markdown, fallback) if tier]


def question_overlap(item: dict[str, Any], indexes: Sequence[Sequence[SentenceIndex]]) -> Overlap:
    """Shared content lemmas between the question and its evidence sentence(s).

    Every occurrence of every span is a candidate sentence (any of them makes a passage relevant);
    the minimum overlap over the candidates counts.  Sentences come from the first tier of
    ``indexes`` (Markdown corpus, then source text) in which a span is found.
    """
    question_lemmas = content_lemmas(item["question"])
    best: Overlap | None = None
    for span in item["evidence"]:
        if not isinstance(span, str):
            continue
        sentences: list[str] = []
        for tier in indexes:
            sentences = [s for index in tier for s in index.sentences_with(span)]
            if sentences:
                break
        for sentence in sentences:
            shared = tuple(sorted(question_lemmas & content_lemmas(sentence)))
            if best is None or best.count is None or len(shared) < best.count:
                best = Overlap(item["id"], len(shared), shared, sentence.strip())
    return best or Overlap(str(item.get("id")), None, (), "")


def colloquial_overlaps(
    items: Sequence[dict[str, Any]], indexes: Sequence[Sequence[SentenceIndex]]
) -> list[Overlap]:
    """The overlap of every answerable ``colloquial`` question."""
    return [
        question_overlap(item, indexes)
        for item in items
        if "colloquial" in item.get("tags", [])
        and item.get("answerable") is True
        and isinstance(item.get("evidence"), list)
        and isinstance(item.get("question"), str)
    ]


def overlap_problems(overlaps: Iterable[Overlap]) -> list[str]:
    problems: list[str] = []
    for o in overlaps:
        if o.count is None:
            problems.append(f"{o.id}: colloquial question whose evidence sentence was not found")
        elif o.count > MAX_COLLOQUIAL_OVERLAP:
            problems.append(
                f"{o.id}: colloquial question shares {o.count} content lemmas with its evidence sentence "
                f"(max {MAX_COLLOQUIAL_OVERLAP}): {', '.join(o.shared)}"
            )
    return problems


def check_file(
    path: str | Path = DEFAULT_QUESTIONS,
    source_path: str | Path = DEFAULT_SOURCE,
    *,
    corpus_dir: str | Path = DEFAULT_CORPUS_DIR,
    overlap: bool = True,
) -> list[str]:
    """All problems in the question file; an empty list means it is valid.

    ``overlap`` runs the colloquial-overlap check (needs ``kb.text``; its import failing is a problem).
    """
    problems: list[str] = []
    items: list[dict[str, Any]] = []
    try:
        raw_lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [f"cannot read {path}: {exc}"]
    for lineno, line in enumerate(raw_lines, start=1):
        if not line.strip():
            problems.append(f"line {lineno}: blank line")
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {lineno}: invalid JSON: {exc}")
            continue
        if not isinstance(obj, dict):
            problems.append(f"line {lineno}: not a JSON object")
            continue
        items.append(obj)
    try:
        source_text: str | None = Path(source_path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"cannot read source {source_path}: {exc}")
        source_text = None
    problems.extend(check_items(items, source_text))
    if overlap and any(
        "colloquial" in (i.get("tags") or []) for i in items if isinstance(i.get("tags"), list)
    ):
        try:
            indexes = load_sentence_indexes(corpus_dir, source_path)
            problems.extend(overlap_problems(colloquial_overlaps(items, indexes)))
        except ImportError as exc:
            problems.append(
                f"cannot check colloquial overlap (kb.text not importable: {exc}); --skip-overlap skips it"
            )
    return problems


def format_overlaps(overlaps: Sequence[Overlap]) -> str:
    """One line per colloquial question (id, shared count, shared lemmas), then the distribution."""
    lines = [f"{o.id}\t{'?' if o.count is None else o.count}\t{' '.join(o.shared)}" for o in overlaps]
    dist = Counter("?" if o.count is None else str(o.count) for o in overlaps)
    lines.append(
        f"colloquial overlap: {len(overlaps)} questions; "
        + ", ".join(f"{k} shared={dist[k]}" for k in sorted(dist))
    )
    return "\n".join(lines)


def summarise(items: Sequence[dict[str, Any]]) -> str:
    """Counts per split, per tag and per primary type, as printable text."""
    lines = [f"{len(items)} questions"]
    by_split = Counter(str(q.get("split")) for q in items)
    unans = Counter(str(q.get("split")) for q in items if q.get("answerable") is False)
    for split in sorted(by_split):
        lines.append(f"  split {split}: {by_split[split]} (unanswerable {unans[split]})")
    tag_counts: Counter[str] = Counter()
    for q in items:
        tag_counts.update(q.get("tags", []))
    lines.append("  tags: " + ", ".join(f"{t}={c}" for t, c in sorted(tag_counts.items())))
    prim = Counter((primary_type(q.get("tags", [])) or "?", str(q.get("split"))) for q in items)
    strata = sorted({p for p, _ in prim})
    lines.append(
        "  primary type (dev/test): "
        + ", ".join(f"{p}={prim[(p, 'dev')]}/{prim[(p, 'test')]}" for p in strata)
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("questions", nargs="?", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--source", default=str(DEFAULT_SOURCE), help="source text the spans come from")
    parser.add_argument(
        "--corpus-dir", default=str(DEFAULT_CORPUS_DIR), help="folder of the cleaned *.md corpus"
    )
    parser.add_argument(
        "--overlap", action="store_true", help="print the content-lemma overlap of every colloquial question"
    )
    parser.add_argument(
        "--skip-overlap", action="store_true", help="skip the colloquial overlap check (no kb.text needed)"
    )
    args = parser.parse_args(argv)
    problems = check_file(
        args.questions, args.source, corpus_dir=args.corpus_dir, overlap=not args.skip_overlap
    )
    for p in problems:
        print(p)
    if args.overlap and not args.skip_overlap:
        try:
            items = load_questions(args.questions)
            print(
                format_overlaps(
                    colloquial_overlaps(items, load_sentence_indexes(args.corpus_dir, args.source))
                )
            )
        except (OSError, ValueError, ImportError) as exc:
            print(f"(no overlap listing: {exc})")
    try:
        print(summarise(load_questions(args.questions)))
    except (OSError, ValueError) as exc:
        print(f"(no summary: {exc})")
    if problems:
        print(f"FAILED: {len(problems)} problem(s)")
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
