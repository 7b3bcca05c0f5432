"""Every class of bad input from issue 6, each in its own test, plus hostile content.

One real Prefect run goes over a folder that holds every bad input next to three seeds; each test then
asserts where its file landed (document, duplicate, quarantine) and why. Inputs that cannot be staged in a
folder (a file vanishing mid-run, permissions when the tests run as root) are checked on the ingest
functions directly. The security tests parse hostile pages with a loopback server and an audit hook
watching for any network access.
"""

from __future__ import annotations

import codecs
import gzip
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import duckdb
import ftfy.bad_codecs  # noqa: F401  (registers sloppy-windows-1252, how browsers misread UTF-8)
import pytest
from newsfacts import ingest
from newsfacts.clean import clean_bytes
from newsfacts.config import Settings
from newsfacts.encoding import BadInput, read_payload
from newsfacts.rawstore import RawStore

SEEDS = Path(__file__).resolve().parents[1] / "seeds"

pytestmark = pytest.mark.slow

ARTICLE = ("Officials in Kyiv said on Monday that the talks in Geneva would resume next week.\n"
           "The Kremlin’s spokesman said “nothing was agreed” – and the café owners of Genève were not amused.\n"
           "Diplomats from Berlin and Warsaw are expected to attend, according to a statement.")
HEADLINE = "Talks resume in Geneva next week"
TEXT = f"{HEADLINE}\n{ARTICLE}\n"
HTML_ARTICLE = "".join(f"<p>{p}</p>" for p in ARTICLE.split("\n"))
FRENCH = ("Les agriculteurs recevront une aide avant l'hiver\n"
          "Le gouvernement français a annoncé lundi une nouvelle série de mesures pour soutenir les agriculteurs "
          "touchés par la sécheresse. Le ministre a déclaré que les aides seraient versées avant la fin du mois.\n"
          "Les syndicats agricoles ont salué cette décision, tout en estimant qu'elle restait insuffisante.\n")
RUSSIAN = ("Путин о переговорах в Женеве\n"
           "Президент России Владимир Путин заявил в понедельник, что переговоры продолжатся на следующей "
           "неделе в Женеве. По его словам, Москва готова к диалогу.\n"
           "В Киеве эти заявления встретили со скептицизмом, отметив, что обстрелы продолжаются.\n")
DEPTH = 10_000
GIB = 1 << 30


def _bomb(total: int) -> bytes:
    """A multi-member gzip that expands to ``total`` bytes of zeros (each member 64 MiB)."""
    member = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    return member * (total // (64 << 20))


def _inputs(src: Path) -> None:
    """The folder of bad inputs: one file per input class of issue 6, plus three seeds."""
    for name in ("000_9ca8ce40a0d588c5.txt", "002_280bab9ed6877c1e.txt", "003_cbbee4fbff1a1da0.txt"):
        shutil.copy(SEEDS / name, src / name)
    shutil.copy(SEEDS / "000_9ca8ce40a0d588c5.txt", src / "same_article_other_name.txt")
    files = {
        "empty.txt": b"",
        "whitespace.txt": b" \n\t\r\n   \n",
        "photo.html": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
        "report.html": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 20,
        "bundle.txt": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256)) * 4,
        "invalid_utf8.txt": TEXT.encode().replace("’".encode(), "’".encode()[:2]) + b" caf\xe9 \x80.\n",
        "utf16_bom.txt": codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
        "windows1252.txt": TEXT.encode("cp1252"),
        "latin1.txt": TEXT.replace("’", "'").replace("“", '"').replace("”", '"').replace("–", "-").encode("latin-1"),
        "double_encoded.txt": TEXT.encode().decode("sloppy-windows-1252").encode(),
        "replacement_chars.txt": TEXT.replace("Geneva would", "Geneva\ufffd would").encode(),
        "nav_only.html": b"<html><body><nav><a href='/'>Home</a> <a href='/world'>World</a> <a href='/sport'>Sport"
                         b"</a></nav><footer><a href='/about'>About us</a></footer></body></html>",
        "scripts_only.html": b"<html><head><script>var article = 'Officials said on Monday that talks resume.';"
                             b"</script></head><body><script src='http://127.0.0.1:9/x.js'></script>"
                             b"<noscript>Enable JavaScript</noscript></body></html>",
        "malformed.html": f"<html><body><p>Unclosed <b>bold <i>italic <article><h1>{HEADLINE}</h1>{HTML_ARTICLE}"
                          "<td></tr></table></p></div> <<<>>> &bogus; <p attr='x>".encode(),
        "nested_10000.html": (f"<html><body><article><h1>{HEADLINE}</h1>{HTML_ARTICLE}</article>"
                              + "<div>" * DEPTH + "deep" + "</div>" * DEPTH + "</body></html>").encode(),
        "gzip_bomb.html.gz": _bomb(2 * GIB),
        "french.txt": FRENCH.encode(),
        "russian_cp1251.txt": RUSSIAN.encode("cp1251"),
        "notes.pdf": b"%PDF-1.4\n",
    }
    for name, blob in files.items():
        (src / name).write_bytes(blob)
    with open(src / "page_over_50mb.html", "wb") as fh:  # sparse: the size is real, the disk cost is not
        fh.truncate(Settings().max_file_bytes + 1)
    os.mkfifo(src / "named_pipe.txt")
    os.symlink(src, src / "loop")
    os.symlink(src.parent / "outside_secret.txt", src / "escape.txt")


