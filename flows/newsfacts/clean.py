"""Text or HTML to a clean article: title, body paragraphs, language and page metadata.

HTML goes through trafilatura first; plain text (which trafilatura refuses) goes straight to our rules.
The rules live as reviewed data in `rules/boilerplate.toml`; this module only knows the rule kinds
(line, tail, block) plus three structural rules that no regex can express: the header zone of plain
text (title, labels, source line), paragraphs repeated in one document, and the title repeated in the
body. Everything here is a pure function of its arguments except `clean_file`, which reads a file.
"""

from __future__ import annotations

import contextlib
import re
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lxml import etree

from newsfacts.encoding import BadInput, decode, read_payload, repair, residual_damage, sniff_media_type

__all__ = ["Rule", "load_rules", "clean_text", "clean_file", "find_title", "BadInput"]

RULES_PATH = Path(__file__).with_name("rules") / "boilerplate.toml"
_WORD = re.compile(r"\w+")
_CLOSERS = "\"'”’»)]*"
_SENTENCE_END = ".,;:…"
_TEASER_MAX_WORDS = 60
_HEADLINE_MAX_WORDS = 30
_HEADLINE_MAX_CHARS = 300
_REPEAT_MAX_GAP = 3
_BLOCK_MAX_HEADLINES = 6
_PRECISION_MIN_SHARE = 1 / 3
_LANGUAGE_SAMPLE_CHARS = 3000
# Capitalised words (names), numbers and PTB bracket tokens: shared across languages, they only mislead the
# language classifier, which calls a name-heavy English sentence Nigerian Pidgin or Bikol.
_NAME_LIKE = re.compile(r"\b[A-Z][\w'’.-]*|\d[\d,.:/-]*|-[LR]RB-|``|''")
_LETTER_WORD = re.compile(r"[^\W\d_]{2,}")
_BULLET = re.compile(r"^[-–—•*·▪►]\s")
_MONTHS = (r"jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?")
_DATELINE = re.compile(
    rf"^(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?(?:\d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}|\d{{1,2}}\s+(?:{_MONTHS})\.?"
    rf",?\s+\d{{4}}|(?:{_MONTHS})\.?\s+\d{{1,2}},?\s+\d{{4}})(?:[,\s]+(?:at\s+)?\d{{1,2}}[:.]\d{{2}}(?:\s*[ap]\.?m\.?)?"
    rf"(?:\s*[A-Z]{{2,4}})?)?$",
    re.I,
)
_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_BYLINE = re.compile(r"^[Bb]y\s+([A-Z][\w.'’-]+(?:\s+(?:[A-Z][\w.'’-]+|and|&|de|van|von|al))*)\s*$")


@dataclass(frozen=True)
class Rule:
    """One boilerplate rule from the rules file (see its header for the meaning of each field)."""

    id: str
    kind: str
    pattern: re.Pattern
    max_words: int
    max_tail_share: float
    why: str
    example: str


@lru_cache(maxsize=4)
def load_rules(path: Path = RULES_PATH) -> tuple[Rule, ...]:
    """Parse and compile the rules file once; a malformed rule fails loudly at import-time use."""
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = []
    for r in data["rule"]:
        if r["kind"] not in ("line", "tail", "block"):
            raise ValueError(f"rule {r['id']}: unknown kind {r['kind']!r}")
        flags = 0 if r.get("case") else re.IGNORECASE
        rules.append(Rule(r["id"], r["kind"], re.compile(r["pattern"], flags), int(r.get("max_words", 40)),
                          float(r.get("max_tail_share", 0.5)), r["why"], r["example"]))
    ids = [r.id for r in rules]
    if len(ids) != len(set(ids)):
        raise ValueError("duplicate rule ids in the rules file")
    return tuple(rules)


def _toks(s: str | None) -> list[str]:
    return [t.casefold() for t in _WORD.findall(s or "")]


def _nwords(s: str) -> int:
    return len(s.split())


