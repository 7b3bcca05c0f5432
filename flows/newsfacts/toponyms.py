"""Find toponym candidates in a body, independently of NER labels.

spaCy's small model tags many places as PERSON/ORG/PRODUCT or misses them, so recall comes from a
gazetteer-backed matcher over capitalised token n-grams; NER spans are used as evidence (GPE/LOC add
spans, PERSON/ORG/NORP veto names of people and organisations that happen to be places). The output rows
are the `toponym_mentions` table (minus doc_id); resolution to places happens in SQL.

Row columns: start_char, end_char, surface, sentence_idx, name_key, translit_key, qualifier
('region' | 'county' | None), context_key (key of a containing place from "X, Y", "X in Y", "Y's X"),
source ('gazetteer' | 'ner' | 'span'), ner_label.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from newsfacts import names

# Tokens and candidate spans repeat within and across documents: memoise the pure key functions.
name_key = lru_cache(maxsize=1 << 17)(names.name_key)
translit_key = lru_cache(maxsize=1 << 17)(names.translit_key)

CITY_MIN_POPULATION = 5000
STRONG_CITY_POPULATION = 100_000

REGION_WORDS = {"region", "regions", "oblast", "oblasts", "province", "provinces", "krai", "kray", "state",
                "governorate", "governorates", "prefecture", "prefectures", "territory", "voivodeship",
                "republic"}
PLURAL_REGION_WORDS = {"regions", "oblasts", "provinces", "states", "governorates", "prefectures"}
COUNTY_WORDS = {"county", "counties", "parish", "parishes", "borough"}
PREFIX_REGION = re.compile(r"(?:(?:the\s+)?(?:Republic|State|Province|Region|Oblast)\s+of\s+)$")
CONNECTORS = {"of", "de", "del", "la", "le", "du", "da", "do", "upon", "on", "sur", "en", "am", "an", "y",
              "a", "the", "and"}
TITLES = {"mr", "mrs", "ms", "miss", "dr", "president", "governor", "gov", "senator", "sen", "rep",
          "representative", "minister", "general", "gen", "mayor", "judge", "officer", "sheriff",
          "chief", "coach", "pope", "king", "queen", "prince", "princess", "lord", "lady", "sir", "dame",
          "commissioner", "councilman", "councilwoman", "deputy", "detective", "sgt", "sergeant", "lt",
          "captain", "capt", "col", "colonel", "major", "admiral", "secretary", "chancellor", "premier",
          "ambassador", "envoy", "spokesman", "spokeswoman", "analyst", "professor", "prof", "rev",
          "father", "bishop", "patriarch", "attorney", "trooper", "justice", "superintendent",
          "principal", "director", "manager", "chairman", "chairwoman", "ceo", "speaker", "leader"}
# Capitalised words that are (also) towns but, in news prose, nearly always mean something else.
STOPWORDS = {
    "north", "south", "east", "west", "northern", "southern", "eastern", "western", "central", "midwest",
    "northeast", "northwest", "southeast", "southwest", "upper", "lower", "new", "old", "great", "greater",
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "kremlin", "white house", "pentagon", "capitol", "congress", "senate", "parliament", "downing street",
    "god", "christmas", "easter", "internet", "president", "government", "city", "state", "county",
    "university", "college", "school", "church", "hospital", "police", "court", "airport", "station",
    "center", "centre", "park", "lake", "river", "street", "road", "avenue", "mount", "union", "federal",
    "national", "international", "republic", "democrat", "democrats", "republican", "republicans",
    "independence", "liberty", "victory", "justice", "mobile", "reading", "chance", "hope", "unity",
    "soviet", "allied", "allies", "arab", "latin", "oriental", "atlantic", "pacific", "telegram", "x",
}
_TOKEN = re.compile(r"(?:[A-Z]\.){2,}|[^\W\d_]+(?:['’](?!s\b)[^\W\d_]+)*")
_ABBREV_DOT = {"st", "mt", "ft", "pt", "ste"}
_SENT_END = re.compile(r"(?:^|[.!?:;]['\"’”)\]]*\s+|\n\s*|[\"“‘']\s*)$")
_IN_PHRASE = re.compile(r"^\s+(?:in|near|outside|of|at|from)\s+(?:the\s+)?"
                        r"(?:(?:north|south|east|west|central|northern|southern|eastern|western|"
                        r"north-?eastern|north-?western|south-?eastern|south-?western|northeast|northwest|"
                        r"southeast|southwest)\s+)?$", re.I)


@dataclass
class Lookup:
    """Keys worth matching without NER support, built once per run from the gazetteer."""

    strength: dict[str, int] = field(default_factory=dict)   # name_key -> 2 strong, 1 weak
    translit: dict[str, int] = field(default_factory=dict)   # translit_key -> 2 strong, 1 weak
    region_keys: set[str] = field(default_factory=set)       # keys of first-level regions
    county_keys: set[str] = field(default_factory=set)
    context_keys: set[str] = field(default_factory=set)      # countries, regions, state abbreviations
    demonyms: set[str] = field(default_factory=set)
    lands: set[str] = field(default_factory=set)             # names of countries and continents

    def get(self, key: str, tkey: str) -> int:
        return self.strength.get(key) or self.translit.get(tkey, 0)


def load_lookup(gaz_con, min_population: int = CITY_MIN_POPULATION) -> Lookup:
    """Load the matcher's keys from an open gazetteer connection (`gaz.` tables if attached)."""
    prefix = _gaz_prefix(gaz_con)
    rows = gaz_con.execute(f"""
        select n.name_key, n.translit_key, p.kind, n.name_type,
               max(case when p.kind in ('country', 'continent')
                              and n.name_type not in ('abbreviation', 'historic')
                         or p.kind = 'region' and n.name_type not in ('abbreviation', 'historic')
                              and (p.population = 0 or p.population >= {STRONG_CITY_POPULATION})
                         or (p.kind = 'city' and p.population >= {STRONG_CITY_POPULATION}
                             and n.name_type in ('official', 'alternate')) then 2 else 1 end) as strength
        from {prefix}place_name n join {prefix}place p using (place_id)
        where p.kind <> 'city' or p.population >= {int(min_population)}
        group by all""").fetchall()
    lk = Lookup()
    land_names = set()
    for key, tkey, kind, ntype, strength in rows:
        if kind in ("country", "continent") and ntype in ("official", "alternate", "ascii"):
            land_names.add(key)
        if ntype == "abbreviation":
            lk.context_keys.add(key)
            continue
        if ntype in ("demonym", "short"):
            continue
        if kind in ("country", "region", "continent"):
            lk.context_keys.add(key)
        if kind == "region":
            lk.region_keys.add(key)
        if kind == "other":
            # second-level units worldwide ("Ås", "Paris" the department) are matched when their own name
            # says what they are ("Edgar County", "Rapides Parish") or NER calls them a place
            if key.split()[-1] in COUNTY_WORDS:
                lk.county_keys.add(key)
            else:
                continue
        if len(key) < 2:
            continue
        lk.strength[key] = max(lk.strength.get(key, 0), strength)
        if len(tkey) >= 5:
            lk.translit[tkey] = max(lk.translit.get(tkey, 0), strength if ntype != "historic" else 1)
    # a nationality written as the land's name ("UK", "New Zealand", "Hong Kong" in aigeodb) is the land
    lk.demonyms = _demonyms() - land_names
    lk.lands = land_names
    return lk


