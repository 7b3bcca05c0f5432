"""Cleaning: the gold seeds (scored as the official scorer does), each rule kind, titles, HTML, properties."""

import gzip
import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from newsfacts.clean import BadInput, clean_file, clean_text, load_rules

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
GOLD = SHARED / "gold" / "seeds.json"
SCORER = SHARED / "tools" / "score_seeds.py"


def _scorer():
    """The official scorer's toks/contains, so these tests agree with it token for token."""
    spec = importlib.util.spec_from_file_location("score_seeds", SCORER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.toks, mod.contains


if not GOLD.exists() or not SCORER.exists():
    pytest.skip("shared gold/scorer not present beside the checkout", allow_module_level=True)
toks, contains = _scorer()
GOLD_DATA = {k: v for k, v in json.loads(GOLD.read_text(encoding="utf-8")).items() if not k.startswith("_")}


def body_of(text: str) -> str:
    return clean_text(text, "text")["body"]


# ---------- gold seeds ----------

@pytest.fixture(scope="module")
def cleaned():
    return {name: clean_file(ROOT / "seeds" / name) for name in GOLD_DATA}


@pytest.mark.parametrize("name", sorted(GOLD_DATA))
def test_seed_no_boilerplate_leaks(cleaned, name):
    body = cleaned[name]["body"]
    paras = [toks(p) for p in body.split("\n") if p.strip()]
    btoks = toks(body)
    leaks = [line for line in GOLD_DATA[name]["boilerplate_lines"]
             if any(p == toks(line) for p in paras) or (len(toks(line)) >= 6 and contains(btoks, toks(line)))]
    assert leaks == []


@pytest.mark.parametrize("name", sorted(GOLD_DATA))
def test_seed_body_lines_survive(cleaned, name):
    g = GOLD_DATA[name]
    btoks = toks(cleaned[name]["body"])
    lines = g.get("body_lines_repaired") or g["body_lines"]
    missing = [line for line in lines if not contains(btoks, toks(line))]
    assert missing == []


@pytest.mark.parametrize("name", sorted(GOLD_DATA))
def test_seed_title(cleaned, name):
    want, got = GOLD_DATA[name]["title"], cleaned[name]["title"]
    assert (toks(got) == toks(want)) if want else not (got or "").strip()


@pytest.mark.parametrize("name", sorted(GOLD_DATA))
def test_seed_shape(cleaned, name):
    r = cleaned[name]
    assert "\u00e2" not in r["body"] + (r["title"] or "")
    assert r["language"] == "en"
    assert r["body"] == r["body"].strip() and "\n\n" not in r["body"]
    assert set(r) >= {"source", "title", "body", "language", "published_date", "site_name", "author", "url",
                      "encoding", "encoding_repaired"}
    assert r["encoding_repaired"] is name.startswith("002")


def test_seed_gzipped_copy_cleans_the_same(tmp_path, cleaned):
    name = "004_3253f2a8958fafad.txt"
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress((ROOT / "seeds" / name).read_bytes()))
    assert clean_file(gz)["body"] == cleaned[name]["body"]