def _is_headline_like(p: str) -> bool:
    """Short, and not ending like a sentence: headlines, subheads, labels, captions without a period."""
    if not p or _nwords(p) > _HEADLINE_MAX_WORDS or len(p) > _HEADLINE_MAX_CHARS:
        return False
    core = p.rstrip(_CLOSERS + " ")
    return bool(core) and core[-1] not in _SENTENCE_END


_INNER_SENTENCE_END = re.compile(r"[a-z]{2}[.?!][\"'”’)]*\s+\S")


def _reads_as_sentence(p: str) -> bool:
    """A headline-like line that is prose all the same: written in sentence case, and ending in "?" or "!"
    or holding a sentence end inside it ("... into common shares. Reuter").

    Only the refusal of a text as "no article" asks this: a one-sentence text file that asks a question or
    ends in a wire sign-off is an article; a title-case "Is This The End?", labels and navigation alone
    are not."""
    core = p.rstrip(_CLOSERS + " ")
    words = [w for w in p.split() if w[:1].isalpha()]
    lower = sum(w[0].islower() for w in words)
    return (bool(core) and len(words) >= 6 and lower > len(words) - lower
            and (core[-1] in "?!" or _INNER_SENTENCE_END.search(core) is not None))


def _rule_hit(rule: Rule, p: str, words: int) -> bool:
    """A rule fires on short enough paragraphs only (max_words 0: any length); ``words`` is p's count."""
    return (rule.max_words == 0 or words <= rule.max_words) and rule.pattern.search(p) is not None


def _paragraphs(text: str) -> list[str]:
    return [q for q in (" ".join(line.split()) for line in (text or "").splitlines()) if q]


def _apply_rules(paras: list[str], rules: tuple[Rule, ...]) -> list[str]:
    """Tail truncation, then block and line rules; returns the surviving paragraphs in order.

    A block drops its marker and the headlines after it; a teaser is dropped only after a single headline
    (a one-item card), because a list of several links is usually followed by the article resuming.
    """
    words = [_nwords(p) for p in paras]
    total = sum(len(p) + 1 for p in paras) or 1
    after = total
    cut = len(paras)
    tails = [r for r in rules if r.kind == "tail"]
    blocks = [r for r in rules if r.kind == "block"]
    lines = [r for r in rules if r.kind in ("line", "tail")]
    for i, p in enumerate(paras):
        after -= len(p) + 1
        if i and any(after <= r.max_tail_share * total and _rule_hit(r, p, words[i]) for r in tails):
            cut = i
            break
    paras = paras[:cut]
    keep = [True] * len(paras)
    i = 0
    while i < len(paras):
        p = paras[i]
        if any(_rule_hit(r, p, words[i]) for r in blocks):
            keep[i] = False
            j = i + 1
            while j < len(paras) and j - i <= _BLOCK_MAX_HEADLINES and _is_headline_like(paras[j]):
                keep[j] = False
                j += 1
            if j == i + 2 and j < len(paras) and words[j] <= _TEASER_MAX_WORDS:
                keep[j] = False
                j += 1
            i = j
            continue
        if any(_rule_hit(r, p, words[i]) for r in lines):
            keep[i] = False
        i += 1
    return [p for p, k in zip(paras, keep, strict=True) if k]


def _echoed(paras: list[str], key: dict[str, tuple[str, ...]]) -> set[tuple[str, ...]]:
    """Keys of headline-like lines printed exactly twice, at most a few lines apart (``key``: a line's words)."""
    where: dict[tuple[str, ...], list[int]] = {}
    for i, p in enumerate(paras):
        where.setdefault(key[p], []).append(i)
    return {k for k, pos in where.items()
            if len(pos) == 2 and pos[1] - pos[0] <= _REPEAT_MAX_GAP and len(k) >= 4
            and _is_headline_like(paras[pos[0]]) and not _BULLET.match(paras[pos[0]])}


