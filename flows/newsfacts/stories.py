"""Group syndicated or lightly rewritten editions of one story.

Editions of one wire story share far fewer word shingles than usual near-duplicate thresholds
assume (seeds 001/002: 3-shingle Jaccard 0.24, MinHash estimate ~0.13), so candidates come from
MinHash LSH tuned low (64 bands of 2 rows: a pair at Jaccard 0.24 collides with p ≈ 0.98, one at
0.01 with p ≈ 0.006) and are confirmed by the exact shingle Jaccard plus paragraph alignment
(rapidfuzz), which unrelated articles on the same topic do not pass.

Signatures persist between runs as ``story_signatures(doc_id, band, hash)``: a new batch finds its
candidates among all earlier documents with one equi-join on (band, hash), so earlier bodies are read
only for the few candidates.

The work per document is bounded, whatever the warehouse holds: an LSH bucket (one band's hash) keeps at
most ``BUCKET_CAP`` documents, the earliest to arrive (a story's first editions stand for it: any edition
names the story), so a document meets at most ``BANDS × BUCKET_CAP`` candidates however many editions or
boilerplate pages share its buckets; and it is compared with at most ``MAX_CANDIDATES`` of them, one
confirmed edition per story being enough to name that story. A document's stored signature therefore holds
only the bands whose bucket had room when it arrived. Comparisons use each body's shingles as sorted 64-bit
hashes, kept for the last ``GRAM_CACHE`` bodies a process compared: the earliest documents that fill the
buckets are the candidates of many later ones, so most comparisons find their shingles already built.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from collections.abc import Callable, Iterable

import numpy as np
from datasketch import MinHash
from rapidfuzz import fuzz, process

NUM_PERM = 128
BANDS = 64
ROWS = NUM_PERM // BANDS
SHINGLE = 3
SEED = 1
MIN_JACCARD = 0.10
MIN_ALIGNED = 0.30
MAX_CANDIDATES = 20  # candidates compared per document at most, most shared LSH bands first
BUCKET_CAP = 8  # documents an LSH bucket keeps (the earliest); later ones still find them, but are not added
GRAM_CACHE = 8192  # bodies whose shingle hashes a process keeps (about 8 KB each, 65 MB in all)
PARA_RATIO = 70
MIN_PARA_WORDS = 8
WORD = re.compile(r"\w+")


def shingles(body: str, k: int = SHINGLE) -> set[str]:
    """Case-blind word k-grams of a body, joined by a space: what the MinHash signatures hash."""
    words = [w.casefold() for w in WORD.findall(body or "")]
    return {" ".join(words[i:i + k]) for i in range(max(0, len(words) - k + 1))}


_grams_kept: OrderedDict[int, np.ndarray] = OrderedDict()  # hash(body) -> its shingle hashes, least recent first


def _gram_hashes(body: str) -> np.ndarray:
    """The body's shingles as sorted distinct 64-bit hashes, for comparisons.

    They give the Jaccard of the sets of :func:`shingles` (but for a 64-bit hash collision) in a tenth of
    those sets' memory, so a process keeps the last ``GRAM_CACHE`` bodies' (keyed by the body's hash, not
    the body): LSH buckets keep their earliest documents, which then meet many later ones, across batches.
    """
    key = hash(body)
    grams = _grams_kept.get(key)
    if grams is None:
        grams = _grams_kept[key] = _hash_grams(body)
        if len(_grams_kept) > GRAM_CACHE:
            _grams_kept.popitem(last=False)
    else:
        _grams_kept.move_to_end(key)
    return grams


def _hash_grams(body: str) -> np.ndarray:
    words = list(map(str.casefold, WORD.findall(body or "")))
    grams = np.fromiter(map(hash, zip(*(words[i:] for i in range(SHINGLE)), strict=False)), dtype=np.int64)
    grams.sort()
    return grams[np.concatenate(([True], grams[1:] != grams[:-1]))] if grams.size else grams


def _jaccard_sorted(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard of two sorted distinct arrays: each of the smaller one's values looked up in the larger."""
    if not a.size or not b.size:
        return 0.0
    if a.size > b.size:
        a, b = b, a
    at = np.searchsorted(b, a)
    at[at == b.size] = 0  # past the end: b[0] < a value there, so it cannot match
    common = int((b[at] == a).sum())
    return common / (a.size + b.size - common)


def band_hashes(body: str) -> list[int]:
    """One signed 64-bit hash per LSH band of the body's MinHash (deterministic across runs)."""
    mh = MinHash(num_perm=NUM_PERM, seed=SEED)
    sh = shingles(body)
    if sh:
        mh.update_batch([s.encode("utf-8") for s in sh])
    hv = np.asarray(mh.hashvalues, dtype=np.uint64)
    out = []
    for b in range(BANDS):
        digest = hashlib.blake2b(hv[b * ROWS:(b + 1) * ROWS].tobytes(), digest_size=8).digest()
        out.append(int.from_bytes(digest, "big", signed=True))
    return out


