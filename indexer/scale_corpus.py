"""A reproducible N× corpus made from the real one, for the scale benchmark (bench/bench_scale.py).

    python -m indexer.scale_corpus OUT_DIR --multiple 100 [--seed 12] [--source corpus]

Copy 1 of each ``corpus/*.md`` file is the file itself. Copies 2…N are variants, as another
city's or another year's edition of the same documents would be:

- **Sections shuffled.** Within a document, the sections under each heading (and the top-level
  ones) are put in a random order; a section moves with its heading, its body and its
  subsections, heading levels are unchanged, and the text before the first heading stays
  first, so the file parses into the same sections (in another order) with the same paths.
- **Names perturbed**, one choice per copy and name (consistent within the copy): the city name
  (枚方), departments (〜課), facilities and system names, each from a small pool of plausible
  alternatives (:data:`NAME_POOLS`). The title is perturbed the same way and ends with the copy
  number (「（第007版）」), so every copy's title differs.
- **Numbers perturbed.** Years move by one offset per copy (−3…+3, never 0) in both calendars,
  written validly: 令和元年 for 2019, 平成 before it (平成31年 is written 令和元年), 西暦 as is
  (昭和 years, one in the plan, are left as they are);
  the front matter's ``date`` moves with them. Days of the month are redrawn (1–28), counts
  (20業務, 500人, 1000団体, 7,667万人 …) are scaled by 0.7–1.3 and percentages by 0.85–1.15
  (at most 100 %, same decimals), each occurrence on its own.

Everything is drawn from ``random.Random(f"{seed}:{file}:{copy}")``: the same seed gives the same
corpus byte for byte, on any machine. A sentence with no number or name stays the same in every
copy (boilerplate, as in real municipal documents); :func:`distinct_texts` counts what an index
of the corpus has to embed.
"""

from __future__ import annotations

import argparse
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_SEED = 12

#: Real names of the corpus -> plausible alternatives (a copy keeps the real name or picks one).
NAME_POOLS: dict[str, tuple[str, ...]] = {
    # the city (also in 枚方市駅, 第2次枚方市情報化計画 …)
    "枚方": (
        "高槻",
        "茨木",
        "寝屋川",
        "交野",
        "吹田",
        "豊中",
        "守口",
        "門真",
        "箕面",
        "八尾",
        "和泉",
        "岸和田",
    ),
    # departments
    "DX推進課": ("デジタル戦略課", "情報政策課", "ICT推進課", "スマートシティ推進課", "情報化推進課"),
    "市民課": ("市民窓口課", "戸籍住民課", "住民記録課"),
    "市民税課": ("住民税課", "税務課", "課税課"),
    "企画課": ("企画政策課", "経営企画課", "政策企画課"),
    "政策推進課": ("政策調整課", "総合政策課"),
    "危機管理対策推進課": ("危機管理課", "防災危機管理課", "危機管理室防災課"),
    "国民健康保険課": ("保険年金課", "国保年金課", "医療保険課"),
    "子ども相談課": ("子ども家庭相談課", "家庭児童相談課"),
    "子ども青少年政策課": ("子ども政策課", "こども未来課"),
    "職員課": ("人事課", "人材育成課"),
    "納税課": ("収納課", "債権管理課"),
    "都市計画課": ("都市政策課", "まちづくり推進課"),
    "生活福祉課": ("生活支援課", "保護課"),
    "母子保健課": ("親子保健課", "母子健康課"),
    "文化生涯学習課": ("生涯学習課", "文化振興課"),
    "教育研修課": ("教職員研修課", "教育指導課"),
    "障害支援課": ("障害福祉課", "障がい者支援課"),
    "固定資産税課": ("資産税課", "土地家屋課"),
    # facilities and places
    "中央図書館": ("市立中央図書館", "総合図書館", "本館図書館"),
    "保健センター": ("保健福祉センター", "健康づくりセンター"),
    "本庁舎": ("市役所本館", "本庁舎"),
    "データセンター": ("データセンタ", "共同利用センター"),
    # systems
    "電子申請システム": ("オンライン申請システム", "行政手続オンラインシステム"),
    "統合型地図情報システム": ("統合型GIS", "共用空間データ基盤システム"),
    "遠隔窓口システム": ("リモート窓口システム", "オンライン相談窓口システム"),
    "福祉サービス検索システム": ("福祉情報案内システム", "福祉サービス案内システム"),
    "戸籍総合システム": ("戸籍情報システム", "戸籍管理システム"),
    "建築行政データベースシステム": ("建築確認台帳システム", "建築情報管理システム"),
    "施設予約システム": ("公共施設予約システム", "施設利用予約システム"),
    "校務支援システム": ("統合型校務支援システム", "校務情報システム"),
    "避難行動要支援者名簿システム": ("要配慮者支援システム", "避難支援台帳システム"),
    "留守家庭児童室ICTシステム": ("放課後児童クラブ管理システム", "学童保育管理システム"),
    "保育ICTシステム": ("保育業務支援システム", "保育園管理システム"),
}
# Longest first, so 統合型地図情報システム is replaced whole, not as 地図情報システム.
_NAMES = re.compile("|".join(re.escape(n) for n in sorted(NAME_POOLS, key=len, reverse=True)))

