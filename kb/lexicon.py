"""Word lists the keyword index depends on, kept as data (their hash is in the index manifest).

Changing anything here changes what the index contains, so ``fingerprint()`` is recorded by
kb/manifest.py and a mismatch asks for a rebuild.
"""

from __future__ import annotations

import hashlib

#: Parts of speech that carry no topic: particles, auxiliaries, symbols, blanks.
SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})

#: Question and filler words that appear in how staff ask, not in what they ask about.
STOP_LEMMAS = frozenset(
    """
    何 なに なん どう どの どれ どこ いつ 誰 だれ どんな どなた 教える 知る ある いる する なる できる
    れる られる せる おる こと もの ため よう これ それ あれ この その ここ そこ について とは つく 付く
    ください くださる 下さる 思う 言う いう ない 様 的 等 など 方 ・
    """.split()
    # unidic's lemmas of the same words (conjugated する is 為る, なっ is 成る, いる is 居る, いつ
    # is 何時 …): the surface forms above only catch the dictionary form as typed.
    + "為る 成る 出来る 居る 有る 無い 何時 此れ 其れ 彼れ 此の 其の 此処 其処 事 物 為".split()
)


def fingerprint() -> str:
    """A short hash of the lists above, for the index manifest."""
    data = "|".join(sorted(SKIP_POS)) + "#" + "|".join(sorted(STOP_LEMMAS))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:12]