def _drop_repeats(paras: list[str], title: str | None, original: list[str]) -> list[str]:
    """Remove the title echoed in the body and headline-like lines printed exactly twice a few lines
    apart (a related headline shown before and inside its box), in the original text or in what is left.

    Lines repeated far apart or three or more times are structure (recipe steps, list items, interview
    questions, embedded tweets) and repeated sentences may be pull quotes, so they stay. Removal repeats
    until nothing changes, so cleaning a cleaned body changes nothing. Each line's words are found once.
    """
    key = {p: tuple(_toks(p)) for p in dict.fromkeys([*original, *paras])}
    title_t = tuple(_toks(title))
    gone = _echoed(original, key)
    out = [p for p in paras if not (title_t and key[p] == title_t) and key[p] not in gone]
    while gone := _echoed(out, key):
        out = [p for p in out if key[p] not in gone]
    return out


def find_title(paras: list[str]) -> tuple[str | None, int]:
    """Title of plain text and the size of its header zone.

    The header zone is the run of headline-like lines before the first sentence-like paragraph. The title
    is its first line of at least three words that is not a dateline; labels ("Uncategorized"), source
    names and repeated headlines in the zone are dropped with it. A text with no sentence-like paragraph
    has no header (it is not an article layout), and a text that opens with a sentence has no title.
    """
    zone = 0
    while zone < len(paras) and _is_headline_like(paras[zone]):
        zone += 1
    if zone == len(paras):
        return None, 0
    for p in paras[:zone]:
        if _nwords(p) >= 3 and not _DATELINE.match(p) and not _BYLINE.match(p):
            return p, zone
    return None, zone


def _header_meta(header: list[str]) -> tuple[str | None, str | None]:
    author = date = None
    for p in header:
        m = _BYLINE.match(p)
        if m and not author:
            author = m.group(1)
        d = _ISO_DATE.search(p)
        if d and not date:
            date = d.group(0)
    return author, date


def _language(body: str) -> str | None:
    """The body's language from its opening (the classifier's cost grows with the text; a few
    thousand characters decide as well as the whole article), read without its names and numbers
    unless too few words are left."""
    if not _WORD.search(body):
        return None
    sample = body[:_LANGUAGE_SAMPLE_CHARS]
    common = _NAME_LIKE.sub(" ", sample)
    return _classify(common if len(_LETTER_WORD.findall(common)) >= 3 else sample)


@lru_cache(maxsize=1024)
def _classify(sample: str) -> str:
    """The classifier's language for a sample; editions of one wire story share their opening."""
    import py3langid

    return py3langid.classify(sample)[0]


_MARKER_WORDS = {"li": 1, "dt": 1, "dd": 1, "tr": 1, "td": 2, "th": 2}  # "- " and "|" trafilatura adds
_NOT_CONTENT = ("script", "style", "noscript", "nav", "header", "footer", "aside", "form", "menu", "select", "button")
_ALL_TEXT = etree.XPath("//text()", smart_strings=False)
_NOT_CONTENT_TEXT = etree.XPath("(" + "|".join(f"//{t}" for t in _NOT_CONTENT) + ")//text()", smart_strings=False)
_COUNT_MARKERS = {tag: etree.XPath(f"count(//{tag})") for tag in _MARKER_WORDS}
_RENDERED_DATA = etree.XPath("//script[@type='application/ld+json']/text() | //@data-preloaded", smart_strings=False)
_JSON_ESCAPE = re.compile(r"\\.|[<>]")
_LONG_TEXT = 200


def _content_words(tree) -> int:
    """Words of a parsed page outside scripts, styles and navigation, header, footer, aside and form
    containers, plus the list and table markers trafilatura writes and the JSON-LD blocks and Discourse
    attributes its baseline rescue may render (escapes and tags split words).

    Neither trafilatura mode keeps those containers' text, so when precision mode kept a third of the
    rest, the default mode cannot find three times more (on the 181 benchmark pages it never did).
    XPath returns plain strings, several times faster than walking elements. The words inside the
    containers are subtracted from all words: a text node is in the union of the containers' text at
    most once, and libxml2 finds it faster than it tests eleven ancestor axes on every text node. Long
    texts (scripts, most of a page's characters) are counted, then taken away, as strings before they are
    split, so a script's text, in both lists, is never split.
    """
    words, long = 0, Counter()
    for t in _ALL_TEXT(tree):
        if len(t) > _LONG_TEXT:
            long[t] += 1
        else:
            words += len(t.split())
    for t in _NOT_CONTENT_TEXT(tree):
        if len(t) > _LONG_TEXT:
            long[t] -= 1
        else:
            words -= len(t.split())
    words += sum(n * len(t.split()) for t, n in long.items() if n)
    words += sum(int(_COUNT_MARKERS[tag](tree)) * n for tag, n in _MARKER_WORDS.items())
    words += sum(_nwords(_JSON_ESCAPE.sub(" ", t)) for t in _RENDERED_DATA(tree))
    return words