_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.S)
_HEADING = re.compile(r"^(#{1,6})\s+\S")
_TITLE = re.compile(r"^title: (.*)$", re.M)
_DATE = re.compile(r"^date: (\d{4})(.*)$", re.M)

_WAREKI = re.compile(r"(令和|平成)(元|\d{1,2})年")
_SEIREKI = re.compile(r"(?<![\d.,])((?:19|20)\d{2})(?=年|[)）]|\s*[-–〜～]\s*\d)")
_DAY = re.compile(r"(?<!\d)(\d{1,2})月(\d{1,2})日")
_PERCENT = re.compile(r"(?<![\d.,])(\d+(?:\.\d+)?)(?=[%％])")
_COUNT = re.compile(
    r"(?<![\d.,\-])(\d{1,3}(?:,\d{3})+|\d+)(?=万人|万|億|人|件|台|団体|業務|校|施設|か所|箇所|名)"
)

REIWA_1 = 2019
HEISEI_1 = 1989


@dataclass
class _Node:
    """A heading line with its body, and its subsections (the root has no heading)."""

    text: str
    level: int
    children: list[_Node] = field(default_factory=list)

    def render(self) -> list[str]:
        out = [self.text] if self.text.strip() else []
        for child in self.children:
            out.extend(child.render())
        return out


def _section_tree(body: str) -> _Node:
    root = _Node("", 0)
    stack = [root]
    in_fence = False
    for line in body.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            while stack[-1].level >= level:
                stack.pop()
            node = _Node(line, level)
            stack[-1].children.append(node)
            stack.append(node)
        else:
            stack[-1].text += line
    return root


def _shuffle(node: _Node, rng: random.Random) -> None:
    rng.shuffle(node.children)
    for child in node.children:
        _shuffle(child, rng)


def shuffle_sections(body: str, rng: random.Random) -> str:
    """``body`` (Markdown without front matter) with sibling sections in a random order."""
    root = _section_tree(body)
    _shuffle(root, rng)
    blocks = [block.strip("\n") for block in root.render()]
    return "\n\n".join(b for b in blocks if b) + "\n"


def wareki(year: int) -> str:
    """A western year as 和暦 (令和 from 2019, 令和元年 for 2019; 平成 from 1989 to 2018; 昭和 before)."""
    if year >= REIWA_1:
        n = year - REIWA_1 + 1
        return "令和元年" if n == 1 else f"令和{n}年"
    if year >= HEISEI_1:
        n = year - HEISEI_1 + 1
        return "平成元年" if n == 1 else f"平成{n}年"
    return f"昭和{year - 1925}年"


def western_year(era: str, number: str) -> int:
    n = 1 if number == "元" else int(number)
    return (REIWA_1 if era == "令和" else HEISEI_1) + n - 1


def _scaled(text: str, factor: float) -> str:
    value = int(text.replace(",", ""))
    new = max(1, round(value * factor))
    if new == value:
        new = value + 1
    return f"{new:,}" if "," in text else str(new)


def _percent(text: str, rng: random.Random) -> str:
    decimals = len(text.partition(".")[2])
    value = float(text)
    if value >= 100:
        return text
    new = min(value * rng.uniform(0.85, 1.15), 100.0 if decimals == 0 else 99.9)
    return f"{new:.{decimals}f}"


