"""Bytes to text: gzip with a size limit, binary sniffing, charset detection, mojibake repair.

Every function is pure (bytes/str in, bytes/str out). Anything we cannot turn into trustworthy text
raises `BadInput` with a reason a person can act on; the ingest stage puts such files in quarantine.
"""

from __future__ import annotations

import codecs
import re
import threading
import zlib
from functools import lru_cache

import ftfy

__all__ = ["BadInput", "read_payload", "sniff_media_type", "decode", "repair", "residual_damage"]

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16

# Magic numbers of formats that are never article text (checked at offset 0 unless noted).
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive or Office document"),
    (b"PK\x05\x06", "ZIP archive (empty)"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"BM", "BMP image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"\x00\x00\x01\x00", "ICO image"),
    (GZIP_MAGIC, "gzip data nested inside gzip"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"MZ", "Windows executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (old MS Office) document"),
    (b"OggS", "Ogg media"),
    (b"ID3", "MP3 audio"),
    (b"fLaC", "FLAC audio"),
    (b"\x1aE\xdf\xa3", "Matroska/WebM video"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"wOFF", "WOFF font"),
    (b"wOF2", "WOFF2 font"),
)

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


class BadInput(Exception):
    """A file that cannot become article text; `reason` says why in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _human(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 1_000_000 else f"{n} bytes"


def read_payload(raw: bytes, name: str, max_bytes: int = 200_000_000) -> bytes:
    """Return the file's content, gunzipped when it is gzip, never holding more than `max_bytes`.

    Decompression is streamed with a cap on the output so a gzip bomb is refused after at most
    `max_bytes` of output instead of exhausting memory. A `.gz` name without gzip bytes is taken as is
    (servers often store already-decompressed bodies under the old name).
    """
    if not raw.startswith(GZIP_MAGIC):
        if len(raw) > max_bytes:
            raise BadInput(f"file is larger than the {_human(max_bytes)} limit")
        return raw
    out = bytearray()
    data = raw
    while True:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            while data and not d.eof:  # past a member's end zlib keeps echoing the rest as unconsumed_tail
                room = max_bytes + 1 - len(out)
                out += d.decompress(data, min(room, _CHUNK))
                if len(out) > max_bytes:
                    raise BadInput(f"gzip expands past {_human(max_bytes)} limit")
                data = d.unconsumed_tail
            while not d.eof:
                piece = d.decompress(b"", min(max_bytes + 1 - len(out), _CHUNK))
                if not piece:
                    break
                out += piece
                if len(out) > max_bytes:
                    raise BadInput(f"gzip expands past {_human(max_bytes)} limit")
        except zlib.error as e:
            raise BadInput(f"corrupt gzip data ({e})") from None
        if not d.eof:
            raise BadInput("truncated gzip data")
        data = d.unused_data
        if not data.startswith(GZIP_MAGIC):
            return bytes(out)


def _bom(payload: bytes) -> tuple[str, int] | None:
    for bom, enc in _BOMS:
        if payload.startswith(bom):
            return enc, len(bom)
    return None


def _bomless_utf16(payload: bytes) -> str | None:
    """Guess UTF-16 without a BOM: ASCII-range text leaves every other byte NUL."""
    sample = payload[:4096]
    if len(sample) < 8 or len(sample) % 2:
        sample = sample[: len(sample) - len(sample) % 2]
    if len(sample) < 8:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.4 * len(odd) and even.count(0) == 0:
        enc = "utf-16-le"
    elif even.count(0) > 0.4 * len(even) and odd.count(0) == 0:
        enc = "utf-16-be"
    else:
        return None
    try:
        payload.decode(enc)
    except UnicodeDecodeError:
        return None
    return enc


_HTML_START = re.compile(rb"^\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:!doctype\s+html|html|head|body)\b",
                         re.I | re.S)
_HTML_TAGS = re.compile(rb"<(?:html|head|body|meta|title|div|p|article|span|a|br|table|script)\b[^>]*>", re.I)
_HTML_NAME = re.compile(r"\.(?:x?html?|php|aspx?|jsp)(?:\.gz)?$", re.I)


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def sniff_media_type(payload: bytes, name: str) -> str:
    """Return 'html' or 'text'; raise BadInput for empty or binary content.

    Content decides, the name only breaks ties: a `.html` file must still contain tags, and a `.txt`
    file that starts with a doctype is HTML.
    """
    if not payload:
        raise BadInput("empty file")
    for magic, what in _MAGIC:
        if payload.startswith(magic):
            raise BadInput(f"binary content ({what})")
    if payload[:12].startswith(b"RIFF") and payload[8:12] in (b"WEBP", b"WAVE", b"AVI "):
        raise BadInput(f"binary content (RIFF {payload[8:12].decode().strip()})")
    if payload[4:8] == b"ftyp":
        raise BadInput("binary content (MP4/QuickTime media)")
    enc = _bom(payload)
    wide = (enc and enc[0] != "utf-8") or _bomless_utf16(payload)
    if wide:
        name_enc, skip = enc if enc else (wide, 0)
        head = payload[skip: skip + 65536 * 4].decode(name_enc, errors="replace")
        sample = head.encode("utf-8", errors="replace")
    else:
        sample = payload[:65536]
        if enc:
            sample = sample[enc[1]:]
    if not sample.strip() or not payload.strip(b" \t\r\n\f\v\x00" + codecs.BOM_UTF8):
        raise BadInput("empty file (only whitespace)")
    if b"\x00" in sample:
        raise BadInput("binary content (NUL bytes)")
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    if controls > 0.05 * len(sample):
        raise BadInput(f"binary content ({controls / len(sample):.0%} control characters)")
    if _HTML_START.search(sample[:8192]):
        return "html"
    tags = len(_HTML_TAGS.findall(sample[:16384]))
    if tags >= 3 or (tags and _HTML_NAME.search(name or "")):
        return "html"
    return "text"


_META_CHARSET = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)|<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_\-.]+)""",
    re.I,
)
# WHATWG: a page that says latin-1 or ASCII means windows-1252.
_WESTERN = {"latin_1", "iso8859_1", "ascii", "cp1252", "iso8859_15"}