_STORED_METADATA = ("title", "author", "url", "sitename", "date")


@lru_cache(maxsize=1)
def warm_up() -> None:
    """Build the date parser's locale tables now: htmldate hands dates its own rules cannot read to
    dateparser, which compiles every locale's patterns on its first call (about a second). That is a
    once-per-process cost, like loading a model, so the flow pays it while it starts, not on a page."""
    from htmldate.extractors import get_external_parser

    get_external_parser().get_date_data("Published 12 March 2009, 10:15")


def _page_metadata(tree, url: str | None):
    """trafilatura's page metadata, only the fields we store (:data:`_STORED_METADATA`).

    ``trafilatura.metadata.extract_metadata`` also searches categories, tags and a license, a quarter of
    its time, and nothing we keep reads them. These are its steps for the other fields, in its order and
    with the date settings its extractor uses; a test checks the fields against ``extract_metadata``.
    """
    from trafilatura.metadata import (
        META_URL,
        examine_meta,
        extract_author,
        extract_meta_json,
        extract_sitename,
        extract_title,
        extract_url,
        find_date,
    )
    from trafilatura.settings import DEFAULT_CONFIG, set_date_params

    meta = examine_meta(tree)
    if meta.author and " " not in meta.author:
        meta.author = None
    with contextlib.suppress(Exception):  # as in trafilatura: broken JSON-LD leaves the meta tags' values
        meta = extract_meta_json(tree, meta)
    meta.title = meta.title or extract_title(tree)
    meta.author = meta.author or _extract_author(tree, extract_author)
    meta.url = meta.url or extract_url(tree, url)
    date_config = set_date_params(DEFAULT_CONFIG.getboolean("DEFAULT", "EXTENSIVE_DATE_SEARCH"))
    meta.date = find_date(tree, **date_config, url=meta.url)
    meta.sitename = meta.sitename or extract_sitename(tree)
    if meta.sitename:
        meta.sitename = meta.sitename.lstrip("@")
        if meta.sitename and "." not in meta.sitename and not meta.sitename[0].isupper():
            meta.sitename = meta.sitename.title()
    elif meta.url and (match := META_URL.match(meta.url)):
        meta.sitename = match[1]
    meta.clean_and_trim()
    return meta


# The sha1 of trafilatura's AUTHOR_XPATHS and AUTHOR_DISCARD_XPATHS (each path's words joined by single
# spaces, one path a line), the expressions :func:`_extract_author` was derived from; other expressions
# (another trafilatura) make it call trafilatura's own extract_author.
_AUTHOR_XPATHS_SHA1 = "cd8e74802853af6d8b759dbc126659319897764c"
# Per author expression, in trafilatura's order: a substring one of the attributes it tests (class, id,
# itemprop, rel, data-testid, data-component) holds in every element it finds, except the ``author``
# elements the first one also finds and its child test ``rel='me'``, which are dealt with apart.
_AUTHOR_GATES = (r"[Aa]uthor",
                 r"author|byl|username|BBL|zuozhe|bianji|xiaobian|channel-name|submitted-by|posted-by|journalist-name",
                 r"[Aa]uthor|screenname|writer|[Bb]yline")