def _gaz_prefix(con) -> str:
    dbs = {r[0] for r in con.execute("select database_name from duckdb_databases()").fetchall()}
    return "gaz." if "gaz" in dbs else ""


def _demonyms() -> set[str]:
    """Nationality adjectives (Russian, Ukrainian, Belarusian): never places themselves."""
    from newsfacts.gazetteer import aigeodb_connection

    with aigeodb_connection("countries.sqlite3") as c:
        nat = [r[0] for r in c.execute("select nationality from countries where nationality is not null")]
    out = set()
    for n in nat:
        for part in re.split(r"[,/]| or ", n):
            k = name_key(part)
            if k:
                out.add(k)
    out |= {"european", "american", "african", "asian", "soviet", "western", "eastern", "arab", "latino",
            "hispanic", "ukrainian", "russian", "belarusian", "british", "english", "kurdish", "jewish",
            "muslim", "christian", "catholic", "orthodox", "nordic", "baltic", "balkan", "slavic"}
    return out


@dataclass(slots=True)
class _Tok:
    start: int
    end: int
    text: str
    key: str
    cap: bool
    initial: bool


_token_key = lru_cache(maxsize=1 << 16)(name_key)  # the same words recur across a batch of documents


def _tokens(body: str, sentence_starts: Sequence[int] | None) -> list[_Tok]:
    """Word tokens; only capitalised ones can start a name, so only they need the sentence-start test."""
    starts = set(sentence_starts or [])
    out = []
    for m in _TOKEN.finditer(body):
        text = m.group(0)
        cap = text[0].isupper()
        out.append(_Tok(m.start(), m.end(), text, _token_key(text), cap, cap and _is_initial(body, m.start(), starts)))
    return out