@pytest.fixture(scope="module")
def robust_run(tmp_path_factory, prefect_harness, gazetteer_path):
    """One real flow run over the bad-input folder, then its published warehouse opened read-only."""
    from newsfacts.flow import newsfacts_flow

    tmp = tmp_path_factory.mktemp("robust")
    src = tmp / "inbox"
    src.mkdir()
    (tmp / "outside_secret.txt").write_text("OUTSIDE-THE-SOURCE-FOLDER\n")
    _inputs(src)
    wh = tmp / "robust.duckdb"
    started = time.monotonic()
    summary = newsfacts_flow(source=str(src), warehouse_path=str(wh))
    seconds = time.monotonic() - started
    con = duckdb.connect(str(wh), read_only=True)
    store = RawStore(Settings().with_overrides(warehouse=str(wh)).raw_store)
    yield dict(summary=summary, con=con, src=src, wh=wh, seconds=seconds, store=store)
    con.close()


def _landing(run, name: str) -> dict:
    """Where one input landed: its input_files status, quarantine stage/reason and document row."""
    con = run["con"]
    uri = str(run["src"] / name)
    status = con.execute("select status from input_files where source_uri = ?", [uri]).fetchall()
    quarantined = [(stage, reason, run["store"].get(h) if h else None) for stage, reason, h in con.execute(
        "select stage, reason, content_hash from quarantine where source_uri = ?", [uri]).fetchall()]
    doc = con.execute("select doc_id, title, body, language, encoding, encoding_repaired, media_type "
                      "from documents where source_uri = ?", [uri]).fetchall()
    keys = ["doc_id", "title", "body", "language", "encoding", "encoding_repaired", "media_type"]
    return dict(status=[s for (s,) in status], quarantine=quarantined, doc=dict(zip(keys, doc[0], strict=True))
                if doc else None)


def _quarantined(run, name: str, stage: str) -> tuple[str, bytes | None]:
    got = _landing(run, name)
    assert got["status"] == ["quarantined"] or stage != "ingest", got["status"]
    assert got["doc"] is None
    assert [q[0] for q in got["quarantine"]] == [stage], got["quarantine"]
    return got["quarantine"][0][1], got["quarantine"][0][2]


def _loaded(run, name: str) -> dict:
    got = _landing(run, name)
    assert got["status"] == ["loaded"] and got["quarantine"] == [], got
    return got["doc"]


# ---------- the run as a whole ----------