@lru_cache(maxsize=1)
def _author_search():
    """(gone, attributes, gates, matches) for :func:`_extract_author`, or None when trafilatura's author
    expressions are not those it was written for.

    ``gone`` tells whether an element is in what trafilatura's author search prunes: trafilatura removes,
    from a copy of the whole page, the elements its first discard expression matches by their own name and
    attributes, then every ``time`` and ``figure``, so an element is gone exactly when it or an ancestor
    matches one of them. ``attributes`` lists the attributes the author expressions test (each value knows
    its element); ``matches`` are the author expressions asked of one element (``//`` made ``self::``).
    """
    import hashlib

    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS, REGEXP_NS

    paths = "\n".join(" ".join(x.path.split()) for x in (*AUTHOR_XPATHS, *AUTHOR_DISCARD_XPATHS))
    if hashlib.sha1(paths.encode()).hexdigest() != _AUTHOR_XPATHS_SHA1:
        return None
    discard = AUTHOR_DISCARD_XPATHS[0].path.strip().replace(".//*", "ancestor-or-self::*", 1)
    gone = etree.XPath(f"boolean({discard} | ancestor-or-self::time | ancestor-or-self::figure)",
                       namespaces={"re": REGEXP_NS})
    attributes = etree.XPath("//@class|//@id|//@itemprop|//@rel|//@data-testid|//@data-component")
    matches = tuple(etree.XPath(x.path.replace("//", "self::"), namespaces={"re": REGEXP_NS}) for x in AUTHOR_XPATHS)
    return gone, attributes, tuple(re.compile(g) for g in _AUTHOR_GATES), matches


def _extract_author(tree, extract_author):
    """trafilatura's ``extract_author`` (passed in) at a fraction of its cost (it was a tenth of cleaning).

    trafilatura copies the whole page, prunes it and runs three expressions over every element in turn,
    taking the first candidate with usable text. Here an expression is asked only of the elements whose
    tested attributes hold a substring it needs (:data:`_AUTHOR_GATES`), in document order, on the page
    itself; a candidate inside a pruned part is skipped, and only a kept candidate is copied and pruned to
    read its text, with trafilatura's own functions. The expressions test an element's own name and
    attributes, so pruning changes what they find only by removing elements, except the first one's child
    test ``rel='me'``: a page with a ``rel`` element goes to ``extract_author`` itself, and on a page with
    ``author`` elements the first expression runs whole. A test checks the results against trafilatura.
    """
    from copy import deepcopy

    from trafilatura.htmlprocessing import prune_unwanted_nodes
    from trafilatura.metadata import normalize_authors
    from trafilatura.utils import trim
    from trafilatura.xpaths import AUTHOR_DISCARD_XPATHS, AUTHOR_XPATHS

    search = _author_search()
    if search is None or tree.find(".//rel") is not None:
        return extract_author(tree)
    gone, attributes, gates, matches = search
    values = attributes(tree)
    for i, (gate, match) in enumerate(zip(gates, matches, strict=True)):
        if i == 0 and tree.find(".//author") is not None:
            found = AUTHOR_XPATHS[0](tree)
        else:
            found = [e for e in dict.fromkeys(v.getparent() for v in values if gate.search(v)) if match(e)]
        for elem in found:
            if gone(elem):
                continue
            content = trim(" ".join(prune_unwanted_nodes(deepcopy(elem), AUTHOR_DISCARD_XPATHS).itertext()))
            if content and 2 < len(content) < 120:  # trafilatura's extract_metainfo, len_limit=120
                return normalize_authors(None, content)
    return None


def _trafilatura(html: str, url: str | None):
    """trafilatura with precision favoured, falling back to its default mode when that misfires.

    Precision mode drops more boilerplate than it loses article text, but on some layouts it keeps only a
    fragment; when it returns under a third of what the default mode finds, the default result is used.
    The default pass is skipped when precision mode already kept a third of the page's content words
    (:func:`_content_words`), which saves it on four pages in five. Both passes run in trafilatura's fast
    mode (no readability/jusText comparison, a quarter of cleaning's time): on the 181 benchmark pages the
    comparison does better on four pages and worse on one, F1 0.970 against 0.969, and the fallback to the
    default pass already rescues the layouts where trafilatura's own extractor finds a fragment.
    The page is parsed once; trafilatura copies the tree it is given, so both passes see it unchanged.
    Metadata does not depend on the mode: it is read once, before either pass (:func:`_page_metadata`).
    """
    import trafilatura
    from trafilatura.utils import load_html

    kwargs = {"url": url, "include_comments": False, "include_tables": True}
    try:
        tree = load_html(html)
        if tree is None:
            return None
        meta = _page_metadata(tree, url)
        doc = trafilatura.bare_extraction(tree, favor_precision=True, fast=True, **kwargs)
        if doc is None or _nwords(doc.text or "") < _PRECISION_MIN_SHARE * _content_words(tree):
            default = trafilatura.bare_extraction(tree, fast=True, **kwargs)
            if doc is None or (default is not None and
                               _nwords(doc.text or "") < _PRECISION_MIN_SHARE * _nwords(default.text or "")):
                doc = default
    except Exception:  # trafilatura raises assorted parser errors on broken markup; treat as no extraction
        return None
    if doc is not None:
        for name in _STORED_METADATA:
            setattr(doc, name, getattr(meta, name))
    return doc


