"""Rewrite the example outputs in docs/warehouse.md from a real warehouse (default: the published one on the seeds).

Each ``sql/examples/NAME.sql`` is run through ``newsfacts sql --example NAME`` exactly as a user would, and
the text between ``<!-- examples:start -->`` and ``<!-- examples:end -->`` in docs/warehouse.md is replaced by
the commands and their output, so the docs never show output the code did not produce.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from newsfacts.dictionary import replace_section

ROOT = Path(__file__).resolve().parents[1]
START, END = "<!-- examples:start -->", "<!-- examples:end -->"
ORDER = ["top-actors", "places-map", "actors-per-story", "place-sentences", "actor-places"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--warehouse", default=str(ROOT / "data" / "newsfacts.duckdb"))
    ap.add_argument("--readme", default=str(ROOT / "docs" / "warehouse.md"), help="the Markdown file to rewrite")
    args = ap.parse_args()
    names = [p.stem for p in (ROOT / "sql" / "examples").glob("*.sql")]
    names = [n for n in ORDER if n in names] + sorted(n for n in names if n not in ORDER)
    blocks = []
    for name in names:
        run = subprocess.run([sys.executable, "-m", "newsfacts.cli", "sql", "--example", name, "--warehouse",
                              args.warehouse], capture_output=True, text=True, cwd=ROOT)
        if run.returncode != 0:
            print(f"example {name} failed: {run.stderr}", file=sys.stderr)
            return 1
        blocks.append(f"$ newsfacts sql --example {name}\n{run.stdout.rstrip()}")
    readme = Path(args.readme)
    text = readme.read_text(encoding="utf-8")
    new = replace_section(text, START, END, "```\n" + "\n\n".join(blocks) + "\n```")
    readme.write_text(new, encoding="utf-8")
    print(f"{readme}: {len(blocks)} examples {'updated' if new != text else 'already up to date'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