def test_run_completes_and_accounts_for_every_input(robust_run):
    s, con = robust_run["summary"], robust_run["con"]
    listed = len(list(ingest.list_inputs(robust_run["src"])))
    assert s["inputs"] == listed == con.execute("select count(*) from input_files").fetchone()[0]
    assert s["inputs"] == s["loaded"] + s["unchanged"] + s["duplicate"] + s["quarantined"]
    assert s["loaded"] == con.execute("select count(*) from documents").fetchone()[0]
    assert con.execute("select count(*) from dq_results where not success").fetchone()[0] == 0
    assert con.execute("select count(*) from dq_results where stage = 'accounting' and success").fetchone()[0] > 0


def test_every_quarantined_input_keeps_bytes_or_a_reference(robust_run):
    """Quarantine keeps the bytes it could read in the raw store, under their hash (``get`` checks it)."""
    rows = robust_run["con"].execute("select source_uri, stage, reason, content_hash from quarantine").fetchall()
    assert rows
    for uri, stage, reason, chash in rows:
        assert uri.startswith(str(robust_run["src"])) and stage and len(reason) >= 10, (uri, reason)
        if chash is not None:
            assert ingest.content_hash(robust_run["store"].get(chash)) == chash
        else:
            assert Path(uri).exists() or os.path.lexists(uri), uri


# ---------- one test per input class ----------

@pytest.mark.parametrize("name", ["empty.txt", "whitespace.txt"])
def test_empty_and_whitespace_only(robust_run, name):
    reason, raw = _quarantined(robust_run, name, "ingest")
    assert reason.startswith("empty file") and raw is not None


@pytest.mark.parametrize("name, what", [("photo.html", "PNG"), ("report.html", "PDF"), ("bundle.txt", "ZIP")])
def test_binary_with_a_text_extension(robust_run, name, what):
    reason, raw = _quarantined(robust_run, name, "ingest")
    assert reason.startswith("binary content") and what in reason
    assert bytes(raw) == (robust_run["src"] / name).read_bytes()


def test_invalid_utf8_keeps_the_article(robust_run):
    doc = _loaded(robust_run, "invalid_utf8.txt")
    assert doc["encoding"] == "utf-8-mixed"
    assert "Officials in Kyiv said on Monday" in doc["body"] and doc["body"].endswith("café .")
    assert "\ufffd" not in doc["body"] and "â" not in doc["body"]


def test_utf16_with_bom(robust_run):
    doc = _loaded(robust_run, "utf16_bom.txt")
    assert doc["encoding"] == "utf-16-le" and doc["title"] == HEADLINE and doc["body"] == ARTICLE


def test_windows_1252(robust_run):
    doc = _loaded(robust_run, "windows1252.txt")
    assert doc["encoding"] == "cp1252" and doc["body"] == ARTICLE and not doc["encoding_repaired"]


def test_latin_1(robust_run):
    doc = _loaded(robust_run, "latin1.txt")
    assert doc["encoding"] == "iso-8859-1" and "café owners of Genève" in doc["body"]


def test_double_encoded_utf8_is_repaired(robust_run):
    doc = _loaded(robust_run, "double_encoded.txt")
    assert doc["encoding_repaired"] and doc["body"] == ARTICLE and doc["title"] == HEADLINE


def test_replacement_characters_are_dropped_not_fatal(robust_run):
    doc = _loaded(robust_run, "replacement_chars.txt")
    assert doc["encoding_repaired"] and "\ufffd" not in doc["body"] and "Geneva would" in doc["body"]


def test_lossy_mojibake_of_seed_002(robust_run):
    doc = _loaded(robust_run, "002_280bab9ed6877c1e.txt")
    assert doc["encoding_repaired"] and "â" not in doc["body"] and "Kremlin’s demands" in doc["body"]