def signature_rows(doc_id: str, body: str) -> list[dict]:
    """Rows of ``story_signatures`` for one document."""
    return [{"doc_id": doc_id, "band": b, "hash": h} for b, h in enumerate(band_hashes(body))]


def _paragraphs(body: str) -> list[str]:
    return [p.strip() for p in (body or "").split("\n") if len(WORD.findall(p)) >= MIN_PARA_WORDS]


def aligned_share(a: str, b: str) -> float:
    """Share of the shorter body's paragraphs that have a counterpart in the other (ratio ≥ PARA_RATIO)."""
    pa, pb = _paragraphs(a), _paragraphs(b)
    if len(pa) > len(pb):
        pa, pb = pb, pa
    if not pa or not pb:
        return 0.0
    hits = sum(1 for p in pa if process.extractOne(p, pb, scorer=fuzz.ratio, score_cutoff=PARA_RATIO))
    return hits / len(pa)


def same_story(a: str, b: str) -> tuple[bool, float, float]:
    """(confirmed, shingle Jaccard, aligned paragraph share) for a candidate pair."""
    return _confirm(a, _gram_hashes(a), b)


def _confirm(a: str, a_grams: np.ndarray, b: str) -> tuple[bool, float, float]:
    j = _jaccard_sorted(a_grams, _gram_hashes(b))
    if j < MIN_JACCARD:
        return False, j, 0.0
    share = aligned_share(a, b)
    return share >= MIN_ALIGNED, j, share


def assign_stories(docs: list[tuple[str, str]],
                   existing: Iterable[tuple[str, int, int]] = (),
                   existing_story: dict[str, str] | None = None,
                   fetch_bodies: Callable[[list[str]], dict[str, str]] | None = None,
                   hashes: dict[str, list[int]] | None = None) -> list[dict]:
    """Story of each new document: ``story_id`` is the doc_id of the story's earliest edition.

    ``docs`` are (doc_id, body) in publication order; every earlier run's document counts as older.
    ``existing`` are stored (doc_id, band, hash) rows — all of them, or only those sharing a
    (band, hash) with this batch (the join is cheaper in SQL); ``existing_story`` maps those doc_ids
    to their story_id and ``fetch_bodies`` returns the bodies of the candidates that need confirming.
    Returns dicts (doc_id, story_id, similarity, matched_doc_id, aligned_share, signature), where
    similarity is the 3-shingle Jaccard with the matched edition (None for a story's first edition)
    and signature the document's ``story_signatures`` rows (the bands whose bucket had room). ``hashes`` may
    hold :func:`band_hashes` already computed for some documents (MinHash is most of this function's cost).
    """
    index: dict[tuple[int, int], list[str]] = {}
    story = dict(existing_story or {})
    # Sorted, and ties below broken by doc_id: the stored rows come from a parallel join in any order, and
    # that order must not decide a document's candidates.
    for doc_id, band, h in sorted(existing):
        index.setdefault((band, h), []).append(doc_id)
    bodies: dict[str, str] = {}
    out = []
    for doc_id, body in docs:
        bands = (hashes or {}).get(doc_id) or band_hashes(body)
        shared: dict[str, int] = {}
        for band, h in enumerate(bands):
            for other in index.get((band, h), ())[:BUCKET_CAP]:
                if other != doc_id:
                    shared[other] = shared.get(other, 0) + 1
        # More shared bands means a higher estimated similarity: try the likeliest candidates first, at most
        # MAX_CANDIDATES of them, and no more of a story once one of its editions is confirmed.
        cands = sorted(shared, key=lambda c: (-shared[c], c))[:MAX_CANDIDATES]
        missing = [c for c in cands if c not in bodies]
        if missing and fetch_bodies is not None:
            bodies.update(fetch_bodies(missing))
        best = None
        mine = _gram_hashes(body)
        confirmed: set[str] = set()
        for other in cands:
            if other not in bodies or story.get(other, other) in confirmed:
                continue
            ok, j, share = _confirm(body, mine, bodies[other])
            if ok:
                confirmed.add(story.get(other, other))
                if best is None or j > best[1]:
                    best = (other, j, share)
        if best is None:
            row = {"doc_id": doc_id, "story_id": doc_id, "similarity": None, "matched_doc_id": None,
                   "aligned_share": None}
        else:
            row = {"doc_id": doc_id, "story_id": story.get(best[0], best[0]), "similarity": round(best[1], 4),
                   "matched_doc_id": best[0], "aligned_share": round(best[2], 4)}
        story[doc_id] = row["story_id"]
        bodies[doc_id] = body
        kept = []
        for band, h in enumerate(bands):
            bucket = index.setdefault((band, h), [])
            if len(bucket) < BUCKET_CAP:
                bucket.append(doc_id)
                kept.append({"doc_id": doc_id, "band": band, "hash": h})
        row["signature"] = kept
        out.append(row)
    return out