def _is_initial(body: str, pos: int, starts: set[int]) -> bool:
    """Sentence-initial (after optional opening quotes): capitals there say nothing about names."""
    p = pos
    while p > 0 and body[p - 1] in " \"“‘'(":
        p -= 1
    if p == 0 or body[p - 1] == "\n" or p in starts:
        return True
    return not starts and body[p - 1] in ".!?:;"


def _gap_ok(body: str, a: _Tok, b: _Tok) -> bool:
    gap = body[a.end:b.start]
    if gap in (" ", "-", "–"):
        return True
    return (gap in (". ", ".") and a.key in _ABBREV_DOT) or (gap == "" and a.text.endswith("."))


def _ent_index(ents: Iterable[tuple[int, int, str]]):
    ents = sorted(ents)
    return ents, [e[0] for e in ents]


def _label_at(ents, starts, s: int, e: int) -> tuple[str | None, tuple[int, int] | None]:
    """Label of the NER entity overlapping [s, e), preferring one that covers it."""
    best: tuple[str | None, tuple[int, int] | None] = (None, None)
    for es, ee, lab in ents[max(0, bisect.bisect_left(starts, s - 300)):bisect.bisect_right(starts, e)]:
        if es < e and ee > s:
            if es <= s and ee >= e:
                return lab, (es, ee)
            best = (lab, (es, ee))
    return best


def find_toponyms(body: str, ents: list[tuple[int, int, str]], lookup: Lookup,
                  sentences: Sequence[tuple[int, int]] | None = None) -> list[dict]:
    """Toponym candidate rows for one document.

    `ents` are NER spans (start, end, label) in body offsets; `sentences` optional (start, end) pairs in
    document order, used for sentence_idx and to spot sentence-initial capitals.
    """
    sent_starts = [s for s, _ in sentences] if sentences else None
    toks = _tokens(body, sent_starts)
    ents_sorted, ent_starts = _ent_index(ents)
    person_keys, refused = _people(body, toks, ents_sorted, lookup)
    org_keys = {translit_key(body[s:e]) for s, e, lab in ents_sorted if lab in ("ORG", "NORP")}

    cands: list[dict] = []
    i = 0
    while i < len(toks):
        t = toks[i]
        if not t.cap or t.key in CONNECTORS:
            i += 1
            continue
        found = None
        for n in range(min(6, len(toks) - i), 0, -1):
            span = toks[i:i + n]
            if not span[-1].cap or any(not _gap_ok(body, a, b) for a, b in zip(span, span[1:], strict=False)):
                continue
            if any(not x.cap and x.key not in CONNECTORS for x in span):
                continue
            surface = body[span[0].start:span[-1].end]
            key = name_key(surface)
            if n > 1 and key in lookup.county_keys:
                found = (n, key, surface)
                break
            if lookup.get(key, translit_key(surface)) or (n == 1 and _designator_after(body, span[-1].end)):
                found = (n, key, surface)
                break
        if found is None:
            i += 1
            continue
        n, key, surface = found
        span = toks[i:i + n]
        cands.append(dict(start_char=span[0].start, end_char=span[-1].end, surface=surface, name_key=key,
                          translit_key=translit_key(surface), qualifier=None, context_key=None,
                          source="gazetteer", initial=span[0].initial, ntok=n, tok_index=i))
        i += n

    _add_ner_spans(body, cands, ents_sorted)
    cands.sort(key=lambda c: c["start_char"])
    _qualify(body, cands, lookup)
    diseases = _disease_names(body, cands, lookup)
    lower_words = set(_LOWER_WORD.findall(body))
    kept = [c for c in cands if _accept(c, body, ents_sorted, ent_starts, lookup, person_keys, refused,
                                        org_keys, cands) and not _not_a_place(c, body, diseases, lower_words, lookup)]
    _contexts(body, kept, lookup)
    out = []
    for c in kept:
        s = bisect.bisect_right(sent_starts, c["start_char"]) - 1 if sent_starts else None
        out.append(dict(start_char=c["start_char"], end_char=c["end_char"],
                        surface=body[c["start_char"]:c["end_char"]], sentence_idx=s,
                        name_key=c["name_key"], translit_key=c["translit_key"], qualifier=c["qualifier"],
                        context_key=c["context_key"], source=c["source"], ner_label=c.get("ner_label")))
    return out


