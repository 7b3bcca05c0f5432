"""Name normalisers shared by places and actors.

`name_key` makes spelling-insensitive join keys (case, diacritics, punctuation, "the", possessives,
St/Saint); `translit_key` goes further and collapses romanisation variants (Myrnograd/Myrnohrad,
Hulyaipole/Huliaipole, Zelenskyy/Zelensky) so names missing from every alias list still meet.
Both are pure functions over str and cheap enough to call per mention.
"""

from __future__ import annotations

import re
import unicodedata

_APOSTROPHES = "'’‘`´ʼʻ"
_POSSESSIVE = re.compile(r"[" + _APOSTROPHES + r"]s?$")
_DOTTED_INITIALS = re.compile(r"\b(?:[a-z]\.)+[a-z]\b\.?")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_ABBREVIATIONS = {
    "st": "saint",
    "ste": "sainte",
    "mt": "mount",
    "ft": "fort",
    "pt": "port",
}
_EXTRA_FOLD = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "æ": "ae", "œ": "oe",
                             "ß": "ss", "ı": "i", "ħ": "h"})


def fold(s: str) -> str:
    """NFKD + strip combining marks + casefold: the accent- and case-blind form of a string."""
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.casefold().translate(_EXTRA_FOLD)


def name_key(s: str) -> str:
    """Spelling-blind key of a name: "The St. Petersburg’s" -> "saint petersburg".

    Strips a possessive 's, a leading "the", dots in initials ("U.S." and "U.S" -> "us"), apostrophes inside
    words ("O'Fallon" -> "ofallon"), turns other punctuation into spaces and expands St/Mt/Ft.
    """
    s = fold(s).strip()
    for a in _APOSTROPHES[1:]:
        s = s.replace(a, "'")
    s = _POSSESSIVE.sub("", s.rstrip(" .,;:")) if re.search(r"[\w.]['](s)?$", s) else s
    s = _DOTTED_INITIALS.sub(lambda m: m.group(0).replace(".", ""), s)
    s = s.replace("'", "").replace("&", " and ")
    toks = _NON_WORD.sub(" ", s).split()
    while len(toks) > 1 and toks[0] == "the":
        toks = toks[1:]
    toks = [_ABBREVIATIONS.get(t, t) if i < len(toks) - 1 else t for i, t in enumerate(toks)]
    return " ".join(toks)


_TRANSLIT_RULES: list[tuple[str, str]] = [
    ("shch", "sh"), ("sch", "sh"), ("tsch", "ch"), ("tch", "ch"), ("dzh", "j"), ("dj", "j"),
    ("zh", "j"), ("kh", "h"), ("ph", "f"), ("x", "ks"), ("w", "v"), ("ck", "k"), ("q", "k"),
    ("tz", "ts"), ("ou", "u"), ("g", "h"), ("y", "i"), ("ie", "e"), ("ei", "i"),
]
# g/h alternate inside Slavic names (Myrnograd/Myrnohrad) but start distinct English names (Hill/Gill,
# Hale/Gale, Grant/Hrant): a word's first letter is never folded.
_INNER_G = re.compile(r"(?<=[a-z])g")
_DOUBLES = re.compile(r"([a-z])\1+")


def translit_key(s: str) -> str:
    """Romanisation-blind skeleton of a name (built on `name_key`), spaces and hyphens removed.

    Collapses g/h inside a word (never its first letter), kh/h, zh/j, w/v, y/i (so ya/ia, yi/iy/yy),
    ie/ye/e, ou/u, double letters. Deliberately lossy: use it as a second-chance join key (method
    'fuzzy'), never as identity.
    """
    return "".join(_translit_word(w) for w in name_key(s).split())


def _translit_word(s: str) -> str:
    for a, b in _TRANSLIT_RULES:
        s = _INNER_G.sub("h", s) if a == "g" else s.replace(a, b)
    return _DOUBLES.sub(r"\1", s)
