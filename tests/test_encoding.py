"""Bytes → text: gzip limits, binary sniffing, charset detection and mojibake repair."""

import codecs
import gzip
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newsfacts.encoding import BadInput, decode, read_payload, repair, sniff_media_type

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


# ---------- gzip ----------

def test_gzip_roundtrip_by_magic_and_by_name():
    data = "Kyiv said on Monday…".encode()
    assert read_payload(gzip.compress(data), "a.txt") == data
    assert read_payload(gzip.compress(data), "a.txt.gz") == data


def test_gz_name_without_gzip_bytes_is_taken_as_is():
    assert read_payload(b"plain text", "a.txt.gz") == b"plain text"


def test_multi_member_gzip():
    assert read_payload(gzip.compress(b"one ") + gzip.compress(b"two"), "x.gz") == b"one two"


def test_gzip_bomb_is_refused_quickly():
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)
    start = time.perf_counter()
    with pytest.raises(BadInput) as e:
        read_payload(bomb, "bomb.gz", max_bytes=1_000_000)
    assert "limit" in e.value.reason
    assert time.perf_counter() - start < 1.0


def test_gzip_at_exactly_the_limit_is_accepted():
    assert len(read_payload(gzip.compress(b"a" * 1000), "x.gz", max_bytes=1000)) == 1000


def test_truncated_and_corrupt_gzip():
    blob = gzip.compress(b"hello world " * 1000)
    with pytest.raises(BadInput, match="truncated"):
        read_payload(blob[: len(blob) // 2], "x.gz")
    with pytest.raises(BadInput, match="corrupt"):
        read_payload(blob[:10] + b"\xff" * 40, "x.gz")


def test_plain_file_over_limit():
    with pytest.raises(BadInput, match="limit"):
        read_payload(b"x" * 101, "x.txt", max_bytes=100)


# ---------- sniffing ----------

@pytest.mark.parametrize("blob, what", [
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "PNG"),
    (b"%PDF-1.7\n%\xe2\xe3", "PDF"),
    (b"PK\x03\x04" + b"\0" * 20, "ZIP"),
    (b"GIF89a" + b"\0" * 10, "GIF"),
    (b"\xff\xd8\xff\xe0" + b"\0" * 10, "JPEG"),
    (b"hello\0world\0" * 10, "NUL"),
    (bytes(range(1, 32)) * 10, "control"),
])
def test_binary_is_refused_with_a_reason(blob, what):
    with pytest.raises(BadInput) as e:
        sniff_media_type(blob, "file.txt")
    assert e.value.reason.startswith("binary content") and what in e.value.reason


@pytest.mark.parametrize("blob", [b"", b"   \n\t\r\n  ", codecs.BOM_UTF8 + b" \n"])
def test_empty_is_refused(blob):
    with pytest.raises(BadInput, match="empty"):
        sniff_media_type(blob, "a.txt")


def test_html_vs_text():
    assert sniff_media_type(b"<!DOCTYPE html><html><body><p>x</p></body></html>", "a.txt") == "html"
    assert sniff_media_type(b"  <html lang='en'><head><title>t</title>", "page") == "html"
    assert sniff_media_type(b"Putin said on Monday that 3 < 4.\nMore text.", "a.html") == "text"
    assert sniff_media_type(b"Headline\n\nBody text.", "a.txt") == "text"


def test_utf16_text_is_not_mistaken_for_binary():
    blob = codecs.BOM_UTF16_LE + "Kyiv, Ukraine — text".encode("utf-16-le")
    assert sniff_media_type(blob, "a.txt") == "text"
    assert sniff_media_type("Kyiv, Ukraine — plain words".encode("utf-16-le"), "a.txt") == "text"


# ---------- decoding ----------

@pytest.mark.parametrize("codec, bom, name", [
    ("utf-16-le", codecs.BOM_UTF16_LE, "utf-16-le"),
    ("utf-16-be", codecs.BOM_UTF16_BE, "utf-16-be"),
    ("utf-32-le", codecs.BOM_UTF32_LE, "utf-32-le"),
    ("utf-8", codecs.BOM_UTF8, "utf-8"),
])
def test_bom(codec, bom, name):
    text = "Zelensky’s “plan” – Kyiv"
    assert decode(bom + text.encode(codec)) == (text, name)


def test_strict_utf8():
    assert decode("Putin’s “buffer zone”".encode()) == ("Putin’s “buffer zone”", "utf-8")


def test_cp1252_smart_quotes():
    text = "The Kremlin’s “buffer zone” – again, said the café owner."
    assert decode(text.encode("cp1252")) == (text, "cp1252")


def test_latin1_without_cp1252_punctuation():
    text = "Le café près de la gare à Genève était fermé, dit-il à l’AFP."
    blob = text.replace("’", "'").encode("latin-1")
    got, name = decode(blob)
    assert got == text.replace("’", "'")
    assert name in ("iso-8859-1", "cp1252")


def test_html_meta_charset_is_honoured():
    body = "<p>Путин заявил, что Россия продолжит наступление на Украине.</p>" * 3
    html = f'<html><head><meta charset="windows-1251"></head><body>{body}</body></html>'
    text, name = decode(html.encode("cp1251"))
    assert "Путин заявил" in text and name == "cp1251"


def test_undecodable_bom_payload():
    with pytest.raises(BadInput, match="undecodable"):
        decode(codecs.BOM_UTF32_LE + b"\xff\xff\xff\xff" * 4)


# ---------- repair ----------

def test_double_encoded_utf8_is_repaired_quotes_kept():
    import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252, how browsers misread UTF-8)

    broken = "The Kremlin’s “demands”".encode().decode("sloppy-windows-1252")
    assert repair(broken) == ("The Kremlin’s “demands”", True)


