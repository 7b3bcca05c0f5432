"""Build benchmark corpora of N unique news pages from the 181 real pages of the extraction benchmark.

Document i is page ``i % 181``; its first copy is the page itself, and every later copy keeps the page's
markup byte for byte but replaces each prose text node (8 words or more, outside scripts, styles and
comments) with sentences of about the same length drawn at random from the benchmark's English gold
article bodies. Copies therefore differ in their content hash and share almost no word shingles, so
neither content-hash skipping nor story grouping can collapse them, while the page layouts (and so the
extraction work) stay real. The draw is seeded per document, so corpora are reproducible and the first
N documents of a larger corpus are those of a smaller one.

The ``editions`` kind models wire news instead: document i is page ``i % 181`` byte for byte with one
unique line added before ``</body>`` (copies after the first), so every page comes in five or six
near-identical editions that differ in their content hash but belong to one story.

Files are written one at a time to ``<out>/corpus-<N>/`` (gzipped HTML, as the benchmark ships) and a
marker file makes later calls reuse the finished corpus; the corpus is never held in memory.
"""

from __future__ import annotations

import argparse
import gzip
import html
import json
import random
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VERSION = 1
SEED = 20261121
MIN_PROSE_WORDS = 8
_MASKED = re.compile(r"(<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->)", re.S | re.I)
_TEXT_NODE = re.compile(r">([^<>]+)<")
_SENTENCE_END = re.compile(r"(?:(?<=[.!?])|(?<=[.!?][\"'”’)]))\s+(?=[\"“‘(]?[A-Z0-9])")


def benchmark_pages(shared: Path) -> list[Path]:
    return sorted((shared / "data/article-extraction-benchmark/html").glob("*.html.gz"))


def sentence_pool(shared: Path) -> list[str]:
    """Sentences of the English gold article bodies (5 to 60 words), in a fixed order."""
    import py3langid

    gold = json.loads((shared / "data/article-extraction-benchmark/ground-truth.json").read_text(encoding="utf-8"))
    pool = []
    for key in sorted(gold):
        body = gold[key].get("articleBody") or ""
        if py3langid.classify(body)[0] != "en":
            continue
        for para in body.splitlines():
            for s in _SENTENCE_END.split(" ".join(para.split())):
                if 5 <= len(s.split()) <= 60:
                    pool.append(s)
    return pool


def _prose(text: str, rng: random.Random, pool: list[str]) -> str:
    """About as many words of pool sentences as ``text`` has, HTML-escaped, keeping its outer spaces."""
    words = len(text.split())
    if words < MIN_PROSE_WORDS:
        return text
    out: list[str] = []
    n = 0
    while n < words:
        s = pool[rng.randrange(len(pool))]
        out.append(s)
        n += len(s.split())
    lead = text[:len(text) - len(text.lstrip())]
    trail = text[len(text.rstrip()):]
    return lead + html.escape(" ".join(out), quote=False) + trail


def vary_page(page_html: str, rng: random.Random, pool: list[str]) -> str:
    """The page with every prose text node replaced by pool sentences; markup untouched."""
    parts = _MASKED.split(page_html)
    for i in range(0, len(parts), 2):
        parts[i] = _TEXT_NODE.sub(lambda m: ">" + _prose(html.unescape(m.group(1)), rng, pool) + "<"
                                  if len(m.group(1).split()) >= MIN_PROSE_WORDS else m.group(0), parts[i])
    return "".join(parts)


def add_edition_line(page_html: str, i: int) -> str:
    """The page with one line that only document ``i`` has, just before ``</body>`` (else at the end)."""
    line = f"<p>Edition {i} of this report, filed by the wire desk.</p>"
    at = page_html.lower().rfind("</body>")
    return page_html[:at] + line + page_html[at:] if at >= 0 else page_html + line


def document(i: int, pages: list[Path], pool: list[str], seed: int = SEED, kind: str = "unique") -> tuple[str, bytes]:
    """(file name, gzipped bytes) of document ``i`` of a corpus of the given kind."""
    page = pages[i % len(pages)]
    raw = gzip.decompress(page.read_bytes())
    copy = i // len(pages)
    if copy:
        text = raw.decode("utf-8", "surrogateescape")
        text = add_edition_line(text, i) if kind == "editions" else vary_page(text, random.Random(f"{seed}:{i}"), pool)
        raw = text.encode("utf-8", "surrogateescape")
    name = f"{i:05d}-{page.name.split('.')[0][:16]}.html.gz"
    return name, gzip.compress(raw, compresslevel=5, mtime=0)


KINDS = ("unique", "editions")


def ensure_corpus(shared: Path, n: int, out_root: Path | None = None, seed: int = SEED, kind: str = "unique") -> Path:
    """The folder of the N-document corpus, built once (into a temporary folder renamed at the end)."""
    out_root = out_root or ROOT / "data" / "bench"
    target = out_root / (f"corpus-{n}" if kind == "unique" else f"corpus-{kind}-{n}")
    marker = target / ".complete.json"
    params = {"version": VERSION, "seed": seed, "documents": n} | ({} if kind == "unique" else {"kind": kind})
    if marker.exists() and json.loads(marker.read_text()) == params:
        return target
    pages = benchmark_pages(shared)
    if not pages:
        raise FileNotFoundError(f"no benchmark pages under {shared}")
    pool = sentence_pool(shared)
    tmp = out_root / f".{target.name}.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for i in range(n):
        name, data = document(i, pages, pool, seed, kind)
        (tmp / name).write_bytes(data)
    (tmp / ".complete.json").write_text(json.dumps(params))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="+", type=int, help="corpus sizes, e.g. 1000 10000")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(ROOT / "data" / "bench"))
    ap.add_argument("--kind", choices=KINDS, default="unique")
    args = ap.parse_args()
    for n in args.sizes:
        print(ensure_corpus(Path(args.shared), n, Path(args.out), kind=args.kind))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