def _declared_charset(payload: bytes) -> str | None:
    m = _META_CHARSET.search(payload[:16384])
    if not m:
        return None
    label = (m.group(1) or m.group(2)).decode("ascii", "ignore")
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _western(payload: bytes) -> tuple[str, str]:
    """cp1252 when its 0x80-0x9F punctuation is present and valid, else ISO-8859-1 (identical above 0x9F)."""
    if any(0x80 <= b <= 0x9F for b in payload):
        try:
            return payload.decode("cp1252"), "cp1252"
        except UnicodeDecodeError:
            pass
    return payload.decode("latin-1"), "iso-8859-1"


def _looks_broken(text: str) -> bool:
    bad = sum(1 for c in text if (ord(c) < 32 and c not in "\t\n\r\f\x1b") or 0x7F <= ord(c) <= 0x9F
              or c == "\ufffd")
    return bad > max(3, 0.02 * len(text))


def decode(payload: bytes) -> tuple[str, str]:
    """Return (text, encoding name): BOM, then strict UTF-8, then the declared charset, then UTF-8 with
    a few stray bytes ("utf-8-mixed"), then a guess.

    The guess prefers the Western single-byte family (cp1252 / ISO-8859-1) unless charset-normalizer
    is confident the bytes are another family (e.g. cp1251 Cyrillic, Shift-JIS); text that still decodes
    to control-character soup is refused.
    """
    enc = _bom(payload)
    if enc:
        try:
            return payload[enc[1]:].decode(enc[0]), enc[0]
        except UnicodeDecodeError:
            mixed = _mostly_utf8(payload[enc[1]:]) if enc[0] == "utf-8" else None
            if mixed is not None:
                return mixed, "utf-8-mixed"
            raise BadInput(f"undecodable bytes (invalid {enc[0]} after its byte-order mark)") from None
    wide = _bomless_utf16(payload)
    if wide:
        return payload.decode(wide), wide
    try:
        return payload.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(payload)
    if declared and declared not in ("utf_8", "utf_16", "utf_32"):
        if declared in _WESTERN:
            text, name = _western(payload)
        else:
            try:
                text, name = payload.decode(declared), declared
            except UnicodeDecodeError:
                text, name = "", ""
        if name and not _looks_broken(text):
            return text, name.replace("_", "-")
    mixed = _mostly_utf8(payload)
    if mixed is not None:
        return mixed, "utf-8-mixed"
    guess = _guess_family(payload)
    if guess:
        return guess
    text, name = _western(payload)
    if _looks_broken(text):
        raise BadInput("undecodable bytes (not UTF-8 and no single-byte charset fits)")
    return text, name