@pytest.mark.parametrize("name", ["nav_only.html", "scripts_only.html"])
def test_html_with_no_article(robust_run, name):
    reason, raw = _quarantined(robust_run, name, "clean")
    assert reason.startswith("no article text found") and raw is not None
    assert _landing(robust_run, name)["status"] == ["loaded"]  # read fine at ingest, refused by the cleaner


def test_malformed_html(robust_run):
    doc = _loaded(robust_run, "malformed.html")
    assert doc["media_type"] == "html" and "Officials in Kyiv said on Monday" in doc["body"]


def test_html_nested_10000_levels(robust_run):
    doc = _loaded(robust_run, "nested_10000.html")
    assert "Diplomats from Berlin and Warsaw" in doc["body"]


def test_article_buried_under_10000_levels_is_quarantined_not_fatal():
    """libxml2 stops descending at 256 levels: an article below that is lost, with a reason, quickly."""
    page = ("<html><body>" + "<div>" * DEPTH + f"<article>{HTML_ARTICLE}</article>" + "</div>" * DEPTH
            + "</body></html>").encode()
    started = time.monotonic()
    with pytest.raises(BadInput, match="no article text found"):
        clean_bytes(page, "buried.html")
    assert time.monotonic() - started < 20


def test_page_over_the_size_limit_is_refused_unread(robust_run):
    reason, raw = _quarantined(robust_run, "page_over_50mb.html", "ingest")
    assert reason.startswith("file too large") and "raw bytes not kept" in reason and raw is None


def test_page_of_50_mb_under_the_limit_is_cleaned():
    """A 50 MB page (inline scripts around a short article) is read and cleaned within bounded time."""
    filler = "<script>var data = '" + "A" * 1000 + "';</script>\n"
    page = (f"<html><head><title>{HEADLINE}</title>" + filler * 49_000
            + f"</head><body><article><h1>{HEADLINE}</h1>{HTML_ARTICLE}</article></body></html>").encode()
    assert 49_000_000 < len(page) <= Settings().max_file_bytes
    started = time.monotonic()
    doc = clean_bytes(page, "big.html")
    assert time.monotonic() - started < 120
    assert doc["body"] == ARTICLE


def test_gzip_bomb_refused_without_decompressing_it_all(robust_run):
    reason, raw = _quarantined(robust_run, "gzip_bomb.html.gz", "ingest")
    assert "gzip expands past" in reason and "limit" in reason
    assert bytes(raw) == (robust_run["src"] / "gzip_bomb.html.gz").read_bytes()


def test_gzip_bomb_stops_at_the_limit_quickly():
    bomb = _bomb(GIB)
    started = time.monotonic()
    with pytest.raises(BadInput, match="gzip expands past"):
        read_payload(bomb, "bomb.html.gz", max_bytes=8 << 20)
    assert time.monotonic() - started < 2  # 8 MiB decompressed at most, not 1 GiB


@pytest.mark.parametrize("name, lang, encoding", [("french.txt", "fr", "utf-8"),
                                                  ("russian_cp1251.txt", "ru", "cp1251")])
def test_non_english_is_kept_marked_and_skipped_by_english_stages(robust_run, name, lang, encoding):
    doc = _loaded(robust_run, name)
    assert doc["language"] == lang and doc["encoding"] == encoding and len(doc["body"]) > 100
    con = robust_run["con"]
    for table in ("sentences", "entity_mentions", "toponym_mentions", "actor_mentions", "fact_actor_mention",
                  "fact_location_mention"):
        assert con.execute(f"select count(*) from {table} where doc_id = ?", [doc["doc_id"]]).fetchone()[0] == 0


def test_same_article_under_two_names(robust_run):
    doc = _loaded(robust_run, "000_9ca8ce40a0d588c5.txt")
    copy = _landing(robust_run, "same_article_other_name.txt")
    assert copy["status"] == ["duplicate"] and copy["quarantine"] == [] and copy["doc"] is None
    con = robust_run["con"]
    assert con.execute("select count(*) from documents where doc_id = ?", [doc["doc_id"]]).fetchone()[0] == 1
    hashes = con.execute("select distinct content_hash from input_files where source_uri like '%000_9ca8%' "
                         "or source_uri like '%same_article_other_name.txt'").fetchall()
    assert len(hashes) == 1