def test_clean_file_raises_badinput(tmp_path):
    (tmp_path / "e.txt").write_bytes(b"  \n")
    (tmp_path / "p.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 50)
    (tmp_path / "b.txt").write_bytes(b"Uncategorized\n___\n")
    for f, why in (("e.txt", "empty"), ("p.png", "PNG"), ("b.txt", "no article text")):
        with pytest.raises(BadInput, match=why):
            clean_file(tmp_path / f)


# ---------- the rules file ----------

def test_rules_file_is_complete_and_examples_fire():
    rules = load_rules()
    assert len({r.id for r in rules}) == len(rules) >= 15
    for r in rules:
        assert r.why and r.example, r.id
        assert r.pattern.search(r.example), f"rule {r.id} does not match its own example"


@pytest.mark.parametrize("line", [
    "Read also: Zelensky meets Macron in Paris",
    "READ MORE: Every key moment of the summit",
    "Arrow MORE: Moscow plunged into darkness after drone attack",
    "Related: Ten things to know about Crimea",
    "For more stories like this, check our news page.",
    "Follow Reuters’ coverage of the war at https://example.com/ukraine",
    "Soldiers near Bakhmut (Photo: Ministry of Defence)",
    "A damaged building in Kharkiv (Picture: Getty Images)",
    "Image: Getty Images",
    "Residents clear debris in Odesa. Photograph: Nina Liashonok/Reuters",
    "To view this video please enable JavaScript, and consider upgrading to a web browser",
    "Sign up for our daily newsletter to get the top stories in your inbox",
    "Add The Kyiv Independent as a Preferred Source on Google News",
    "Get in touch with our news team by emailing us at news@example.com.",
    "Visited 12 times, 3 visit(s) today",
    "Your email address will not be published. Required fields are marked *",
    "Online media entity; Media identifier - R40-01421.",
    "Extended searchHide extended search",
    "By period:",
    "-",
    "___",
    "Ukrinform",
    "Comment now",
])
def test_boilerplate_line_is_dropped(line):
    text = ("Kyiv said on Monday that talks would resume next week in Geneva.\n"
            f"{line}\n"
            "Officials declined to give further details about the meeting or who would attend.")
    assert toks(line) not in [toks(p) for p in body_of(text).split("\n")] or not toks(line)
    assert "Officials declined" in body_of(text) and "Kyiv said on Monday" in body_of(text)


@pytest.mark.parametrize("line", [
    "The photo agency Getty Images said on Monday it would appeal the ruling in court.",
    "Read the full statement, he said, and you will see that nothing was agreed.",
    "More than 700 square kilometres of territory was taken, the general said.",
    "He wanted to follow the coverage closely, he told reporters on Monday night.",
])
def test_body_sentences_that_look_like_rules_survive(line):
    text = f"Kyiv said on Monday that talks would resume.\n{line}\nOfficials declined to comment."
    assert line in body_of(text)


def test_tail_marker_near_end_truncates():
    paras = [f"Paragraph {i} of the story says something about the war in Ukraine." for i in range(8)]
    text = "\n".join([*paras, "© 2025 Example News. All rights reserved.", "Privacy policy", "Terms of use"])
    assert body_of(text).split("\n") == paras


def test_tail_marker_mid_document_does_not_truncate():
    first = [f"Paragraph {i} of the story says something about the war in Ukraine." for i in range(2)]
    rest = [f"Later paragraph {i} keeps reporting on the talks in Geneva and Kyiv." for i in range(8)]
    text = "\n".join([*first, "Leave a Reply", *rest])
    assert body_of(text).split("\n") == first + rest


def test_related_block_drops_headline_and_teaser_and_its_echo():
    text = "\n\n".join([
        "Withdraw or else, Putin says",
        "Putin said on Thursday that Moscow would halt its offensive only if Kyiv withdraws.",
        "Russia Jails 8 for Life Over Bridge Explosion",
        "You may also like",
        "Russia Jails 8 for Life Over Bridge Explosion",
        "In October 2022, a large explosion caused part of the road section to collapse.",
        "Ukraine has denied that Pokrovsk is encircled, saying its troops hold the line.",
    ])
    r = clean_text(text, "text")
    assert r["title"] == "Withdraw or else, Putin says"
    assert r["body"].split("\n") == [
        "Putin said on Thursday that Moscow would halt its offensive only if Kyiv withdraws.",
        "Ukraine has denied that Pokrovsk is encircled, saying its troops hold the line.",
    ]


def test_link_list_after_marker_keeps_following_article_text():
    text = "\n".join([
        "The plague is rare in China, officials said on Tuesday after two cases were confirmed.",
        "DON'T MISS",
        "Plague warning: CDC names eight deadly diseases [WARNING]",
        "Holidaymakers die after eating marmot [INSIGHT]",
        "According to the CDC, the plague is treatable with antibiotics.",
    ])
    body = body_of(text)
    assert "According to the CDC" in body and "marmot" not in body


# ---------- titles ----------

@pytest.mark.parametrize("text, title", [
    ("Putin warns Europe over troops\nRussian President Vladimir Putin warned on Wednesday.",
     "Putin warns Europe over troops"),
    ("Russian President Vladimir Putin warned on Wednesday that Moscow would act.\nMore text here.", None),
    ("Uncategorized\n\nWithdraw or Russia Will ‘Take Territories by Force’\n\nPutin said so on Thursday.",
     "Withdraw or Russia Will ‘Take Territories by Force’"),
    ("December 17, 2025\nPutin orders offensive to continue\nPutin ordered troops to continue on Tuesday.",
     "Putin orders offensive to continue"),
    ("Is the war nearly over?\nAnalysts doubt that the talks in Geneva will end the war.",
     "Is the war nearly over?"),
])
def test_title_detection(text, title):
    r = clean_text(text, "text")
    assert r["title"] == title
    assert r["body"].startswith(text.split("\n")[0]) is (title is None)


def test_byline_in_header_becomes_author():
    r = clean_text("Putin orders offensive\nBy Jane Smith\nPutin ordered troops on Tuesday.", "text")
    assert r["author"] == "Jane Smith" and r["body"] == "Putin ordered troops on Tuesday."


def test_text_without_any_sentence_keeps_its_lines():
    assert body_of("Kyiv\nKharkiv\nOdesa city centre") == "Kyiv\nKharkiv\nOdesa city centre"


# ---------- HTML ----------

HTML = """<!DOCTYPE html><html lang="en"><head><title>Putin orders offensive to continue | Example</title>
<meta property="og:site_name" content="Example News"><meta name="author" content="Jane Smith">
<meta property="article:published_time" content="2025-12-17T10:00:00Z"></head>
<body><nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article><h1>Putin orders offensive to continue</h1>
<p>Russian leader Vladimir Putin has ordered troops to continue their offensive in Ukraine, aides said.</p>
<p>Read also: Zelensky meets European leaders in Berlin to discuss the peace plan</p>
<p>The orders were given after US President Donald Trump said he believed Moscow wanted peace.</p>
<p>Putin had already set a similar task of creating buffer zones for his military in May and November.</p>
<p>“He said it very convincingly, I believe him,” the American president told reporters on Sunday.</p>
<p>Analysts said the statement showed that the Kremlin was not ready for a ceasefire this winter.</p>
</article><footer><p>© 2025 Example News. All rights reserved.</p></footer></body></html>"""


def test_html_article():
    r = clean_text(HTML, "html", "https://example.com/world/putin")
    assert r["title"].startswith("Putin orders offensive to continue")
    assert r["body"].startswith("Russian leader Vladimir Putin has ordered troops")
    assert "Read also" not in r["body"] and "rights reserved" not in r["body"] and "Home" not in r["body"]
    assert "Analysts said the statement" in r["body"]
    assert r["language"] == "en" and r["published_date"] == "2025-12-17"
    assert r["site_name"] == "Example News" and r["url"] == "https://example.com/world/putin"


def test_html_without_article_gives_empty_body():
    r = clean_text("<html><head><script>var a = 1;</script></head><body></body></html>", "html")
    assert r["body"] == "" and r["language"] is None


# ---------- properties ----------

_lines = st.lists(st.one_of(
    st.text(max_size=80),
    st.sampled_from(["Read also: Other news", "Uncategorized", "___", "Leave a Reply",
                     "Other Topics of Interest", "Putin orders offensive",
                     "Kyiv said on Monday that talks would resume.",
                     "© 2025 X. All rights reserved.", "Photo caption (Picture: Reuters)", "", "-",
                     "By John Smith", "December 17, 2025", "You may also like", "Related:"]),
), max_size=14)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=400), _lines.map("\n".join)))
def test_clean_text_never_raises_and_is_idempotent(text):
    first = clean_text(text, "text")
    assert set(first) == {"title", "body", "language", "published_date", "site_name", "author", "url"}
    assert first["body"] == first["body"].strip() and "\n\n" not in first["body"]
    assert clean_text(first["body"], "text")["body"] == first["body"]


