"""Actor mention candidates: who is named in a body, with the title and country written around them.

Python only extracts per-mention features here (cleaned name, name keys, title, country, whether the
mention is anchored by a full name or a title); folding mentions into canonical actors is set-based
and happens in SQL (``sql/intermediate/int_actor_*.sql``). The rules — titles, honorifics, country
words, organisation short forms — live in ``rules/actors.toml`` so that new beats need no code.
"""

from __future__ import annotations

import bisect
import itertools
import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path

from newsfacts import names

# Tokens and candidate spans repeat within and across documents: memoise the pure key functions.
name_key = lru_cache(maxsize=1 << 17)(names.name_key)
translit_key = lru_cache(maxsize=1 << 17)(names.translit_key)

RULES_PATH = Path(__file__).with_name("rules") / "actors.toml"
TOKEN = re.compile(r"\w[\w.'’\-]*")
POSSESSIVE = re.compile(r"['’]s?$")
WORD = re.compile(r"[\w-]+(?:['’]\w+)*")
NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv"}


@dataclass(frozen=True)
class Rules:
    """The word lists of rules/actors.toml, lowercased and split into token tuples once."""

    honorifics: frozenset[str]
    titles: dict[tuple[str, ...], str]
    role_nouns: frozenset[tuple[str, ...]]
    title_modifiers: frozenset[str]
    local_modifiers: frozenset[str]
    org_descriptors: frozenset[tuple[str, ...]]
    org_descriptor_modifiers: frozenset[str]
    generic_words: frozenset[str]
    non_actor_heads: frozenset[str]
    place_heads: frozenset[str]
    non_actor_org_tails: frozenset[str]
    function_words: frozenset[str]
    generic_orgs: frozenset[str]
    org_alias: dict[str, str]
    legal_suffixes: frozenset[str]
    org_heads: frozenset[str]
    org_common_words: frozenset[str]
    sub_body_heads: frozenset[str]
    instrument_nouns: frozenset[str]
    unit_words: frozenset[str]
    name_particles: frozenset[str]
    unit_names: frozenset[str]
    portfolio_titles: frozenset[str]
    naming_verbs: frozenset[str]
    org_breaks: frozenset[str]
    state_bodies: frozenset[tuple[str, ...]]
    party_names: frozenset[tuple[str, ...]]
    party_context: frozenset[str]
    sport_words: frozenset[str]
    match_words: frozenset[str]
    team_roles: frozenset[str]
    org_roles: frozenset[str]
    facility_heads: frozenset[str]
    first_name: dict[str, str]
    countries: dict[tuple[str, ...], str]
    # words that identify no organisation on their own (heads, common name words, legal forms)
    org_generic: frozenset[str] = frozenset()
    max_title_len: int = field(default=6)