def test_symbolic_link_loop(robust_run):
    reason, _ = _quarantined(robust_run, "loop", "ingest")
    assert "loop" in reason


def test_link_escaping_the_source_folder(robust_run):
    reason, raw = _quarantined(robust_run, "escape.txt", "ingest")
    assert "outside the source folder" in reason and raw is None
    con = robust_run["con"]
    assert not any(b"OUTSIDE-THE-SOURCE" in robust_run["store"].get(h)
                   for (h,) in con.execute("select content_hash from raw_documents").fetchall())


def test_unsupported_extension(robust_run):
    reason, _ = _quarantined(robust_run, "notes.pdf", "ingest")
    assert reason.startswith("unsupported file type")


def test_named_pipe_does_not_hang_the_run(robust_run):
    reason, raw = _quarantined(robust_run, "named_pipe.txt", "ingest")
    assert reason == "not a regular file (named pipe); nothing read" and raw is None


def _as_nobody(fn):
    """Run ``fn`` with the effective uid of an unprivileged user when the tests run as root (root reads
    anything, so permissions can only be tested without it)."""
    if os.geteuid() != 0:
        return fn()
    os.seteuid(65534)
    try:
        return fn()
    finally:
        os.seteuid(0)


def test_unreadable_file_and_folder():
    root = Path(tempfile.mkdtemp(prefix="newsfacts-perm-"))
    try:
        root.chmod(0o755)
        (root / "ok.txt").write_text(TEXT)
        (root / "secret.txt").write_text(TEXT.replace("Geneva", "Vienna"))
        (root / "secret.txt").chmod(0)
        (root / "locked").mkdir()
        (root / "locked" / "inside.txt").write_text(TEXT)
        (root / "locked").chmod(0)
        (root / "ok.txt").chmod(0o644)
        batch = _as_nobody(lambda: ingest.ingest_batch(list(ingest.list_inputs(root)), set(), set(), "r", 10**6,
                                                       10**6))
        by_name = {Path(f["source_uri"]).name: f["status"] for f in batch.input_files}
        assert by_name == {"ok.txt": "loaded", "secret.txt": "quarantined", "locked": "quarantined"}
        reasons = {Path(q["source_uri"]).name: q["reason"] for q in batch.quarantine}
        assert reasons["secret.txt"] == "unreadable file: Permission denied"
        assert reasons["locked"] == "cannot list folder: Permission denied"
    finally:
        (root / "locked").chmod(0o755)
        shutil.rmtree(root)


@pytest.mark.parametrize("change", ["deleted", "replaced_by_folder", "grown_past_limit"])
def test_file_changing_between_listing_and_reading(tmp_path, change):
    path = tmp_path / "moving.txt"
    path.write_text(TEXT)
    items = list(ingest.list_inputs(tmp_path))
    path.unlink()
    if change == "replaced_by_folder":
        path.mkdir()
    elif change == "grown_past_limit":
        path.write_bytes(b"x" * 20_000)
    batch = ingest.ingest_batch(items, set(), set(), "r", 10_000, 10_000)
    assert [f["status"] for f in batch.input_files] == ["quarantined"]
    reason = batch.quarantine[0]["reason"]
    assert reason == {"deleted": "file disappeared between listing and reading",
                      "replaced_by_folder": "not a regular file (folder); nothing read",
                      "grown_past_limit": "file too large: 20000 bytes > limit 10000 (raw bytes not kept; the file"
                                          " stays at its source)"}[change]


# ---------- hostile content ----------

class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's naming
        type(self).hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"FETCHED-CONTENT")

    def log_message(self, *args):
        pass


@pytest.fixture
def loopback_server():
    _Recorder.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.hits
    server.shutdown()
    server.server_close()