@settings(max_examples=50, deadline=None)
@given(st.text(max_size=300))
def test_clean_html_never_raises(text):
    clean_text(f"<html><body><p>{text}</p></body></html>", "html")


@pytest.mark.parametrize("text, language", [
    # name-heavy English sentences: the classifier alone calls them Nigerian Pidgin
    ("Ivorian coach Sabri Lamouchi picked Kolo and Yaya Toure of Manchester City, plus veterans Didier Drogba "
     "and Gervinho of Arsenal.", "en"),
    # other languages keep theirs without their names (German capitalises every noun)
    ("Die ganze Stadt ist ein Startup: Shenzhen ist das Silicon Valley für Hardware-Firmen", "de"),
    ("London er en storby i Storbritannien.", "da"),
    ("Apple considera comprar una startup del Reino Unido por mil millones de dólares.", "es"),
])
def test_language_is_read_without_names(text, language):
    from newsfacts.clean import _language

    assert _language(text) == language


@pytest.mark.parametrize("text, is_article", [
    # one sentence that asks or exclaims is an article
    ("While we're at it, can we wait a little longer before we canonize Cowboys quarterback Tony Romo?", True),
    ("The minister said the vote would go ahead whatever the court decides on Monday!", True),
    # one sentence and a wire sign-off
    ("Western Digital Corp said its convertible debentures were converted into common shares. Reuter", True),
    # title-case headlines, labels and navigation alone are not
    ("Is This The End Of The Euro As We Know It?", False),
    ("Subscribe now!", False),
    ("Previous article Cardinals receiver scores award Next article Blood type might be a clue", False),
    ("Apple Inc. Reports Record Quarter As iPhone Sales Climb", False),
])
def test_a_short_text_is_an_article_when_it_reads_as_a_sentence(text, is_article):
    from newsfacts.clean import clean_bytes

    if is_article:
        assert clean_bytes(text.encode(), "one.txt")["body"] == text
    else:
        with pytest.raises(BadInput, match="only short lines without a sentence"):
            clean_bytes(text.encode(), "one.txt")