# a name followed (within two words) by one of these is a disease or its agent ("Marburg hemorrhagic fever",
# "Reston ebolavirus", "Rift Valley fever", "Swine Flu"), not the place it was named after
_DISEASE_AFTER = re.compile(r"(?:[\s-]+(?!(?:for|of|and|the|in|on|to)\b)[A-Za-z]+){0,2}?[\s-]+"
                            r"(?:virus|viruses|ebolavirus|fever|flu|influenza|disease|syndrome|Virus|Fever|Flu)\b")
_LOCATIVE_BEFORE = re.compile(r"\b(?:in|at|near|from|to|outside|around|of)\s+(?:the\s+)?$", re.I)
_CONTRACTION = re.compile(r"['’](?:ve|ll|re|d|m|t)$", re.I)
_LOWER_WORD = re.compile(r"(?<![\w'’-])[a-z]+(?![\w'’-])")
# a name NER calls a person or an organisation, followed by a role held in it or a relative ("Delta spokesman",
# "Marseille coach", "Guerrero's wife"), is that body or person, not the place it shares a name with
_ROLE_AFTER = re.compile(r"(?:\s*['’]s)?\s+(?:spokesm[ae]n|spokeswom[ae]n|spokesperson|coach|manager|chairman|"
                         r"chairwoman|chief executive|CEO|wife|husband|son|daughter|father|mother|brother|sister|"
                         r"lawyer|attorney|agent|shares|stock)\b")


def _disease_names(body: str, cands: list[dict], lookup: Lookup) -> set[str]:
    """Keys of the names the document uses as a disease's name (a country named in a disease's name,
    "Turkey bird flu", stays a place)."""
    return {c["name_key"] for c in cands if c["qualifier"] is None and _DISEASE_AFTER.match(body, c["end_char"])
            and c["name_key"] not in lookup.lands}


def _not_a_place(c: dict, body: str, diseases: set[str], lower_words: set[str], lookup: Lookup) -> bool:
    """General reasons a capitalised name is no place here: a contraction ("I've"), a word in lower case
    ("swan"), a disease's name (then every mention of that name in the document, unless the text places it:
    "in Marburg", "Reston, Virginia"), or a weak single word the document also writes in lower case as a
    common word ("Human infection ... human cases")."""
    if c["source"] == "span":
        return False
    surface = c["surface"]
    if _CONTRACTION.search(surface) or surface == surface.lower():
        return True
    if c["name_key"] in diseases and c["qualifier"] is None and c["context_key"] is None \
            and not _LOCATIVE_BEFORE.search(body[max(0, c["start_char"] - 20):c["start_char"]]):
        return True
    weak = lookup.get(c["name_key"], c["translit_key"]) != 2
    if weak and c["ner_label"] not in ("GPE", "LOC") and _inside_longer_name(c, body, lookup):
        return True
    return c.get("ntok") == 1 and " " not in surface and surface.lower() in lower_words and weak


_PREV_CAP = re.compile(r"(?:^|[^\w.'’])([A-Z][a-z]+)(?:['’]s)?\s$")
_NEXT_RUN = re.compile(r"(?:\s[A-Z][\w&-]*){0,3}?\s(?:Hospital|University|College|School|Institute|Games|"
                       r"Company|Corporation|Inc|LLC|Ltd|Disorder|Resistant)\b")


