"""Validate the retrieval evaluation question set (``eval/questions.jsonl``).

Run as::

    python -m eval.check_questions eval/questions.jsonl [--source PATH]

Prints every problem found and exits non-zero if there is at least one.  The format, the
relevance rule and the tag vocabulary are documented in ``eval/QUESTIONS.md``.

``normalise_for_match`` is the single definition of the text normalisation used by the
relevance rule ("a passage is relevant if its normalised text contains the normalised
evidence span"); import it rather than re-implementing it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = PROJECT_ROOT / "eval" / "questions.jsonl"
DEFAULT_SOURCE = PROJECT_ROOT / "corpus" / "source" / "hirakata_joho_kihon_keikaku_3ki.txt"

#: An HTML tag such as ``<p>``, ``</p>``, ``<ul style="...">`` or ``<br/>``.  Only tags whose
#: name starts with an ASCII letter are removed, so the document's own angle-bracket headings
#: (``<本章の内容>``, ``＜本市の…について＞`` after NFKC) and autolinks (``<http://…>``) are kept.
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_WS_RE = re.compile(r"\s+")

KIND_TAGS = frozenset({"plan", "national_strategy", "glossary"})
TYPE_TAGS = frozenset(
    {"fact", "date", "number", "who", "definition", "paraphrase", "keyword", "table", "unanswerable"}
)
ALLOWED_TAGS = KIND_TAGS | TYPE_TAGS
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


def check_file(path: str | Path = DEFAULT_QUESTIONS, source_path: str | Path = DEFAULT_SOURCE) -> list[str]:
    """All problems in the question file; an empty list means it is valid."""
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
    return problems


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
    args = parser.parse_args(argv)
    problems = check_file(args.questions, args.source)
    for p in problems:
        print(p)
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
