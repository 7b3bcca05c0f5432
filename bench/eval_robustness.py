#!/usr/bin/env python3
"""Robustness figures (issue 6): what newsfacts does with every class of bad input, fuzz cases, faults.

1. Builds the bad-input folder of ``tests/test_robustness.py`` (every input class plus three seeds), runs the
   real CLI on it into a scratch warehouse and reads back where each file landed and why.
2. Runs the robustness, fault and fuzz tests (pytest, real Prefect/DuckDB/GX), with hypothesis statistics.
3. Prints the table: input class -> what newsfacts did -> the test that proves it (and whether it passed);
   the number of fuzz cases run per property; the fault scenarios survived.

Usage: python bench/eval_robustness.py [--skip-tests] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
RT = "tests/test_robustness.py"
SEED_000, SEED_002 = "000_9ca8ce40a0d588c5.txt", "002_280bab9ed6877c1e.txt"

# input class, files of the bad-input folder, proving tests (file::name, parametrised ids included)
CLASSES: list[tuple[str, list[str], list[str]]] = [
    ("empty / whitespace-only file", ["empty.txt", "whitespace.txt"], [f"{RT}::test_empty_and_whitespace_only"]),
    ("binary with a text extension (PNG, PDF, ZIP)", ["photo.html", "report.html", "bundle.txt"],
     [f"{RT}::test_binary_with_a_text_extension"]),
    ("invalid UTF-8 (cut sequence, stray Latin-1 byte)", ["invalid_utf8.txt"],
     [f"{RT}::test_invalid_utf8_keeps_the_article", "tests/test_fuzz.py::test_utf8_with_a_stray_byte_keeps_every"]),
    ("UTF-16 with BOM", ["utf16_bom.txt"], [f"{RT}::test_utf16_with_bom"]),
    ("Windows-1252", ["windows1252.txt"], [f"{RT}::test_windows_1252"]),
    ("Latin-1", ["latin1.txt"], [f"{RT}::test_latin_1"]),
    ("double-encoded UTF-8", ["double_encoded.txt"], [f"{RT}::test_double_encoded_utf8_is_repaired"]),
    ("U+FFFD replacement characters", ["replacement_chars.txt"],
     [f"{RT}::test_replacement_characters_are_dropped"]),
    ("lossy mojibake (seed 002)", [SEED_002], [f"{RT}::test_lossy_mojibake_of_seed_002"]),
    ("HTML with no article (navigation only, scripts only)", ["nav_only.html", "scripts_only.html"],
     [f"{RT}::test_html_with_no_article"]),
    ("malformed HTML", ["malformed.html"], [f"{RT}::test_malformed_html"]),
    ("HTML nested 10,000 levels (article above / below the nest)", ["nested_10000.html"],
     [f"{RT}::test_html_nested_10000_levels", f"{RT}::test_article_buried_under_10000_levels"]),
    ("page over the size limit (50 MiB + 1 byte)", ["page_over_50mb.html"],
     [f"{RT}::test_page_over_the_size_limit_is_refused_unread"]),
    ("page of 50 MB under the limit (unit test)", [], [f"{RT}::test_page_of_50_mb_under_the_limit_is_cleaned"]),
    ("one endless 1.25 MB paragraph (unit test)", [], [f"{RT}::test_one_endless_paragraph_is_quarantined"]),
    ("multi-member .gz with large members (unit test)", [],
     [f"{RT}::test_multi_member_gzip_with_large_members"]),
    (".gz expanding to 2 GiB", ["gzip_bomb.html.gz"],
     [f"{RT}::test_gzip_bomb_refused_without", f"{RT}::test_gzip_bomb_stops_at_the_limit_quickly"]),
    ("non-English (French UTF-8, Russian cp1251)", ["french.txt", "russian_cp1251.txt"],
     [f"{RT}::test_non_english_is_kept_marked"]),
    ("same article under two names", [SEED_000, "same_article_other_name.txt"],
     [f"{RT}::test_same_article_under_two_names"]),
    ("symbolic-link loop", ["loop"], [f"{RT}::test_symbolic_link_loop"]),
    ("link escaping the source folder", ["escape.txt"], [f"{RT}::test_link_escaping_the_source_folder"]),
    ("unsupported extension", ["notes.pdf"], [f"{RT}::test_unsupported_extension"]),
    ("named pipe with an article's name", ["named_pipe.txt"], [f"{RT}::test_named_pipe_does_not_hang"]),
    ("unreadable file and folder (unit test, unprivileged uid)", [], [f"{RT}::test_unreadable_file_and_folder"]),
    ("file vanishing / replaced / grown between listing and reading (unit test)", [],
     [f"{RT}::test_file_changing_between_listing_and_reading"]),
    ("hostile HTML: XXE, remote script/img/iframe/XInclude", [],
     [f"{RT}::test_hostile_html_never_fetches", f"{RT}::test_audit_hook_would_see_a_connection"]),
    ("`newsfacts sql` write attempts (COPY, CREATE, ATTACH, EXPORT, INSTALL, ...)", [],
     [f"{RT}::test_sql_command_cannot_write"]),
]


def landings(tmp: Path) -> tuple[dict[str, str], dict]:
    """Run the CLI over the bad-input folder; return {file name: what happened} and the run summary line."""
    from tests.test_robustness import _inputs

    src = tmp / "inbox"
    src.mkdir()
    (tmp / "outside_secret.txt").write_text("OUTSIDE-THE-SOURCE-FOLDER\n")
    _inputs(src)
    wh = tmp / "robust.duckdb"
    started = time.monotonic()
    run = subprocess.run([str(Path(sys.executable).with_name("newsfacts")), "run", "--source", str(src),
                          "--warehouse", str(wh)], capture_output=True, text=True, cwd=ROOT)
    seconds = time.monotonic() - started
    if run.returncode != 0:
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        raise SystemExit("the pipeline run over the bad-input folder failed")
    con = duckdb.connect(str(wh), read_only=True)
    out: dict[str, str] = {}
    for uri, status in con.execute("select source_uri, status from input_files").fetchall():
        name = Path(uri).name
        q = con.execute("select stage, reason from quarantine where source_uri = ?", [uri]).fetchone()
        d = con.execute("select language, encoding, encoding_repaired, length(body) from documents "
                        "where source_uri = ?", [uri]).fetchone()
        if q:
            out[name] = f"quarantined at {q[0]}: {q[1]}"
        elif d:
            out[name] = (f"document ({d[0]}, {d[1]}{', repaired' if d[2] else ''}, {d[3]} chars"
                         f"{'' if d[0] == 'en' else '; English-only stages skipped'})")
        else:
            out[name] = status
    summary = [line.strip() for line in run.stdout.splitlines() if line.strip().startswith("inputs ")]
    con.close()
    return out, {"summary": summary[0] if summary else "", "seconds": round(seconds, 1), "inputs": len(out)}


def run_tests(tmp: Path) -> tuple[dict[str, str], dict[str, int], float]:
    """Run the robustness, fault and fuzz tests; return {test id: outcome}, fuzz cases per property, seconds."""
    junit = tmp / "junit.xml"
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", RT,
                           "tests/test_faults.py", "tests/test_fuzz.py", "--hypothesis-show-statistics",
                           f"--junitxml={junit}"], capture_output=True, text=True, cwd=ROOT)
    seconds = time.monotonic() - started
    outcomes: dict[str, str] = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        test_id = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        failed = case.find("failure") is not None or case.find("error") is not None
        outcomes[test_id] = "skipped" if case.find("skipped") is not None else ("FAILED" if failed else "passed")
    fuzz: dict[str, int] = {}
    current = None
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*tests/test_fuzz\.py::(\w+):", line)
        if m:
            current = m.group(1)
        m = re.search(r"(\d+) passing", line)
        if current and m:
            fuzz[current] = fuzz.get(current, 0) + int(m.group(1))
    return outcomes, fuzz, seconds


def verdict(outcomes: dict[str, str], prefixes: list[str]) -> str:
    got = [v for k, v in outcomes.items() for p in prefixes if k.startswith(p)]
    if not got:
        return "not run"
    return "passed" if all(v == "passed" for v in got) else f"{got.count('passed')}/{len(got)} passed"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--skip-tests", action="store_true", help="only run the pipeline over the bad-input folder")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    args = ap.parse_args()
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="newsfacts-robustness-") as tmp:
        landed, run = landings(Path(tmp))
        outcomes, fuzz, test_seconds = ({}, {}, 0.0) if args.skip_tests else run_tests(Path(tmp))
    print(f"bad-input folder: {run['inputs']} inputs, one pipeline run, {run['seconds']} s, exit 0")
    print(f"  {run['summary']}\n")
    print("| input class | what newsfacts did | proving test | result |")
    print("|---|---|---|---|")
    failures = 0
    for label, files, tests in CLASSES:
        did = "; ".join(f"`{f}` {landed.get(f, 'not seen')}" for f in files) or "see test"
        v = verdict(outcomes, tests) if outcomes else "not run"
        failures += v not in ("passed", "not run")
        names = ", ".join(f"`{t.split('::')[-1]}`" for t in tests)
        print(f"| {label} | {did} | {names} | {v} |")
    if outcomes:
        faults = {k.split("::")[-1]: v for k, v in outcomes.items() if "test_faults.py" in k}
        survived = sum(v == "passed" for v in faults.values())
        print(f"\nfault scenarios survived: {survived}/{len(faults)}")
        for name, v in faults.items():
            print(f"  {v:7s} {name}")
        print(f"\nfuzz cases run (hypothesis, passing examples): {sum(fuzz.values())}")
        for name, n in fuzz.items():
            print(f"  {n:6d} {name}")
        fuzz_failed = [k for k, v in outcomes.items() if "test_fuzz.py" in k and v != "passed"]
        failures += len(fuzz_failed) + (len(faults) - survived)
        print(f"\ntests: {sum(v == 'passed' for v in outcomes.values())}/{len(outcomes)} passed "
              f"in {test_seconds:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps({"landed": landed, "run": run, "outcomes": outcomes, "fuzz": fuzz},
                                              indent=2))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