def _inside_longer_name(c: dict, body: str, lookup: Lookup) -> bool:
    """A weak name inside a longer proper name: after a capitalised word that is not sentence-initial and no
    place or designator itself ("Royal Free", "Agent Orange", "Children's Villages"), or before capitalised
    words that end in an institution's or a thing's head noun ("Michigan State University")."""
    if _NEXT_RUN.match(body, c["end_char"]):
        return True
    m = _PREV_CAP.search(body[max(0, c["start_char"] - 30):c["start_char"]])
    if not m:
        return False
    word = m.group(1)
    key = name_key(word)
    before = body[:c["start_char"] - len(m.group(0)) + (m.group(0)[0] not in word[:1])].rstrip()
    initial = not before or before[-1] in ".!?:;\"“”\n"
    return not initial and key not in STOPWORDS and key not in TITLES and key not in CONNECTORS \
        and key not in lookup.strength and key not in lookup.context_keys


def _designator_after(body: str, end: int) -> bool:
    m = re.match(r"\s+([A-Za-z]+)", body[end:end + 20])
    return bool(m) and m.group(1).lower() in (REGION_WORDS | PLURAL_REGION_WORDS) - {"state", "republic"}


def _people(body, toks, ents, lookup) -> tuple[set[str], list[tuple[int, int]]]:
    """Surnames (translit keys) and char ranges that belong to people, from NER and titles."""
    surnames: set[str] = set()
    refused: list[tuple[int, int]] = []
    for s, e, lab in ents:
        if lab != "PERSON":
            continue
        words = _TOKEN.findall(body[s:e])
        while words and (words[0].lower() in TITLES or _common_word(name_key(words[0]))):
            words = words[1:]
        if len(words) >= 2 and lookup.strength.get(name_key(" ".join(words))) != 2 \
                and words[-1].lower() not in REGION_WORDS | COUNTY_WORDS:
            refused.append((s, e))
            if lookup.strength.get(name_key(words[-1])) != 2:
                surnames.add(translit_key(words[-1]))
    for j0, (a, b) in enumerate(zip(toks, toks[1:], strict=False)):
        if a.key in TITLES and b.cap and body[a.end:b.start] in (" ", ". "):
            j = j0 + 1
            while j < len(toks) and toks[j].cap and body[toks[j - 1].end:toks[j].start] in (" ", ". "):
                refused.append((toks[j].start, toks[j].end))
                if lookup.strength.get(toks[j].key) != 2:
                    surnames.add(translit_key(toks[j].text))
                j += 1
    return surnames, refused


def _add_ner_spans(body, cands, ents) -> None:
    """GPE/LOC spans the gazetteer matcher missed become candidates too (resolution decides)."""
    taken = [(c["start_char"], c["end_char"]) for c in cands]
    for s, e, lab in ents:
        if lab not in ("GPE", "LOC"):
            continue
        text = body[s:e]
        m = re.match(r"(?i)the\s+", text)
        if m:
            s += m.end()
            text = body[s:e]
        text2 = re.sub(r"['’]s$", "", text)
        e = s + len(text2)
        if not text2 or any(a < e and b > s for a, b in taken):
            continue
        cands.append(dict(start_char=s, end_char=e, surface=text2, name_key=name_key(text2),
                          translit_key=translit_key(text2), qualifier=None, context_key=None, source="ner",
                          initial=False, ntok=len(_TOKEN.findall(text2)), tok_index=None, ner_label=lab))