_repair = lru_cache(maxsize=256)(repair)  # editions of one story repeat their text, site and author
_LATIN1 = re.compile("[\u0080-\u00ff\ufffd]")


def _repair_extracted(doc) -> tuple[str, str | None, str | None, str | None, bool]:
    """(body, title, site, author, repaired) of a trafilatura result, mojibake repaired.

    HTML is repaired after extraction, not before: markup and scripts are most of a page's characters,
    and ftfy over the whole page cost more than trafilatura itself. Title and body are repaired as one
    text so a single decision covers the article.
    """
    title = " ".join((doc.title or "").split())
    fixed, repaired = _repair(f"{title}\n{doc.text or ''}")
    title, body = fixed.split("\n", 1)
    title = " ".join(title.split())
    meta = []
    for value in (doc.sitename, doc.author):
        if value:
            value, changed = _repair(value)
            repaired = repaired or changed
        meta.append(value)
    return body, title or None, meta[0], meta[1], repaired


def clean_text(text: str, media_type: str, source_uri: str = "") -> dict:
    """Clean one document; returns {title, body, language, published_date, site_name, author, url}.

    `body` is the article's paragraphs joined by a single newline, with boilerplate removed. Plain text
    is expected repaired already (see :func:`clean_bytes`); HTML is repaired here, after extraction.
    """
    result = _clean(text, media_type, source_uri)[0]
    result["language"] = _language(result["body"])
    return result


def _clean(text: str, media_type: str, source_uri: str) -> tuple[dict, bool]:
    """:func:`clean_text` without the language (None) and whether repairing the extracted HTML text changed it."""
    rules = load_rules()
    url = source_uri if re.match(r"https?://", source_uri or "") else None
    title = published = site = author = None
    repaired = False
    if media_type == "html":
        doc = _trafilatura(text, url)
        raw_body = ""
        if doc is not None:
            raw_body, title, site, author, repaired = _repair_extracted(doc)
            published = doc.date
            url = url or doc.url
        body = _html_body(raw_body, title)
    else:
        original = _paragraphs(text)
        paras = _apply_rules(original, rules)
        title, zone = find_title(paras)
        author, published = _header_meta(paras[:zone])
        body = "\n".join(_drop_repeats(paras[zone:], title, original))
    return {"title": title, "body": body, "language": None, "published_date": published,
            "site_name": site, "author": author, "url": url}, repaired


@lru_cache(maxsize=256)
def _html_body(raw_body: str, title: str | None) -> str:
    """The rules applied to the text trafilatura extracted: a pure function of that text and the title,
    kept for the editions of one story that a batch holds."""
    original = _paragraphs(raw_body)
    return "\n".join(_drop_repeats(_apply_rules(original, load_rules()), title, original))


def clean_bytes(raw: bytes, name: str, source_uri: str = "") -> dict:
    """The whole cleaning of one input's bytes: gunzip, sniff, decode, repair, extract, rules, language.

    Raises BadInput for inputs that are empty, binary, undecodable or hold no article text.
    """
    return _with_language(_article(raw, name, source_uri))