def _phrase(s: str) -> tuple[str, ...]:
    return tuple(t.lower() for t in TOKEN.findall(s))


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> Rules:
    """Parse the rules file once per process."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    titles = {_phrase(t): "national" for t in raw["titles"]["national"]}
    titles.update({_phrase(t): "local" for t in raw["titles"]["local"]})
    org_alias = {name_key(a): canon for canon, spellings in raw["org_aliases"].items() for a in spellings}
    first = {name_key(v): canon for canon, vs in raw["first_name_variants"].items() for v in vs}
    special = dict(
        titles=titles,
        role_nouns=frozenset(_phrase(t) for t in raw["role_nouns"]),
        state_bodies=frozenset(_phrase(t) for t in raw["state_bodies"]),
        party_names=frozenset(_phrase(t) for t in raw["party_names"]),
        org_descriptors=frozenset(_phrase(t) for t in raw["org_descriptors"]),
        generic_orgs=frozenset(name_key(o) for o in raw["generic_orgs"]),
        org_alias=org_alias,
        first_name=first,
        countries={_phrase(k): v for k, v in raw["countries"].items()},
    )
    # every other field is a plain word list of the same name
    words = {f.name: frozenset(raw[f.name]) for f in fields(Rules) if f.name not in special and f.name in raw}
    org_generic = words["org_heads"] | words["org_common_words"] | words["legal_suffixes"]
    return Rules(**special, **words, org_generic=org_generic)


@dataclass(slots=True)
class Tok:
    start: int
    end: int
    text: str

    @property
    def low(self) -> str:
        return self.text.lower().rstrip(".")

    @property
    def bare(self) -> str:
        """The word without a possessive ending ("Russia’s" → "russia")."""
        return POSSESSIVE.sub("", self.text).lower().rstrip(".")

    @property
    def possessive(self) -> bool:
        return bool(re.search(r"['’]s$", self.text)) or self.text.endswith(("s'", "s’"))

    @property
    def capitalised(self) -> bool:
        return self.text[:1].isupper()


def tokens(text: str, offset: int = 0) -> list[Tok]:
    return [Tok(m.start() + offset, m.end() + offset, m.group()) for m in TOKEN.finditer(text)]


def _adjacent(body: str, left: Tok, right_start: int) -> bool:
    """True when only spaces separate a token from what follows (no comma, dash or quote)."""
    gap = body[left.end:right_start]
    return gap.strip() == ""


def _country_at_end(toks: list[Tok], rules: Rules) -> tuple[int, str | None]:
    """Longest country word ending at the last token (capitalised only: "US" is a country, "us" is not)."""
    for n in (3, 2, 1):
        if len(toks) < n or not toks[-n].capitalised:
            continue
        words = tuple(t.low for t in toks[-n:-1]) + (toks[-1].bare,)
        if words in rules.countries:
            return n, rules.countries[words]
    return 0, None


@dataclass
class Context:
    """What the words around a mention say: title (as written), its scope, country, honorific, span."""

    title: str | None = None
    scope: str | None = None
    country: str | None = None
    honorific: str | None = None
    start: int | None = None


def _left_phrase(body: str, left: list[Tok], end: int, heads: dict[tuple[str, ...], str | None],
                 modifiers: frozenset[str], rules: Rules) -> Context | None:
    """Parse ``[country] [modifier]* head`` ending right before ``end`` (tokens adjacent, no punctuation)."""
    if not left or not _adjacent(body, left[-1], end):
        return None
    low = [t.low for t in left]
    for n in sorted({len(h) for h in heads}, reverse=True):
        if len(low) < n or tuple(low[-n:]) not in heads:
            continue
        i = len(left) - n
        if any(not _adjacent(body, left[k], left[k + 1].start) for k in range(i, len(left) - 1)):
            continue
        scope = heads[tuple(low[-n:])]
        country = None
        while i > 0 and _adjacent(body, left[i - 1], left[i].start):
            k, c = _country_at_end(left[:i], rules)
            if k and country is None:
                country, i = c, i - k
                continue
            if left[i - 1].low in modifiers and not left[i - 1].possessive:
                if left[i - 1].low in rules.local_modifiers and scope:
                    scope = "local"
                i -= 1
                continue
            break
        return Context(title=body[left[i].start:left[-1].end], scope=scope, country=country,
                       start=left[i].start)
    return None


def title_before(body: str, sent_start: int, start: int, label: str, rules: Rules) -> Context:
    """Title, honorific and country written right before a mention ("US President", "Mr", "Russia’s")."""
    left = tokens(body[sent_start:start], sent_start)
    ctx = Context()
    last = left[-1] if left else None
    if last and _adjacent(body, last, start) and last.low in rules.honorifics and last.capitalised:
        ctx.honorific = left[-1].text.rstrip(".")
        ctx.start = left[-1].start
        left = left[:-1]
        start = ctx.start
    if label == "PERSON":
        heads = dict(rules.titles)
        found = _left_phrase(body, left, start, heads, rules.title_modifiers, rules)
    else:
        heads = dict.fromkeys(rules.org_descriptors)
        found = _left_phrase(body, left, start, heads, rules.org_descriptor_modifiers, rules)
    if found:
        ctx.title, ctx.scope, ctx.country, ctx.start = found.title, found.scope, found.country, found.start
        return ctx
    if left and _adjacent(body, left[-1], start) and left[-1].possessive:
        k, c = _country_at_end(left, rules)
        if k == 1:
            ctx.country = c
            ctx.start = left[-1].start
    return ctx


def appositive(body: str, sent: tuple[int, int], start: int, end: int, rules: Rules) -> Context | None:
    """Title or affiliation in an appositive.

    "Zelensky’s Belarusian counterpart, NAME" or "NAME, the Belarusian president,"; a role noun
    (counterpart, ally) gives the country but is not a title.
    """
    heads: dict[tuple[str, ...], str | None] = dict(rules.titles)
    heads.update(dict.fromkeys(rules.role_nouns))
    before = body[sent[0]:start].rstrip()
    if before.endswith(","):
        left = tokens(before[:-1], sent[0])
        found = _left_phrase(body, left, sent[0] + len(before) - 1, heads, rules.title_modifiers, rules)
        if found and found.country:
            head = _phrase(found.title)[-1:]
            if head in rules.role_nouns:
                found.title, found.scope = None, None
            return found
    after = body[end:sent[1]]
    m = re.match(r",\s+(?:the\s+)?([^,.;:()]+?)\s*[,.;]", after)
    if m:
        seg = tokens(m.group(1), end + m.start(1))
        found = _left_phrase(body, seg, end + m.end(1), heads, rules.title_modifiers, rules) if seg else None
        if found and found.start == seg[0].start and found.country:
            if _phrase(found.title)[-1:] in rules.role_nouns:
                found.title, found.scope = None, None
            return found
    return None


_UNCLOSED = re.compile(r"\s*[(\[][^)\]]*$")
# a trailing amount or score is not part of a name; one or two digits are ("Channel 4", "Formula 1")
_NUMBER_OR_SCORE = re.compile(r"(?!\d{1,2}$)[\d.,]+|\d+[-–]\d+")


def _clean_span(body: str, start: int, end: int, rules: Rules, label: str = "PERSON") -> tuple[int, int] | None:
    """Trim words NER glues to a name: leading generic/honorific/country words, trailing possessives.

    Inside an organisation's name a demonym, a place or "New" is part of the name ("British Airways",
    "New York Stock Exchange", "Bank of France"); only a country before a country-bound body
    ("Russian Defense Ministry") is context, not name.
    """
    opened = _UNCLOSED.search(body, start, end)
    if opened:  # "Council on American-Islamic Relations (CAIR": the name ends before its open bracket
        end = opened.start()
    toks = tokens(body[start:end], start)
    while toks and not toks[0].capitalised and not toks[0].text[:1].isdigit() and len(toks) > 1:
        toks = toks[1:]  # "cts Net", "subsidiary Picker": a lower-case word NER glued on the left
    while len(toks) > 1 and (toks[-1].low in ("and", "of", "&", "the") or _NUMBER_OR_SCORE.fullmatch(toks[-1].text)):
        toks = toks[:-1]  # "Alex. Brown and", "Revs 111.7", "Fulham 2-1"
    if label == "ORG":
        return _clean_org_span(body, toks, rules)
    for k, t in enumerate(toks[:-1]):
        if not t.possessive:
            continue
        rest = toks[k + 1:]
        if all((r.bare,) in rules.countries or r.low in rules.generic_words or not r.capitalised
               for r in rest):
            toks = toks[:k + 1]
        elif (t.bare,) in rules.countries and k == 0:
            toks = rest
        break
    while toks and (toks[0].low in rules.generic_words or toks[0].low in rules.honorifics
                    or (_phrase(toks[0].text) in rules.countries and len(toks) > 1)):
        toks = toks[1:]
    while toks and len(toks) > 1 and (toks[-1].bare,) in rules.countries:
        toks = toks[:-1]
    if not toks:
        return None
    s, e = toks[0].start, toks[-1].end
    surface = body[s:e]
    m = re.search(r"['’]s?$", surface)
    if m and toks[-1].possessive:
        e = s + m.start()
    surface = body[s:e].rstrip(".")
    e = s + len(surface)
    return (s, e) if e > s else None


_W = r"[A-Z][\w.'’&/-]*"
_LEGAL = r"(?:Inc|Corp|Co|Cos|Ltd|Plc|PLC|LLC|NV|AG|SA)\b\.?"
# Capitalised words, or one-word partners joined by commas ("Dillon, Read"), at most one more word
# after "and" ("American Telephone and Telegraph"), then legal forms ("and Co Inc").
LEGAL_NAME = re.compile(
    rf"{_W}(?:(?:,\s+{_W})+|(?:\s+{_W})*)(?:,?\s+(?:and|&)\s+{_W})?(?:,?\s+(?:(?:and|&)\s+)?{_LEGAL})+")


# A partnership named by its partners' surnames ("Welsh, Carson, Anderson and Stowe"): one-word names
# joined by commas and a final "and"; taken as one organisation only when NER calls exactly one part an
# organisation (a list of companies has several, a list of people none).
PARTNERS = re.compile(r"[A-Z][a-z]+(?:,\s+[A-Z][a-z]+){2,},?\s+(?:and|&)\s+[A-Z][a-z]+\b")


def _legal_names(body: str, ents: list[tuple[int, int, str]], rules: Rules) -> list[tuple[int, int, str]]:
    """A pattern layer over NER: names ending in a legal form ("Dillon, Read and Co Inc", "American
    Telephone and Telegraph Co") are organisations. Where NER split such a name at "and" or a comma,
    or labelled its parts PERSON, the parts become one ORG span; where NER found nothing, the pattern
    adds it. Other NER spans pass through unchanged."""
    out = []
    for s0, e0, label in ents:  # cut organisation spans at words no name contains ("Union by Public Service Co")
        if label != "ORG":
            out.append((s0, e0, label))
            continue
        breaks = (r"\s+(?:" + "|".join(sorted(rules.org_breaks)) + r")\s+"  # "Co and Eberstadt Fleming Inc"
                  r"|(?:(?<=Inc)|(?<=Corp)|(?<=Co)|(?<=Ltd)|(?<=Plc)|(?<=PLC))\.?,?\s+and\s+")
        for piece in re.split(breaks, body[s0:e0]):
            if not piece.strip():
                continue
            k = body.index(piece, s0)
            out.append((k, k + len(piece), label))
            s0 = k + len(piece)
    for m in LEGAL_NAME.finditer(body):
        s, e = m.start(), m.end()
        words = tokens(body[s:e], s)
        while len(words) > 1 and (words[0].low in rules.generic_words or words[0].low in rules.function_words):
            words = words[1:]
        prev = tokens(body[max(0, s - 12):s])
        if prev and prev[-1].low in rules.legal_suffixes and TICKER.fullmatch(words[0].text) and len(words) > 2:
            words = words[1:]  # "Alex. Brown Inc ABSB, Hambrecht and Quist Inc": ABSB is the ticker before
        s = words[0].start
        if len(words) < 2 or all(w.low in rules.legal_suffixes for w in words[:-1]):
            continue
        inside = [x for x in out if x[0] < e and s < x[1]]
        if any(x[2] not in ("PERSON", "ORG") and x[0] < s for x in inside):
            continue
        people = [x for x in inside if x[2] in ("PERSON", "ORG")]
        if not people and inside:
            continue  # the span is a place or a date to NER: leave it to the place finder
        if len(people) == 1 and people[0][2] == "ORG" and people[0][0] <= s:
            continue  # NER already has this organisation (or a longer one)
        joined = ("," in body[s:e] or " and " in body[s:e] or "&" in body[s:e])
        if people and not joined and all(x[2] == "ORG" for x in people):
            continue
        e = max([e] + [x[1] for x in people])
        out = [x for x in out if x not in inside] + [(min([s] + [x[0] for x in people]), e, "ORG")]
    for m in PARTNERS.finditer(body):
        inside = [x for x in out if x[0] < m.end() and m.start() < x[1]]
        if sum(x[2] == "ORG" for x in inside) == 1 and all(m.start() <= x[0] and x[1] <= m.end() + 1 for x in inside):
            out = [x for x in out if x not in inside] + [(m.start(), m.end(), "ORG")]
    return sorted(out)


def _metonyms(body: str, ents: list[tuple[int, int, str]], sents: list[tuple[int, int]],
               rules: Rules) -> list[tuple[int, int, str]]:
    """Organisations NER gives a place or group label: "the U.K. Government" (NORP/GPE + a state body),
    parties in political sentences ("Labour", "the Conservatives"), clubs named by their city in
    sports copy ("Liverpool beat Fulham")."""
    out = []
    if not any(label in ("NORP", "GPE") for _, _, label in ents):
        return out
    sporty = _sporty(body, rules)
    for s0, e0, label in ents:
        if label not in ("NORP", "GPE"):
            continue
        body_end = _state_body_end(body, e0, rules)
        if body_end:
            out.append((s0, body_end, "ORG"))
            continue
        sent = next(((a, b) for a, b in sents if a <= s0 < b), (0, len(body)))
        sent_text = body[sent[0]:sent[1]]
        sent_words = {w.rstrip(".") for w in _phrase(sent_text)}  # "... backed the government."
        party = label == "NORP" and _phrase(body[s0:e0]) in rules.party_names and bool(sent_words & rules.party_context)
        if party or (label == "GPE" and sporty and _club(body, s0, e0, sent_text, rules)):
            out.append((s0, e0, "ORG"))
    return out


def _sporty(body: str, rules: Rules) -> bool:
    """The document talks sport: three or more distinct sport words ("match", "league", "coach", ...)."""
    return len(set(_word_regex(rules.sport_words).findall(body.lower()))) >= 3


@lru_cache(maxsize=16)
def _word_regex(words: frozenset[str]) -> re.Pattern:
    """One compiled alternation of whole words (longest first), built once per word list."""
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + r")\b")


def _starts_an_org(surface: str, org_names: set[str]) -> bool:
    """A place name NER calls ORG is the short form of an organisation of the document that starts with
    it ("Burlington" for "Burlington Industries Inc", "Hanover" for "Hanover Insurance Co")."""
    return any(name.startswith(surface + " ") for name in org_names)


def _club(body: str, s: int, e: int, sentence: str, rules: Rules) -> bool:
    """A place in a match sentence (a score, "2-1") or with a match word right before or after it,
    not after a locative preposition."""
    after, before = ([w.rstrip(".") for w in ws] for ws in (_phrase(body[e:e + 12])[:1],
                                                             _phrase(body[max(0, s - 10):s])[-1:]))
    if before and before[0] in ("in", "at", "from", "near", "to", "of"):
        return False  # "in London": a place
    return bool(re.search(r"\b\d{1,2}-\d{1,2}\b", sentence)) or any(
        w[0] in rules.match_words for w in (after, before) if w)


def _named_before_post(body: str, ents: list[tuple[int, int, str]], sents: list[tuple[int, int]],
                       rules: Rules) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Organisations named right before a post in them and a person NER found: (teams, others).

    A place NER labels GPE before a team position is the team, in any document (a one-sentence item has no
    other sport words): "Italy coach Cesare Prandelli", "England captain Andrew Strauss". Capitalised words
    NER gave no label before a team position or a post (``org_roles``) are an organisation NER missed:
    "Dodgers manager Don Mattingly", "Harmonix co-founder Alex Rigopulos"; not a lone sentence opener
    ("Assistant coach ..."), not the end of a longer name ("Hall of Fame receiver ..."), without leading
    generic or function words ("Former ...", "When ...")."""
    roles = rules.team_roles | rules.org_roles
    longest = max(len(r.split()) for r in roles)
    starts = {a + len(body[a:b]) - len(body[a:b].lstrip()) for a, b in sents}  # each sentence's first word
    places = {(a, b) for a, b, label in ents if label == "GPE"}
    teams, others = [], []
    for ps, _, label in ents:
        if label != "PERSON":
            continue
        left = tokens(body[max(0, ps - 80):ps], max(0, ps - 80))
        if not left or not _adjacent(body, left[-1], ps):
            continue
        k = next((k for k in range(min(longest, len(left)), 0, -1)
                  if " ".join(t.low for t in left[-k:]) in roles and not left[-k].capitalised), 0)
        if not k:
            continue
        role = " ".join(t.low for t in left[-k:])
        before, name = left[:-k], []
        while before and before[-1].capitalised and not before[-1].text.endswith("-") and _adjacent(
                body, before[-1], (name[0] if name else left[-k]).start):
            name.insert(0, before.pop())
            if len(name) == 5 or name[0].start in starts:
                break
        if before and name and before[-1].low in ("of", "and", "&", "for") \
                and _adjacent(body, before[-1], name[0].start):
            continue  # the end of a longer name ("Hall of Fame receiver Jerry Rice")
        while name and (name[0].low in rules.generic_words or name[0].low in rules.function_words):
            name.pop(0)  # "Then Harmonix co-founder", "Former coach"
        if not name or len(name) > 4:
            continue
        s, e = name[0].start, name[-1].end
        if (s, e) in places:
            if role in rules.team_roles:
                teams.append((s, e, "ORG"))
        elif not (len(name) == 1 and s in starts) and not any(a < e and b > s for a, b, _ in ents):
            others.append((s, e, "ORG"))
    return teams, others


def _state_body_end(body: str, end: int, rules: Rules) -> int | None:
    """End of "Government" in "U.K. Government", "Army" in "British Army": a capitalised state body
    right after a nationality or country is a name. Written in lower case ("the Russian military",
    "Canadian government approval") it is a description, not a name, and is left alone."""
    m = re.match(r"\s+([A-Z][a-z]+)(?:\s+([A-Z][a-z]+))?", body[end:end + 40])
    if not m:
        return None
    words = tokens(m.group(), end)
    for n in (2, 1):
        if len(words) >= n and tuple(t.low for t in words[:n]) in rules.state_bodies:
            return words[n - 1].end
    return None


def _context_reason(body: str, s: int, e: int, rules: Rules) -> str | None:
    """Why the words around a span say it is not an actor: a unit, a portfolio inside a title, a
    product named by "called", a word of a committee's name."""
    raw = tokens(body[max(0, s - 40):s])
    before = [t.low for t in raw]
    words = _phrase(body[s:e])
    nxt = tokens(body[e:e + 20])
    if (before and before[-1] in rules.unit_words) or words in {(u,) for u in rules.unit_names}:
        return "thing: a unit"
    if len(words) == 1:
        if before[-2:-1] and before[-1] in ("of", "the") and (
                before[-2] in rules.portfolio_titles or before[-3:-2] and before[-2] == "of"
                and before[-3] in rules.portfolio_titles):
            return "title fragment: a portfolio ('... of " + body[s:e] + "')"
        if nxt and nxt[0].low in rules.sub_body_heads and not nxt[0].capitalised \
                and not body[e:e + nxt[0].start].strip():
            return f"title fragment: part of '{body[s:e]} {nxt[0].text}'"
    if len(raw) >= 2 and before[-1] in rules.naming_verbs:
        noun = raw[-2].text
        if noun.isalpha() and noun.islower() and noun not in rules.function_words and noun not in rules.org_heads \
                and (noun,) not in rules.org_descriptors:
            return f"thing: a product ('{noun} {raw[-1].text} {body[s:e]}')"
    return None


@lru_cache(maxsize=4)
def _particles_regex(particles: frozenset[str]) -> re.Pattern:
    return re.compile(r"(?:\s+(?:" + "|".join(sorted(particles)) + r"))+\s+[A-Z][\w'’-]*")


def _with_particles(body: str, s: int, e: int, rules: Rules) -> int:
    """End of a person name carried over lower-case particles ("Cor van" + "der Klugt")."""
    toks = tokens(body[s:e], s)
    while len(toks) > 1 and toks[-1].low in rules.name_particles:
        toks = toks[:-1]
    end = toks[-1].end if toks else e
    m = _particles_regex(rules.name_particles).match(body, end, end + 60)
    return m.end() if m else e


def _clean_org_span(body: str, toks: list[Tok], rules: Rules) -> tuple[int, int] | None:
    """Organisation spans keep their words ("U.K. Government" is keyed government@GB by org_key); only
    leading generic words, a leading possessive country ("Russia's") and a trailing possessive go.
    A capitalised adjective opening a company name stays ("First Boston Corp", "New York Stock Exchange")."""
    if not toks:
        return None
    named = toks[-1].low in rules.legal_suffixes or toks[-1].bare in rules.org_heads

    def generic(t: Tok, nxt: Tok | None) -> bool:
        if nxt is not None and t.capitalised and nxt.capitalised and _adjacent(body, t, nxt.start) and (
                t.low == "new" or (named and t.low not in rules.function_words)):
            return False
        return t.low in rules.generic_words or t.low in rules.honorifics
    while toks and generic(toks[0], toks[1] if len(toks) > 1 else None):
        toks = toks[1:]
    if len(toks) > 1 and toks[0].possessive and (toks[0].bare,) in rules.countries:
        toks = toks[1:]
    if not toks:
        return None
    s, e = toks[0].start, toks[-1].end
    if toks[-1].possessive:
        e = s + re.search(r"['’]s?$", body[s:e]).start()
    e = s + len(body[s:e].rstrip("."))
    return (s, e) if e > s else None


def _link_orgs(body: str, cands: list[Cand], rules: Rules) -> dict[int, str]:
    """One key per organisation inside a document: a short mention takes the key of the one longer
    name it abbreviates ("NYSE", "CME", "MITI" by initials), starts ("Dominion" for "Dominion Textile
    Inc") or names by its one distinctive word ("Philips" in "NV Philips Gloeilampenfabrieken").
    Ambiguous short forms (two longer names fit) keep their own key; a longer name that is a part of
    the shorter one ("Senate Budget Committee" for "Senate") is not linked. An unanchored one-word
    PERSON that links to an organisation becomes that organisation."""
    orgs = [c for c in cands if c.source != "coref" and (c.label == "ORG" or _maybe_org(body, c))]
    # one entry per distinct (name, label, country): mentions repeat, the comparison is over names
    groups: dict[tuple, list[Cand]] = {}
    for c in orgs:
        groups.setdefault((body[c.start:c.end], c.label, c.ctx.country), []).append(c)
    entries = []
    for (text, label, country), members in groups.items():
        name = re.sub(r"^(?:[Tt]he)\s+", "", text)
        toks = tokens(name)
        core = _org_core(toks, rules)
        initials = "".join(t.text[0] for t in _org_core(toks, rules, keep_legal=True)
                           if t.capitalised and t.low not in ("and", "of", "the", "for"))
        entries.append(_OrgName([t.low for t in core], [t.text for t in core], org_key(name, country, rules),
                                initials, label, members))
    entries.sort(key=lambda x: -len(x.low))
    aliases = set(rules.org_alias.values())
    for a in entries:
        if a.own in aliases:
            continue
        if a.label == "PERSON" and len(a.low) > 1:  # a full person name only becomes an organisation it equals
            longer = [b for b in entries if b.label == "ORG" and b.low == a.low]
        else:
            longer = [b for b in entries if b is not a and b.label == "ORG" and (
                len(b.low) > len(a.low) or (len(b.low) == len(a.low) and (a.label == "PERSON" or b.low != a.low)))]
        tiers = [_abbreviates(a.low, a.raw, b, rules) if a.may_abbreviate(b) else 0 for b in longer]
        for tier in (1, 2):  # acronym or prefix first; the one distinctive (or head) word only if none fits
            fits = {b.key or b.own for b, t in zip(longer, tiers, strict=True) if t == tier}
            fits.discard(a.own)
            if fits:
                break
        if len(fits) == 1:
            a.key = fits.pop()
        if a.key or (a.label == "PERSON" and any(b.own == a.own for b in longer)):
            a.label = "ORG"
    keys: dict[int, str] = {}
    for a in entries:
        for c in a.members:
            c.label = a.label
            if a.key:
                keys[id(c)] = a.key
    return keys


@dataclass
class _OrgName:
    """A distinct organisation name of a document: core words, own key, initials, and its mentions."""

    low: list[str]
    raw: list[str]
    own: str
    initials: str
    label: str
    members: list[Cand]
    key: str | None = None
    acronyms: tuple[str, str] = ("", "")  # capitals' initials: of the words, of their hyphenated parts

    words: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        words = [w for w in self.raw if w[:1].isupper() and w.lower() not in ("and", "of", "the", "for")]
        self.acronyms = ("".join(w[0] for w in words).upper(),
                         "".join(p[0] for w in words for p in w.split("-") if p[:1].isupper()).upper())
        self.words = frozenset(self.low)

    def may_abbreviate(self, long: _OrgName) -> bool:
        """False only where :func:`_abbreviates` is 0 for certain: this name is no acronym, shares no word with
        ``long`` and is no unmarked possessive of its first word (most pairs of a document's organisations)."""
        raw, low = self.raw, self.low
        return (not long.low or not self.words.isdisjoint(long.words)
                or (len(raw) == 1 and raw[0].isupper() and 2 <= len(raw[0]) <= 6)
                or (len(low) == 1 and low[0].endswith("s") and low[0][:-1] == long.low[0]))


def _maybe_org(body: str, c: Cand) -> bool:
    """A PERSON mention that may be an organisation's name: no title or honorific, and a one-word one not
    supported by a full name of the document ("Trump" next to "Donald Trump" stays a person)."""
    if c.ctx.title or c.ctx.honorific:
        return False
    return len(tokens(body[c.start:c.end])) > 1 or not c.anchored


def _abbreviates(low: list[str], raw: list[str], long: _OrgName, rules: Rules) -> int:
    """1 when the short name (its core words) is an acronym, a prefix or an unmarked possessive of the
    long one; 2 when it is the long one's tail ("Bache Securities"), its distinctive word or its
    first/last head word ("the Bank" for "Bank of France"); else 0."""
    long_low, initials = long.low, long.initials
    if not low or long_low[-1].rstrip("s") in rules.sub_body_heads and low[-1] not in rules.sub_body_heads:
        return 0
    if len(raw) == 1 and raw[0].isupper() and 2 <= len(raw[0]) <= 6:
        acronym = raw[0].replace("&", "")
        first, parts = long.acronyms  # "American-Islamic": A and I in parts
        if len(acronym) > 1 and (acronym in (first, parts) or (
                acronym.startswith(first) and initials.upper().startswith(acronym))):
            return 1
    if len(low) == 1 and low[0].endswith("s") and low[0][:-1] == long_low[0]:
        return 1  # "Texacos" for "Texaco Inc"
    generic = rules.org_generic
    if len(low) == 1 and low[0] in generic:
        return 2 if low[0] in (long_low[0], long_low[-1]) and low[0] not in ("and", "of", "the") else 0
    if all(w in generic for w in low):
        return 0
    if long_low[:len(low)] == low:
        return 1
    if len(low) > 1 and long_low[-len(low):] == low:
        return 2
    return 2 if len(low) == 1 and low[0] in long_low and len(low[0]) > 2 else 0


@lru_cache(maxsize=4)
def _word_counts(body: str) -> Counter:
    """How often each word is written in a body (counted once per document, not per candidate)."""
    return Counter(m.group() for m in WORD.finditer(body))


def _unmarked_possessive(body: str, s: int, e: int) -> tuple[int, int]:
    """Wire copy drops apostrophes ("Pennzoils position", "Eastman Kodaks outstanding issues"): a word
    ending in s whose stem the document writes more often on its own is that stem's possessive; the
    span ends there. A leading country possessive ("Japans Ministry of ...") is context and goes."""
    rules = load_rules()
    toks = tokens(body[s:e], s)
    for k, t in enumerate(toks):
        word = t.text
        if len(word) < 4 or not word.endswith("s") or word.endswith("ss") or word.isupper() or not t.capitalised:
            continue
        stem = word[:-1]
        if k == 0 and len(toks) > 1 and (stem.lower(),) in rules.countries:
            return toks[1].start, e
        if any(r.low in rules.legal_suffixes or r.low in rules.org_heads for r in toks[k + 1:]):
            continue  # "Reuters Holdings Plc": the s belongs to a company name
        if k + 1 < len(toks) and toks[k + 1].low in rules.function_words:
            continue  # "Centers for Disease Control": the name goes on, a possessive would end it
        counts = _word_counts(body)
        if counts[stem] >= counts[word] or (stem.lower(),) in rules.countries:
            return s, t.end - 1
    return s, e


def _next_words(body: str, end: int, n: int) -> list[str]:
    """The first ``n`` words' :attr:`Tok.low` within 80 characters after ``end``."""
    words = itertools.islice(TOKEN.finditer(body, end, min(len(body), end + 80)), n)
    return [m.group().lower().rstrip(".") for m in words]


def _covered(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """True when [start, end) lies inside the union of ``spans``."""
    pos = start
    for s, e in sorted(spans):
        if s <= pos < e:
            pos = e
        if pos >= end:
            return True
    return False


def _person_parts(name: str, rules: Rules) -> tuple[str | None, str, int]:
    """(canonical first-name key, surname key, token count) of a cleaned person name."""
    parts = name_key(name).split()
    suffix = ""
    if len(parts) > 2 and parts[-1] in NAME_SUFFIXES:
        suffix = " " + parts.pop()
    if not parts:
        return None, name_key(name), 0
    surname = parts[-1] + suffix
    if len(parts) == 1:
        return None, surname, 1
    first = parts[0]
    return rules.first_name.get(first, first), surname, len(parts)


TICKER = re.compile(r"[A-Z][A-Z0-9]{0,5}(?:\.[A-Z]{1,2})?")


def _org_core(toks: list[Tok], rules: Rules, keep_legal: bool = False) -> list[Tok]:
    """The identifying words of an organisation name: without a stock ticker after the legal form
    ("Fieldcrest Cannon Inc FLD", "NV Philips PGLO.AS"), the legal form itself (Inc, Corp, NV) and
    dangling function words."""
    toks = list(toks)
    for i in range(1, len(toks) - 1):
        if toks[i].low in rules.legal_suffixes and toks[i + 1].low == "of":
            toks = toks[:i + 1]  # "Dominion Textiles Inc of Canada": the place after the legal form
            break
    while len(toks) > 2 and TICKER.fullmatch(toks[-1].text) and (
            "." in toks[-1].text[1:] or toks[-2].low in rules.legal_suffixes):
        toks.pop()
    while len(toks) > 1 and not keep_legal and (
            toks[-1].low in rules.legal_suffixes or toks[-1].low in ("and", "of", "&", "the")):
        toks.pop()
    while len(toks) > 1 and toks[0].low in ("nv", "the"):
        toks.pop(0)
    return toks


def org_key(name: str, country: str | None, rules: Rules) -> str:
    """Key of an organisation: its short-form canonical name without legal form or ticker;
    country-bound bodies carry the country."""
    toks = tokens(name)
    word = (toks[0].bare,) if toks and (toks[0].bare,) in rules.countries else _phrase(toks[0].text) if toks else ()
    if len(toks) > 1 and word in rules.countries:
        rest = name_key(name[toks[1].start:])
        if toks[0].possessive or rest in rules.generic_orgs:  # "U.K. Government" = government@GB
            name, country = name[toks[1].start:], country or rules.countries[word]
    key = re.sub(r"^the ", "", name_key(name))
    if key not in rules.org_alias:
        core = _org_core(tokens(name), rules)
        if core:
            key = re.sub(r"^the ", "", name_key(name[core[0].start:core[-1].end])) or key
    key = rules.org_alias.get(key, key)
    if key in rules.generic_orgs:
        return f"{key}@{(country or '').lower()}"
    return key


@dataclass
class Cand:
    start: int
    end: int
    label: str
    sentence_idx: int
    source: str = "ner"
    ctx: Context = field(default_factory=Context)
    anchored: bool = False
    resolved_key: str | None = None


def _sentence_of(sent_starts: list[int], pos: int) -> int:
    return max(0, bisect.bisect_right(sent_starts, pos) - 1)


def find_actor_mentions(body: str, ents: list[tuple[int, int, str]], sentences: list[tuple[int, int]],
                        place_spans: list[tuple[int, int]]) -> list[dict]:
    """Actor mentions of one document, one row per mention (schema in docs/ARCHITECTURE.md, actor_mentions).

    ``ents`` are NER spans (PERSON/ORG are used), ``sentences`` the document's sentence spans in order
    (their index is sentence_idx), ``place_spans`` toponyms found by the place module (a PERSON or ORG
    span covered by them is a place). Mentions NER missed are recovered from the document's own actors.
    """
    return [r for r in find_actor_candidates(body, ents, sentences, place_spans) if r["drop_reason"] is None]


def find_actor_candidates(body: str, ents: list[tuple[int, int, str]], sentences: list[tuple[int, int]],
                          place_spans: list[tuple[int, int]]) -> list[dict]:
    """Every PERSON/ORG candidate of one document: the actor mentions (drop_reason null) and the spans
    that are not actors, each with the stated reason (a place, a thing, a title fragment, ...), so
    analysts can see what was left out and why."""
    rules = load_rules()
    sents = sorted(sentences) or [(0, len(body))]
    sent_starts = [s for s, _ in sents]
    cands: list[Cand] = []
    dropped: list[dict] = []
    banned: dict[str, str] = {}

    def drop(s: int, e: int, label: str, reason: str) -> None:
        dropped.append(_dropped_row(body, s, e, label, _sentence_of(sent_starts, s), reason))

    teams, posts = _named_before_post(body, ents, sents, rules)
    metonyms = list(dict.fromkeys(_metonyms(body, ents, sents, rules) + teams))  # a club may be both
    spans = _legal_names(body, ents, rules) + posts
    org_names = {body[a:b] for a, b, lab in spans if lab == "ORG" and " " in body[a:b].strip()}
    sporty = _sporty(body, rules)
    for s0, e0, label in spans + metonyms:
        if label not in ("PERSON", "ORG"):
            continue
        span = _clean_span(body, s0, e0, rules, label)
        if span is None:
            drop(s0, e0, label, "generic words only")
            continue
        s, e = _unmarked_possessive(body, *span)
        if label == "PERSON":
            e = _with_particles(body, s, e, rules)
        surface = body[s:e]
        if not any(c.isupper() for c in surface) or not any(c.isalpha() for c in surface):
            drop(s, e, label, "not a name: no capital letter")
            continue
        if all(len(re.sub(r"\W", "", t.text)) <= 1 for t in tokens(surface)):
            drop(s, e, label, "not a name: initials only")
            continue
        reason = _context_reason(body, s, e, rules)
        if reason:
            drop(s, e, label, reason)
            continue
        if _phrase(surface) in rules.countries and (s0, e0, label) not in metonyms:  # a national team stays
            drop(s, e, label, "place: a country or demonym")
            continue
        words = _phrase(surface)
        if len(words) == 2 and words[0] in rules.facility_heads and re.fullmatch(r"\d+[a-z]?|[a-z]\d*", words[1]):
            drop(s, e, label, f"place: a facility ('{surface}')")
            continue
        if name_key(surface) in rules.generic_words:
            drop(s, e, label, "generic word")
            continue
        alias = rules.org_alias.get(re.sub(r"^the ", "", name_key(surface)))
        if alias is None and place_spans and _covered(place_spans, s, e) and (s0, e0, label) not in metonyms \
                and not (label == "ORG" and (sporty or _starts_an_org(surface, org_names))):
            drop(s, e, label, "place: a toponym of the document")
            continue
        nxt = _next_words(body, e, 3)
        one = _phrase(surface)
        if nxt and nxt[0] in rules.instrument_nouns and len(one) == 1 and (
                one[0] in rules.org_heads or one[0] in ("treasury", "government")):
            drop(s, e, label, f"thing: a financial instrument ('{surface} {nxt[0]}')")
            continue
        if alias is None and nxt and nxt[0] in rules.place_heads:
            drop(s, e, label, f"place: followed by '{nxt[0]}'")
            continue
        if _names_a_thing(nxt, rules):
            banned[name_key(surface)] = f"thing: followed by '{next(w for w in nxt if w in rules.non_actor_heads)}'"
            drop(s, e, label, banned[name_key(surface)])
            continue
        if label == "ORG" and _phrase(surface)[-1] in rules.non_actor_org_tails:
            drop(s, e, label, f"event or document: ends in '{_phrase(surface)[-1]}'")
            continue
        if alias is not None or (label == "PERSON" and _phrase(surface)[-1] in rules.org_heads | rules.legal_suffixes):
            label = "ORG"
        cands.append(Cand(s, e, label, _sentence_of(sent_starts, s)))
    for c in cands:
        reason = banned.get(name_key(body[c.start:c.end]))
        if reason:
            drop(c.start, c.end, c.label, reason + " elsewhere in the document")
    cands = [c for c in cands if name_key(body[c.start:c.end]) not in banned]
    _contexts(body, cands, sents, rules)
    inside = _inside_titles(cands)
    for c in inside:
        drop(c.start, c.end, c.label, "title fragment")
    cands = [c for c in cands if c not in inside]
    _relabel_and_anchor(body, cands, rules)
    cands += _recover(body, cands, sents, sent_starts, place_spans, rules)
    _contexts(body, [c for c in cands if c.source == "recovered"], sents, rules)
    _first_name_only(body, cands, rules)
    cands += _corefs(body, cands, sents, sent_starts, rules)
    cands.sort(key=lambda c: c.start)
    kept = _dedupe(cands)
    doc_keys = _link_orgs(body, kept, rules)
    rows = [_row(body, c, rules, doc_keys.get(id(c))) for c in kept]
    return sorted(rows + dropped, key=lambda r: (r["start_char"], r["drop_reason"] is not None))


def _dropped_row(body: str, s: int, e: int, label: str, sentence_idx: int, reason: str) -> dict:
    return {"start_char": s, "end_char": e, "surface": body[s:e], "label": label, "sentence_idx": sentence_idx,
            "actor_key": None, "title": None, "country_code": None, "source": "ner", "name": None,
            "first_key": None, "surname_key": None, "first_translit": None, "surname_translit": None,
            "n_tokens": 0, "honorific": None, "title_scope": None, "anchored": False, "drop_reason": reason}


def _names_a_thing(nxt: list[str], rules: Rules) -> bool:
    """"Oreshnik intermediate-range ballistic missile": a thing noun follows with only modifiers between.

    A function word in between ("Putin said the missile…") means the noun belongs to another phrase.
    """
    for k, w in enumerate(nxt):
        if w in rules.non_actor_heads:
            return True
        if w in rules.function_words or k == 2:
            return False
    return False


def _contexts(body: str, cands: list[Cand], sents: list[tuple[int, int]], rules: Rules) -> None:
    for c in cands:
        sent = sents[c.sentence_idx] if c.sentence_idx < len(sents) else (0, len(body))
        ctx = title_before(body, sent[0], c.start, c.label, rules)
        if c.label == "PERSON" and ctx.title is None:
            app = appositive(body, sent, c.start, c.end, rules)
            if app is not None:
                ctx.title, ctx.scope, ctx.country = app.title, app.scope, app.country
        if c.label == "ORG" and ctx.country and ctx.title is None and ctx.start is not None:
            c.start = ctx.start
        c.ctx = ctx


def _inside_titles(cands: list[Cand]) -> list[Cand]:
    """"Defense" (ORG) inside "Defense Minister Andrei Belousov" is part of a title, not an actor."""
    spans = [(c.ctx.start, c.start) for c in cands if c.ctx.start is not None and c.ctx.title]
    return [c for c in cands if any(s <= c.start and c.end <= e for s, e in spans)]


def _relabel_and_anchor(body: str, cands: list[Cand], rules: Rules) -> None:
    """Mark mentions supported by a full name, a title or an honorific; fix ORG labels on known surnames."""
    surnames = set()
    for c in cands:
        if c.label == "PERSON":
            first, _, n = _person_parts(body[c.start:c.end], rules)
            if n >= 2:
                surnames.add(translit_key(_person_parts(body[c.start:c.end], rules)[1]))
    for c in cands:
        name = body[c.start:c.end]
        first, surname, n = _person_parts(name, rules)
        if c.label == "ORG" and n == 1 and translit_key(surname) in surnames:
            c.label = "PERSON"
        if c.label == "ORG":
            c.anchored = True
        else:
            c.anchored = n >= 2 or bool(c.ctx.title or c.ctx.honorific) or translit_key(surname) in surnames


class _Cover:
    """Characters of a body already claimed by a mention: overlap tests cost the span, not the mention count."""

    def __init__(self, size: int, spans: list[tuple[int, int]]):
        self.mask = bytearray(size + 1)
        for s, e in spans:
            self.add(s, e)

    def add(self, s: int, e: int) -> None:
        self.mask[s:e] = b"\x01" * max(0, e - s)

    def hits(self, s: int, e: int) -> bool:
        return self.mask.find(1, s, e) != -1


_CAPITALISED = re.compile(r"\b[A-Z][\w'’\-]*")


@lru_cache(maxsize=1 << 16)
def _capitalised_word(text: str) -> tuple[str, int]:
    """A capitalised word's surname key and its length without a possessive ending ("Biden’s": 5)."""
    tok = Tok(0, len(text), text)
    length = len(re.sub(r"['’]s?$", "", text)) if POSSESSIVE.search(text) and tok.possessive else len(text)
    return translit_key(name_key(tok.bare)), length


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"  # what re's \w matches


def _occurrences(body: str, name: str):
    r"""Starts of ``name`` written as whole words, left to right without overlaps, as
    ``re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", body)`` finds them (without compiling a pattern per name)."""
    at, n = body.find(name), len(name)
    while at != -1 and n:
        if (at == 0 or not _word_char(body[at - 1])) and (at + n == len(body) or not _word_char(body[at + n])):
            yield at
            at = body.find(name, at + n)
        else:
            at = body.find(name, at + 1)


def _recover(body: str, cands: list[Cand], sents, sent_starts, place_spans, rules: Rules) -> list[Cand]:
    """Mentions NER missed: capitalised words equal (up to transliteration) to a known surname or org name."""
    taken = _Cover(len(body), [(c.start, c.end) for c in cands])
    people = {}
    for c in cands:
        if c.label == "PERSON" and c.anchored:
            _, surname, n = _person_parts(body[c.start:c.end], rules)
            if n >= 2:
                people[translit_key(surname)] = surname
    orgs = {body[c.start:c.end] for c in cands if c.label == "ORG"}
    out: list[Cand] = []
    for m in _CAPITALISED.finditer(body) if people else ():
        s, e = m.start(), m.end()
        key, length = _capitalised_word(m.group())
        if key not in people or taken.hits(s, e):
            continue
        e = s + length
        if _other_first_name(body, s, rules) or (place_spans and _covered(place_spans, s, e)):
            continue
        out.append(Cand(s, e, "PERSON", _sentence_of(sent_starts, s), "recovered", anchored=True))
        taken.add(s, e)
    for org in sorted(orgs, key=lambda o: (-len(o), o)):  # longest first ("Apple Watch" before "Apple"), and
        # a fixed order: a set's order changes with each process's string hashing, and so did the mentions
        for s in _occurrences(body, org):
            e = s + len(org)
            if taken.hits(s, e):
                continue
            out.append(Cand(s, e, "ORG", _sentence_of(sent_starts, s), "recovered", anchored=True))
            taken.add(s, e)
    return out


def _other_first_name(body: str, start: int, rules: Rules) -> bool:
    """A capitalised word right before a surname that is not a known word, title or honorific is another
    first name ("Hunter Biden" when the document knows "Joe Biden"): do not recover it. Sentence
    openers are no exception (precision first); common ones are listed in generic_words."""
    prev = tokens(body[max(0, start - 40):start], max(0, start - 40))
    if not prev or not _adjacent(body, prev[-1], start) or not prev[-1].capitalised:
        return False
    p = prev[-1]
    known = p.low in rules.honorifics or p.low in rules.generic_words or p.low in rules.function_words \
        or _phrase(p.text) in rules.titles or (p.bare,) in rules.countries or p.possessive
    return not known


LEADER_HEADS = {("president",), ("leader",), ("prime", "minister"), ("premier",), ("chancellor",),
                ("king",), ("queen",), ("supreme", "leader")}


def _corefs(body: str, cands: list[Cand], sents, sent_starts, rules: Rules) -> list[Cand]:
    """Definite descriptions ("the Russian leader", "The Ukrainian leader") of a person named earlier.

    Resolved in the document when exactly one earlier person has that country (and, among several,
    a matching office); otherwise emitted unresolved (no actor_key) for the SQL step to resolve with
    what other documents say about the document's actors.
    """
    heads = {h for h in rules.titles if h in LEADER_HEADS or len(h) == 1}
    out: list[Cand] = []
    taken = [(c.start, c.end) for c in cands]
    for m in re.finditer(r"\b[Tt]he\s+((?:[A-Z][\w.]*\s+){1,3}?)([a-z][a-z\- ]{1,30}?)\b(?!\s+[A-Z])", body):
        country_toks = tokens(m.group(1), m.start(1))
        k, country = _country_at_end(country_toks, rules)
        if not country or k != len(country_toks):
            continue
        head = _phrase(m.group(2))
        if head not in heads or rules.titles.get(head) != "national":
            continue
        s, e = m.start(1), m.end(2)
        if any(a < e and s < b for a, b in taken):
            continue
        earlier = [c for c in cands if c.label == "PERSON" and c.start < s and c.resolved_key is None]
        keys: dict[str, set[tuple[str, ...]]] = {}
        for c in earlier:
            key = _person_key(body[c.start:c.end], rules)
            if c.ctx.country == country:
                keys.setdefault(key, set()).add(_phrase(c.ctx.title or "")[-1:])
        if len(keys) > 1:
            keys = {k2: v for k2, v in keys.items()
                    if head[-1:] in v or (head in LEADER_HEADS and v & LEADER_HEADS)}
        cand = Cand(s, e, "PERSON", _sentence_of(sent_starts, s), "coref", anchored=True,
                    ctx=Context(title=body[s:e], scope="national", country=country, start=s))
        if len(keys) == 1:
            key = next(iter(keys))
            donor = next(c for c in earlier if _person_key(body[c.start:c.end], rules) == key and
                         c.ctx.country == country)
            cand.resolved_key = _display_name(body, donor, cands, rules)
        out.append(cand)
    return out


def _first_name_only(body: str, cands: list[Cand], rules: Rules) -> None:
    """A one-word person mention that is the first name of exactly one full name in the document, and
    nobody's surname there ("Asher" after "Asher Edelman"), refers to that person."""
    full: dict[str, set[str]] = {}
    surnames = set()
    for c in cands:
        if c.label == "PERSON" and c.source == "ner":
            parts = name_key(body[c.start:c.end]).split()
            if len(parts) >= 2:
                full.setdefault(parts[0], set()).add(body[c.start:c.end])
                surnames.add(parts[-1])
    for c in cands:
        word = name_key(body[c.start:c.end])
        if c.label == "PERSON" and " " not in word and word not in surnames and len(full.get(word, ())) == 1:
            c.resolved_key = next(iter(full[word]))


def _person_key(name: str, rules: Rules) -> str:
    _, surname, _ = _person_parts(name, rules)
    return translit_key(surname)


def _display_name(body: str, donor: Cand, cands: list[Cand], rules: Rules) -> str:
    """The fullest written name of the donor's person in this document (for a coref row's features)."""
    key = _person_key(body[donor.start:donor.end], rules)
    names = [body[c.start:c.end] for c in cands if c.label == "PERSON" and
             _person_key(body[c.start:c.end], rules) == key]
    return max(names, key=lambda n: (len(tokens(n)), names.count(n)))


def _dedupe(cands: list[Cand]) -> list[Cand]:
    out: list[Cand] = []
    for c in sorted(cands, key=lambda c: (c.start, -(c.end - c.start))):
        if out and c.start < out[-1].end:
            continue
        out.append(c)
    return out


def _row(body: str, c: Cand, rules: Rules, doc_key: str | None = None) -> dict:
    surface = body[c.start:c.end]
    name = c.resolved_key if c.source == "coref" or c.resolved_key else surface
    if c.source == "coref" and name is None:
        first = surname = None
        n = 0
    else:
        first, surname, n = _person_parts(name, rules) if c.label == "PERSON" else (None, None, 0)
    if c.label == "ORG":
        key = doc_key or org_key(name, c.ctx.country, rules)
        display = re.sub(r"^(?:[Tt]he)\s+", "", name)
    elif name is None:
        key, display = None, None
    else:
        key, display = name_key(name), name
    return {
        "start_char": c.start,
        "end_char": c.end,
        "surface": surface,
        "label": c.label,
        "sentence_idx": c.sentence_idx,
        "actor_key": key,
        "title": c.ctx.title,
        "country_code": c.ctx.country,
        "source": c.source,
        "name": display,
        "first_key": first,
        "surname_key": surname,
        "first_translit": translit_key(first) if first else None,
        "surname_translit": translit_key(surname) if surname else None,
        "n_tokens": n,
        "honorific": c.ctx.honorific,
        "title_scope": c.ctx.scope,
        "anchored": c.anchored,
        "drop_reason": None,
    }