def _qualify(body: str, cands: list[dict], lookup: Lookup) -> None:
    """Region/county phrases: "Donetsk Oblast", "the Zaporizhzhia region", "Luhansk and Donetsk regions"."""
    for i, c in enumerate(cands):
        tail = body[c["end_char"]:c["end_char"] + 20]
        m = re.match(r"\s+([A-Za-z]+)\b", tail)
        word = m.group(1) if m else ""
        low = word.lower()
        if low in REGION_WORDS | PLURAL_REGION_WORDS and not (low == "state" and word == "state"
                                                                and c["name_key"] not in lookup.region_keys):
            c["qualifier"] = "region"
            c["end_char"] += m.end()
            if low in PLURAL_REGION_WORDS:
                _propagate_back(body, cands, i, "region")
        elif low in COUNTY_WORDS or word == "Co" and tail[m.end():m.end() + 1] == ".":
            c["qualifier"] = "county"
            c["end_char"] += m.end() + (word == "Co")
            c["name_key"] = f"{c['name_key']} {'parish' if low.startswith('parish') else 'county'}"
            c["translit_key"] = translit_key(c["name_key"])
            if low in ("counties", "parishes"):
                _propagate_back(body, cands, i, "county")
        elif PREFIX_REGION.search(body[max(0, c["start_char"] - 25):c["start_char"]]):
            c["qualifier"] = "region"
        if c["name_key"] in lookup.county_keys and c["qualifier"] is None:
            c["qualifier"] = "county"


def _propagate_back(body, cands, i, qualifier) -> None:
    j = i
    while j > 0:
        gap = body[cands[j - 1]["end_char"]:cands[j]["start_char"]]
        if not re.fullmatch(r",?\s*(?:and|or|&)?\s*|,\s*", gap):
            break
        j -= 1
        cands[j]["qualifier"] = qualifier
        if qualifier == "county":
            cands[j]["name_key"] = f"{cands[j]['name_key']} county"
            cands[j]["translit_key"] = translit_key(cands[j]["name_key"])


def _accept(c, body, ents, ent_starts, lookup, person_keys, refused, org_keys, cands) -> bool:
    """Refuse people, organisations, demonyms and common words; keep anything with place evidence."""
    s, e = c["start_char"], c["end_char"]
    key, tkey = c["name_key"], c["translit_key"]
    label, lspan = _label_at(ents, ent_starts, s, e)
    c["ner_label"] = c.get("ner_label") or label
    strength = lookup.get(key, tkey)
    if not key or key in STOPWORDS or key in lookup.demonyms or len(key) < 2:
        return False
    if c["surface"].isupper() and len(c["surface"]) > 1 and strength != 2:
        return False
    if any(a <= s and b >= min(e, s + len(c["surface"])) for a, b in refused) and c["qualifier"] is None:
        return False
    if tkey in person_keys and c["qualifier"] is None and c["ntok"] == 1:
        return False
    if c["qualifier"] or c["source"] == "ner" or label in ("GPE", "LOC"):
        return True
    if label == "NORP":
        return False
    if c["ntok"] == 1 and strength != 2 and (_common_word(key) or key in TITLES):
        return False
    if label in ("PERSON", "ORG") and _ROLE_AFTER.match(body, e):
        return False
    if label == "PERSON":
        return strength == 2 or _coordinated(body, c, cands)
    if label in ("ORG", "FAC") or tkey in org_keys:
        single = lspan is not None and lspan[0] >= s - 4 and lspan[1] <= e + 2
        if single or tkey in org_keys:
            return strength == 2
        return strength == 2 or key in lookup.county_keys
    return strength >= 1


def _coordinated(body, c, cands) -> bool:
    """"Krasnoarmeysk and Dimitrov": a name coordinated with another candidate is a place too."""
    for o in cands:
        if o is c:
            continue
        gap = body[o["end_char"]:c["start_char"]] if o["end_char"] <= c["start_char"] \
            else body[c["end_char"]:o["start_char"]]
        if re.fullmatch(r",?\s+(?:and|or)\s+|,\s+", gap) and lookup_strength_hint(o):
            return True
    return False


def lookup_strength_hint(c) -> bool:
    return c["source"] in ("gazetteer", "ner")


_COMMON: set[str] | None = None


def _common_word(key: str) -> bool:
    global _COMMON
    if _COMMON is None:
        from spacy.lang.en.stop_words import STOP_WORDS
        _COMMON = set(STOP_WORDS) | STOPWORDS | {"top", "one", "two", "air", "analysts", "locals", "yet",
                                                  "despite", "after", "before", "speaking", "reporting"}
    return key in _COMMON