def perturb_text(text: str, rng: random.Random, year_shift: int, names: dict[str, str]) -> str:
    """Names, years, days, counts and percentages of ``text`` changed as the module docstring says."""
    text = _NAMES.sub(lambda m: names[m.group(0)], text)
    text = _WAREKI.sub(lambda m: wareki(western_year(m.group(1), m.group(2)) + year_shift), text)
    text = _SEIREKI.sub(lambda m: str(int(m.group(1)) + year_shift), text)
    text = _DAY.sub(lambda m: f"{m.group(1)}月{rng.randint(1, 28)}日", text)
    text = _PERCENT.sub(lambda m: _percent(m.group(1), rng), text)
    return _COUNT.sub(lambda m: _scaled(m.group(1), rng.uniform(0.7, 1.3)), text)


def variant(text: str, seed: int, name: str, copy: int) -> str:
    """Copy ``copy`` (2, 3, …) of the Markdown file ``text`` named ``name``."""
    rng = random.Random(f"{seed}:{name}:{copy}")
    year_shift = rng.choice((-3, -2, -1, 1, 2, 3))
    names = {real: rng.choice((real, *pool)) for real, pool in NAME_POOLS.items()}
    front = _FRONT_MATTER.match(text)
    head, body = (text[: front.end()], text[front.end() :]) if front else ("", text)
    body = perturb_text(shuffle_sections(body, rng), rng, year_shift, names)
    if head:
        head = _TITLE.sub(
            lambda m: f"title: {perturb_text(m.group(1), rng, year_shift, names)}（第{copy:03d}版）",
            head,
            count=1,
        )
        head = re.sub(
            r"^issuer: (.*)$",
            lambda m: f"issuer: {_NAMES.sub(lambda n: names[n.group(0)], m.group(1))}",
            head,
            flags=re.M,
        )
        head = _DATE.sub(lambda m: f"date: {int(m.group(1)) + year_shift}{m.group(2)}", head, count=1)
    return head + "\n" + body if head else body


def generate(source: Path, target: Path, multiple: int, seed: int = DEFAULT_SEED) -> int:
    """Write ``multiple`` copies of every ``source/*.md`` into ``target`` (``plan-c001.md`` is
    ``plan.md`` itself, ``plan-c002.md`` … variants); return the number of characters written."""
    target.mkdir(parents=True, exist_ok=True)
    written = 0
    for path in sorted(source.glob("*.md")):
        text = path.read_text(encoding="utf-8")
        for i in range(1, multiple + 1):
            copy = text if i == 1 else variant(text, seed, path.stem, i)
            (target / f"{path.stem}-c{i:03d}.md").write_text(copy, encoding="utf-8")
            written += len(copy)
    return written


def distinct_texts(corpus_dir: Path, settings=None) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """What indexing ``corpus_dir`` embeds: chunks and sentence units, in total and distinct
    (the indexer embeds each distinct text once)."""
    from kb.chunk import chunk_documents, chunk_sentences
    from kb.config import load_settings
    from kb.corpus import load_corpus

    s = settings or load_settings(env={})
    documents, _ = load_corpus(corpus_dir)
    chunks = chunk_documents(documents, s.chunk_target_chars, s.chunk_max_chars, s.chunk_overlap_chars)
    sentences = chunk_sentences(chunks, s.sentence_min_chars)
    chunk_texts = [c.embed_text for c in chunks]
    sentence_texts = [x.text for x in sentences]
    return {
        "documents": len(documents),
        "chunks": len(chunk_texts),
        "distinct_chunks": len(set(chunk_texts)),
        "sentences": len(sentence_texts),
        "distinct_sentences": len(set(sentence_texts)),
        "texts": len(chunk_texts) + len(sentence_texts),
        "distinct_texts": len(set(chunk_texts) | set(sentence_texts)),
        "chars": sum(map(len, chunk_texts)) + sum(map(len, sentence_texts)),
        "distinct_chars": sum(map(len, set(chunk_texts) | set(sentence_texts))),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder to write the copies into")
    parser.add_argument("--multiple", type=int, default=100)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--source", type=Path, default=Path("corpus"))
    args = parser.parse_args(argv)
    characters = generate(args.source, args.out, args.multiple, args.seed)
    print(f"{args.multiple}x: {characters:,} characters in {args.out}")
    print(distinct_texts(args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