_stray = threading.local()


def _stray_as_cp1252(exc: UnicodeDecodeError) -> tuple[str, int]:
    """Invalid UTF-8 in an otherwise UTF-8 file: a cut multi-byte sequence or an orphan continuation byte
    is what is left of a lost character and is dropped; a stray lead byte (0xC0-0xFF) is read as cp1252,
    a Latin letter pasted into a UTF-8 page ("caf\xe9")."""
    _stray.count = getattr(_stray, "count", 0) + 1
    if _stray.count > _stray.limit:
        raise exc
    if exc.end - exc.start > 1 or exc.object[exc.start] < 0xC0:
        return "", exc.end
    return exc.object[exc.start:exc.end].decode("cp1252", errors="ignore"), exc.end


codecs.register_error("newsfacts-stray-cp1252", _stray_as_cp1252)
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")


def _mostly_utf8(payload: bytes) -> str | None:
    """Text of a UTF-8 file damaged in a few places (a truncated download, a pasted Latin-1 byte).

    Valid multi-byte sequences are strong evidence of UTF-8 (legacy 8-bit text almost never forms
    them); when there are at least as many of them as damaged places, the damage is mended locally
    instead of re-reading the whole file in the wrong charset.
    """
    _stray.count, _stray.limit = 0, len(_UTF8_MULTIBYTE.findall(payload))
    if not _stray.limit:
        return None
    try:
        return payload.decode("utf-8", errors="newsfacts-stray-cp1252")
    except UnicodeDecodeError:
        return None