_NETWORK_EVENTS: list[tuple[str, tuple]] = []
_WATCHING = threading.Event()


_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.sendto", "urllib.Request",
            "http.client.connect", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn"}


def _audit(event: str, args: tuple) -> None:
    if _WATCHING.is_set() and event in _WATCHED:
        _NETWORK_EVENTS.append((event, args))


sys.addaudithook(_audit)


def _hostile_page(base: str, secret: Path) -> bytes:
    return f"""<?xml version="1.0"?>
<!DOCTYPE html [<!ENTITY xxe SYSTEM "file://{secret}"><!ENTITY remote SYSTEM "{base}/entity">]>
<html xmlns:xi="http://www.w3.org/2001/XInclude"><head><title>{HEADLINE}</title>
<script src="{base}/script.js"></script><script>fetch("{base}/inline"); document.write("INJECTED");</script>
<link rel="stylesheet" href="{base}/style.css"><meta http-equiv="refresh" content="0; url={base}/refresh">
</head><body><article><h1>{HEADLINE}</h1>{HTML_ARTICLE}<p>Entity: &xxe; and &remote;.</p>
<img src="{base}/pixel.png"><iframe src="{base}/frame"></iframe><xi:include href="{base}/xinclude"/>
<object data="{base}/object"></object></article></body></html>""".encode()


def test_hostile_html_never_fetches_inlines_files_or_runs_scripts(tmp_path, loopback_server):
    base, hits = loopback_server
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-TOKEN-42")
    page = _hostile_page(base, secret)
    _NETWORK_EVENTS.clear()
    _WATCHING.set()
    try:
        doc = clean_bytes(page, "hostile.html")
    finally:
        _WATCHING.clear()
    assert "Officials in Kyiv said on Monday" in doc["body"]
    text = f"{doc['title']}\n{doc['body']}"
    assert "TOP-SECRET-TOKEN-42" not in text and "FETCHED-CONTENT" not in text and "INJECTED" not in text
    assert hits == [], hits
    assert _NETWORK_EVENTS == [], _NETWORK_EVENTS[:5]


def test_audit_hook_would_see_a_connection(loopback_server):
    """The watcher above is not vacuous: a real connection attempt is recorded."""
    import urllib.request

    base, hits = loopback_server
    _NETWORK_EVENTS.clear()
    _WATCHING.set()
    try:
        urllib.request.urlopen(f"{base}/probe", timeout=5).read()
    finally:
        _WATCHING.clear()
    assert hits == ["/probe"]
    assert any(event == "socket.connect" for event, _ in _NETWORK_EVENTS)


@pytest.mark.parametrize("query", [
    "copy (select 1) to '{out}'",
    "create table stolen as select 1",
    "delete from documents",
    "attach '{out}.duckdb' as other",
    "export database '{out}_dir'",
    "install httpfs",
    "select 1; drop table documents",
])
def test_sql_command_cannot_write(robust_run, tmp_path, query):
    wh = robust_run["wh"]
    before = wh.read_bytes()
    out = tmp_path / "leak.csv"
    cli = Path(sys.executable).with_name("newsfacts")
    run = subprocess.run([str(cli), "sql", query.format(out=out), "--warehouse", str(wh)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode != 0, run.stdout
    assert "newsfacts sql" in run.stderr
    assert list(tmp_path.iterdir()) == [] and wh.read_bytes() == before


def test_multi_member_gzip_with_large_members_is_read_whole():
    """Regression: past the end of a member larger than one read chunk, zlib echoed the rest forever."""
    first, second = b"a" * 300_000, b"closing paragraph"
    assert read_payload(gzip.compress(first) + gzip.compress(second), "two.html.gz") == first + second


def test_one_endless_paragraph_is_quarantined_before_ner():
    """A 1.25 MB line with no break would make spaCy refuse the text (max 1,000,000) and stop the run."""
    with pytest.raises(BadInput, match="paragraph of 1249999 characters"):
        clean_bytes(b"word " * 250_000, "endless.txt")