def test_clean_text_is_not_flagged():
    assert repair("Putin’s “buffer zone” — fine.") == ("Putin’s “buffer zone” — fine.", False)


def test_lossy_quotes_apostrophes_dashes_and_ellipsis():
    s = ("The Kremlinâs critics and Russiaâs âeliminate the root causes of the conflictâ plan. "
         "He said Russia â action was condemned. It was âlies and sheer nonsense⊠driven by interestsâ.\n"
         "âOur troops are different now,â he said about European officialsâ statements.")
    fixed, changed = repair(s)
    assert changed and "\u00e2" not in fixed
    assert "Kremlin’s" in fixed and "Russia’s" in fixed
    assert "“eliminate the root causes of the conflict” plan" in fixed
    assert "Russia – action" in fixed
    assert "nonsense… driven" in fixed and "interests”." in fixed
    assert "“Our troops are different now,” he said" in fixed
    assert "officials’ statements" in fixed


def test_seed_002_has_no_broken_characters_after_repair():
    text, enc = decode((SEEDS / "002_280bab9ed6877c1e.txt").read_bytes())
    fixed, changed = repair(text)
    assert enc == "utf-8" and changed and "\u00e2" not in fixed
    assert "reject the Kremlin’s demands" in fixed


@pytest.mark.parametrize("text", [
    "Le château de Versailles et l'âge d'or de la pâte feuilletée; la tâche est bâtie.",
    "A Câmara aprovou o âmbito da lâmpada, disse o pâncreas.",
    "România e frumoasă, mai mult decât atât; în câmpie sunt câini.",
    "Vietnamese: Cần Thơ, Châu Đốc, Quân đội nhân dân.",
])
def test_genuine_a_circumflex_is_untouched(text):
    assert repair(text) == (text, False)


# ---------- properties ----------

@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_bytes_never_crash(blob):
    for fn in (lambda b: read_payload(b, "x.gz"), lambda b: sniff_media_type(b, "x"), decode):
        try:
            fn(blob)
        except BadInput as e:
            assert e.reason


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=500))
def test_repair_never_crashes_and_is_stable(text):
    once, _ = repair(text)
    assert isinstance(once, str)
    assert repair(once)[0] == once


def test_a_circumflex_inside_a_word_is_a_letter_not_damage():
    """English news names French places and dishes: only an "â" where punctuation belongs is mojibake."""
    from newsfacts.encoding import residual_damage

    assert residual_damage("The summit met at the Château de Versailles over pâté.", "en") is None
    assert residual_damage("Putinâs aides said it donât matter.", "en")
    assert residual_damage("He paused â then spoke.", "en")