def _guess_family(payload: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:
        return None
    best = from_bytes(payload[:200_000]).best()
    if best is None:
        return None
    name = codecs.lookup(best.encoding).name
    if name in _WESTERN or name.startswith(("iso8859", "cp125", "mac")) and name not in (
            "cp1251", "cp1253", "cp1255", "cp1256", "iso8859_5", "iso8859_7", "iso8859_8"):
        return None
    try:
        text = payload.decode(name)
    except UnicodeDecodeError:
        return None
    return (None if _looks_broken(text) else (text, name.replace("_", "-")))


# --- lossy mojibake: UTF-8 punctuation read as cp1252 whose two continuation characters were lost ---

_A = "\u00e2"
_LETTER = r"[^\W\d_]"
# "â" glued to the end of a word and followed by a contraction tail or a non-letter: never valid in
# French/Portuguese/Romanian, where "â" sits inside or at the start of words.
_STRONG = re.compile(rf"(?<={_LETTER}){_A}(?=(?:s|t|d|m|ll|re|ve)\b|[\s.,;:!?)\]]|$)|(?<=\s){_A}(?=\s)"
                     rf"|(?<=[\s(\[]){_A}(?={_LETTER})", re.M)
_OTHER_ACCENTS = re.compile(r"[À-ÿĀ-žȘ-ț]")


def _lossy_flagged(text: str) -> bool:
    """True when stray "â" look like lost punctuation in an otherwise unaccented (English-like) text.

    A single "â" counts only when it sits where a letter never does (glued to a word's end before a
    contraction or punctuation) and the text has no other accented letter.
    """
    total = text.count(_A)
    if not total:
        return False
    strong = len(_STRONG.findall(text))
    others = len(_OTHER_ACCENTS.findall(text)) - total
    if total == 1:
        return strong == 1 and others == 0
    return strong >= 2 and strong >= 0.6 * total and others <= max(2, 0.25 * strong)


def _fix_lossy(text: str) -> str:
    """Rebuild quotes, apostrophes, dashes and ellipses from bare "â" by looking at their neighbours."""
    text = text.replace("\u22a0", "\u2026 ")
    text = re.sub(r"\u2026 (?=\s)", "\u2026", text)
    out = []
    for para in text.split("\n"):
        chars = list(para)
        open_quote = False
        for i, c in enumerate(chars):
            if c != _A:
                continue
            prev = chars[i - 1] if i else ""
            nxt = chars[i + 1] if i + 1 < len(chars) else ""
            prev_word = bool(prev) and (prev.isalnum() or prev in ".,;:!?")
            opener = not prev or prev.isspace() or prev in "([{-\u2014\u2013"
            if prev.isalnum() and nxt.isalpha():
                chars[i] = "\u2019"
            elif prev.isspace() and (nxt.isspace() or not nxt):
                chars[i] = "\u2013"
            elif opener and (nxt.isalnum() or nxt in "'\u2018"):
                chars[i] = "\u201c"
                open_quote = True
            elif prev_word and open_quote:
                chars[i] = "\u201d"
                open_quote = False
            elif prev.isalpha() and prev.lower() == "s":
                chars[i] = "\u2019"
            elif prev_word:
                chars[i] = "\u201d"
            else:
                chars[i] = "\u201c" if nxt.isalnum() else "\u2013"
        out.append("".join(chars))
    return "\n".join(out)


_REPLACEMENT = "\ufffd"
_DAMAGE = re.compile("\u00e2\u20ac|\u00c3[\u0080-\u00bf]|\ufffd")
_COSMETIC = {"fix_line_breaks", "fix_latin_ligatures", "fix_character_width", "remove_terminal_escapes",
             "remove_control_chars", "unescape_html"}


_ODD_SPACE = re.compile(r"[^\S \n]")


def _table_chars() -> re.Pattern:
    """Any character ftfy's three character-table fixers (ligatures, character width, control characters)
    would change."""
    from ftfy.chardata import CONTROL_CHARS, LIGATURES, WIDTH_MAP

    return re.compile("[" + "".join(re.escape(chr(c)) for c in sorted({*CONTROL_CHARS, *LIGATURES, *WIDTH_MAP})) + "]")


_TABLE_CHARS = _table_chars()
_NO_TABLES = {"fix_latin_ligatures": False, "fix_character_width": False, "remove_control_chars": False}
# The sha1 of ftfy's BADNESS_RE pattern that :func:`_is_bad` was written for (another one: ftfy's own search).
_BADNESS_SHA1 = "93be560616a9c09c9112265da96aaf8094b44167"
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _is_bad(text: str) -> bool:
    """ftfy's ``is_bad`` (its mojibake pattern found anywhere in the text), tried only where a match can start.

    Every alternative of ftfy's pattern holds a character of its non-ASCII classes or literals at most two
    characters after its start, so a match starts at most two characters before a non-ASCII character;
    ``search`` tries every position of mostly-ASCII prose. Text that is mostly not ASCII is searched whole.
    """
    from ftfy.badness import BADNESS_RE

    if _badness_checked() is False or len(text.encode("utf-8")) - len(text) > len(text) // 4:
        return BADNESS_RE.search(text) is not None
    match, tried = BADNESS_RE.match, -1
    for m in _NON_ASCII.finditer(text):
        i = m.start()
        for start in range(max(i - 2, tried + 1), i + 1):
            if match(text, start):
                return True
        tried = i
    return False


@lru_cache(maxsize=1)
def _badness_checked() -> bool:
    """Whether ftfy's mojibake pattern is the one :func:`_is_bad` was written for."""
    import hashlib

    from ftfy.badness import BADNESS_RE

    return hashlib.sha1(BADNESS_RE.pattern.encode()).hexdigest() == _BADNESS_SHA1


def _fix_and_explain(text: str):
    """``ftfy.fix_and_explain(text, uncurl_quotes=False)``, without the steps that cannot change the text:
    its three character-table passes when the text has none of their characters (they map every
    character through a dict), and its mojibake search when :func:`_is_bad` finds no mojibake (ftfy
    repairs encodings only where that search finds some). Those were most of ftfy's time here.

    When ftfy changes nothing else either, that is its answer; when it changes something, the new text
    may hold such characters or sequences, so ftfy runs again with every step."""
    skip = {} if _TABLE_CHARS.search(text) else dict(_NO_TABLES)
    if not text.isascii() and not _is_bad(text):
        skip["fix_encoding"] = False
    if not skip:
        return ftfy.fix_and_explain(text, uncurl_quotes=False)
    fixed = ftfy.fix_and_explain(text, uncurl_quotes=False, **skip)
    if fixed.text == text and not fixed.explanation:
        return fixed
    return ftfy.fix_and_explain(text, uncurl_quotes=False)


def _repaired(fixed) -> bool:
    """Whether ftfy undid an encoding error, not only a cosmetic normalisation."""
    return any(step.action != "normalize" and step.parameter not in _COSMETIC for step in (fixed.explanation or []))


def repair(text: str) -> tuple[str, bool]:
    """Fix mojibake; return (text, whether an encoding error was repaired).

    ftfy undoes reversible mojibake ("Kremlinâ€™s"); curly quotes are kept. The lossy form where only
    "â" survives ("Kremlinâs") cannot be undone byte-wise, so it is rebuilt from context, and only in
    documents the detector flags, leaving genuine "â" (château, România) alone. U+FFFD marks a character
    lost before the file reached us; it carries nothing, so it is removed.
    """
    fixed = _fix_and_explain(text)
    new, changed = fixed.text, _repaired(fixed)
    # Cleaning collapses every run of spaces (no-break, tabs) to one space. ftfy's verdict can depend on the
    # space beside a sequence ("0\xa0Àµ" stays, "0 Àµ" is mojibake), so judge the text as cleaning will lay
    # it out too: otherwise cleaning a cleaned body would change it again.
    # The same holds for the whitespace cleaning strips at both ends ("\nÂ ." stays, "Â ." is mojibake).
    if _ODD_SPACE.search(new) or new[:1].isspace() or new[-1:].isspace():
        laid_out = "\n".join(" ".join(line.split()) for line in new.splitlines()).strip()
        again = _fix_and_explain(laid_out)
        if again.text != laid_out:
            new, changed = again.text, changed or _repaired(again)
    if _REPLACEMENT in new:
        new = new.replace(_REPLACEMENT, "")
        changed = True
    if _lossy_flagged(new):
        new = _fix_lossy(new)
        changed = True
    return new, changed and new != text


def residual_damage(text: str, language: str | None) -> str | None:
    """Why ``text`` still shows broken encoding after :func:`repair`, or None when it looks sound.

    The same traces the documents gate refuses (mojibake pairs, replacement characters, and in English
    an "â" where punctuation belongs, not inside a word like "Château"): a document that still has them
    is quarantined on its own instead of failing the gate for the whole batch.
    """
    text = text or ""
    if _A not in text and "\u00c3" not in text and _REPLACEMENT not in text:  # what every trace holds
        return None
    m = _DAMAGE.search(text)
    if m:
        return f"broken encoding left after repair ({m.group(0)!r} at character {m.start()})"
    trace = _STRONG.search(text) if language == "en" else None
    if trace:
        return f"broken encoding left after repair (stray {_A!r} in English text at character {trace.start()})"
    return None