def _contexts(body: str, cands: list[dict], lookup: Lookup) -> None:
    """context_key from "X, Y" (Y a country/region/state abbreviation), "X in [the] [eastern] Y",
    "Y's X" and "Y's Z ... X in Z"; coordinated X's ("A and B in Y") share it."""
    for i, c in enumerate(cands):
        nxt = cands[i + 1] if i + 1 < len(cands) else None
        gap = body[c["end_char"]:nxt["start_char"]] if nxt else ""
        after_comma = nxt and re.fullmatch(r",\s*", gap) and nxt["name_key"] in lookup.context_keys
        if after_comma or (nxt and _IN_PHRASE.match(gap)):
            c["context_key"] = _most_specific(body, cands, i + 1)
        if c["context_key"] is None and not nxt:
            tail = body[c["end_char"]:c["end_char"] + 12]
            m = re.match(r",\s*((?:[A-Z][a-z]{0,4}\.\s?){1,2}|[A-Z]{2}\b)", tail)
            if m and name_key(m.group(1)) in lookup.context_keys:
                c["context_key"] = name_key(m.group(1))
        if c["context_key"] is None and nxt is not None:
            m = re.match(r",\s*((?:[A-Z][a-z]{0,4}\.\s?){1,2})", gap)
            if m and name_key(m.group(1)) in lookup.context_keys:
                c["context_key"] = name_key(m.group(1))
        if c["context_key"] is None and i > 0:
            prev = cands[i - 1]
            pgap = body[prev["end_char"]:c["start_char"]]
            if re.fullmatch(r"['’]s\s+", pgap) and prev["name_key"] in lookup.context_keys:
                c["context_key"] = prev["name_key"]
        if c["context_key"]:
            j = i
            while j > 0 and re.fullmatch(r",?\s+(?:and|or)\s+|,\s+",
                                         body[cands[j - 1]["end_char"]:cands[j]["start_char"]]):
                j -= 1
                if cands[j]["context_key"] is None:
                    cands[j]["context_key"] = c["context_key"]


def _most_specific(body: str, cands: list[dict], j: int) -> str:
    """For "Ukraine's Donetsk region" return the key of Donetsk (the innermost container)."""
    while j + 1 < len(cands) and re.fullmatch(
            r"['’]s\s+", body[cands[j]["end_char"]:cands[j + 1]["start_char"]]):
        j += 1
    return cands[j]["name_key"]


_SENTENCE_BREAK = re.compile(r"(?<=[.!?])[\"')\u201d\u2019]*\s+(?=[\"'(\u201c\u2018]*[A-Z0-9])|\n+")


def _sentence_index(body: str, start: int) -> int:
    """Which sentence of `body` a given span starts in (a plain punctuation split; paragraphs break too), so
    a name the gazetteer lacks can be placed at a town named in the same sentence."""
    return len(_SENTENCE_BREAK.findall(body, 0, start + 1))


def mention_from_span(body: str, start: int, end: int, lookup: Lookup | None = None) -> dict:
    """A toponym row for a given span (geocode with spans): keys, qualifier and context from around it."""
    surface = body[start:end]
    key = name_key(surface)
    toks = key.split()
    qualifier = None
    known = lookup is not None and key in lookup.strength
    stem = " ".join(toks[:-1])
    if len(toks) > 1 and toks[-1] in REGION_WORDS | PLURAL_REGION_WORDS and (
            not known or (lookup is not None and stem in lookup.region_keys)):
        qualifier, key = "region", stem
    elif known:
        pass
    elif len(toks) > 1 and (toks[-1] in COUNTY_WORDS or toks[-1] == "co" and surface.endswith("Co.")):
        qualifier = "county"
        key = " ".join(toks[:-1] + ["county" if toks[-1] == "co" else toks[-1]])
    elif _designator_after(body, end):
        qualifier = "region"
    context = None
    if lookup is not None:
        m = re.match(r",\s*((?:[A-Z][a-z]{0,4}\.\s?){1,2}|[A-Z][\w.]*(?:\s[A-Z][\w.]*)?)",
                     body[end:end + 30])
        if m:
            for cand in (m.group(1), m.group(1).split()[0]):
                if name_key(cand) in lookup.context_keys:
                    context = name_key(cand)
                    break
    return dict(start_char=start, end_char=end, surface=surface, sentence_idx=_sentence_index(body, start),
                name_key=key,
                translit_key=translit_key(surface if qualifier != "region" else key), qualifier=qualifier,
                context_key=context, source="span", ner_label=None)