def _rejudged(result: dict) -> tuple[dict, bool]:
    """ftfy and the lossy-"â" detector judge a text by all of it; the lines cleaning dropped may have swayed
    them, so the published title and body are judged again alone (only where a Latin-1 letter could be
    mojibake), and cleaning a cleaned body changes nothing."""
    title, body = result["title"], result["body"]
    title, title_fixed = _repair(title) if title and _LATIN1.search(title) else (title, False)
    body, body_fixed = _repair(body) if _LATIN1.search(body) else (body, False)
    if body_fixed:  # a repaired sequence can be a no-break space: lay the lines out as cleaning does
        body = "\n".join(line for line in (" ".join(raw.split()) for raw in body.split("\n")) if line)
    return {**result, "title": title, "body": body}, title_fixed or body_fixed


def _article(raw: bytes, name: str, source_uri: str) -> dict:
    """:func:`clean_bytes` up to the language: the article, and the refusals that do not need its language."""
    payload = read_payload(raw, name)
    media_type = sniff_media_type(payload, name)
    text, encoding = decode(payload)
    repaired = False
    if media_type != "html":
        text, repaired = repair(text)
    result, html_repaired = _clean(text, media_type, source_uri)
    result, rejudged = _rejudged(result)
    html_repaired = html_repaired or rejudged
    if not any(ch.isalnum() for ch in result["body"]):  # empty, or punctuation only
        raise BadInput("no article text found")
    if len(result["body"]) < 200 and all(_is_headline_like(p) and not _reads_as_sentence(p)
                                         for p in result["body"].split("\n")):
        raise BadInput("no article text found (only short lines without a sentence: navigation, labels, captions)")
    longest = max(map(len, result["body"].split("\n")))
    if longest > 100_000:  # prose paragraphs are a few thousand characters; spaCy refuses texts over 1M
        raise BadInput(f"no article text found (a paragraph of {longest} characters is not prose)")
    return {**result, "media_type": media_type, "encoding": encoding, "encoding_repaired": repaired or html_repaired}


def _with_language(article: dict) -> dict:
    """The last step of :func:`clean_bytes`: the body's language, then the refusal of text still damaged."""
    article["language"] = _language(article["body"])
    damage = residual_damage(f"{article['title'] or ''}\n{article['body']}", article["language"])
    if damage:
        raise BadInput(damage)
    return article


def clean_file(path: str | Path) -> dict:
    """What `newsfacts clean FILE` prints: :func:`clean_bytes` of the file, with its path as source."""
    p = Path(path)
    return {"source": str(path), **clean_bytes(p.read_bytes(), p.name, str(path))}


def clean_batch(raw_rows: list[dict], run_id: str) -> tuple[list[dict], list[dict]]:
    """Clean a batch of ``raw_documents`` rows: (document rows, quarantine rows).

    Uses exactly the steps of :func:`clean_file`, so ``newsfacts clean`` shows what the pipeline
    stores. A document that fails is quarantined with its reason; the others go on. The language step
    runs over the whole batch after the other steps: its model's tables (tens of MB) then stay in the
    CPU caches instead of being evicted by trafilatura between two documents, which made it twice as slow.
    """
    from datetime import UTC, datetime

    def attempt(step, *args) -> tuple[dict | None, str | None]:
        try:
            return step(*args), None
        except BadInput as exc:
            return None, exc.reason
        except Exception as exc:  # noqa: BLE001 - one bad document must never stop the batch
            return None, f"unexpected error while cleaning: {type(exc).__name__}: {exc}"

    articles = [attempt(_article, bytes(row["raw"]), Path(row["source_uri"]).name, row["source_uri"])
                for row in raw_rows]
    docs, rejected = [], []
    for row, (article, reason) in zip(raw_rows, articles, strict=True):
        if article is not None:
            result, reason = attempt(_with_language, article)
            if result is not None:
                docs.append({**result, "content_hash": row["content_hash"], "source_uri": row["source_uri"]})
                continue
        rejected.append(dict(source_uri=row["source_uri"], content_hash=row["content_hash"], stage="clean",
                             reason=reason, raw=row["raw"], quarantined_at=datetime.now(UTC).replace(tzinfo=None),
                             run_id=run_id))
    return docs, rejected
