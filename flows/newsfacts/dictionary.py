"""The warehouse's data dictionary, written once in ``rules/dictionary.toml``.

The same source is applied to the database as ``COMMENT ON TABLE/COLUMN`` (so ``duckdb_tables()`` and
``duckdb_columns()`` explain the warehouse) and rendered as the tables section of ``docs/warehouse.md``
(``newsfacts dictionary --update-docs``), so the database and the documentation can never disagree.
This module needs only DuckDB: the warehouse module imports it, never the other way round.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import duckdb

SOURCE = Path(__file__).with_name("rules") / "dictionary.toml"
DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"  # the warehouse contract
LAYERS = {
    "mart": "Marts (analysts start here)",
    "view": "Views",
    "core": "Documents, quarantine and quality results",
    "lineage": "Lineage: raw input and stage outputs",
    "intermediate": "Intermediate models (sql/intermediate, internal; the int_toponym_* models and "
                    "int_place_sentences are kept in the working area's intermediate.duckdb, not in the analyst file)",
}
DETAILED = ("mart", "view", "core")  # the analyst layers: every column gets its description in the docs
START = "<!-- dictionary:start -->"
END = "<!-- dictionary:end -->"


@dataclass(frozen=True)
class TableDoc:
    name: str
    layer: str
    description: str
    contract: tuple[str, ...] = ()
    inherits: str | None = None
    columns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Dictionary:
    common: dict[str, str]
    tables: dict[str, TableDoc]

    def describe(self, table: str, column: str) -> str | None:
        """A column's description: the table's own, else its ``inherits`` chain's, else the common one."""
        seen: set[str] = set()
        name: str | None = table
        while name in self.tables and name not in seen:
            seen.add(name)
            doc = self.tables[name]
            if column in doc.columns:
                return doc.columns[column]
            name = doc.inherits
        return self.common.get(column)


@lru_cache(maxsize=4)
def load(path: Path = SOURCE) -> Dictionary:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    tables = {}
    for name, t in raw.get("tables", {}).items():
        if t.get("layer") not in LAYERS:
            raise ValueError(f"{path}: table {name} has layer {t.get('layer')!r}, expected one of {list(LAYERS)}")
        tables[name] = TableDoc(name=name, layer=t["layer"], description=t["description"],
                                contract=tuple(t.get("contract", ())), inherits=t.get("inherits"),
                                columns=dict(t.get("columns", {})))
    return Dictionary(common=dict(raw.get("common", {})), tables=tables)


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def warehouse_columns(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, list[str]]]:
    """``{table: (kind 'table'|'view', [columns in order])}`` of the connection's own database."""
    kinds = dict(con.execute(
        "select table_name, 'table' from duckdb_tables() where database_name = current_database() "
        "and schema_name = current_schema() and not temporary "
        "union all select view_name, 'view' from duckdb_views() where database_name = current_database() "
        "and schema_name = current_schema() and not internal and not temporary").fetchall())
    cols: dict[str, list[str]] = {name: [] for name in kinds}
    for table, column in con.execute(
            "select table_name, column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = current_schema() order by table_name, column_index").fetchall():
        if table in cols:
            cols[table].append(column)
    return {name: (kinds[name], cols[name]) for name in kinds}


def apply_comments(con: duckdb.DuckDBPyConnection, dictionary: Dictionary | None = None) -> int:
    """Set ``COMMENT ON`` every documented table, view and column present; returns the comments set.

    ``create or replace`` drops comments, so this runs after every model (re)build.
    """
    d = dictionary or load()
    statements = []
    for table, (kind, columns) in warehouse_columns(con).items():
        doc = d.tables.get(table)
        if doc is None:
            continue
        statements.append(f"comment on {kind} {_ident(table)} is {_literal(doc.description)}")
        for column in columns:
            text = d.describe(table, column)
            if text:
                statements.append(f"comment on column {_ident(table)}.{_ident(column)} is {_literal(text)}")
    if statements:
        con.execute(";\n".join(statements))
    return len(statements)


def undocumented(con: duckdb.DuckDBPyConnection) -> list[str]:
    """``table`` or ``table.column`` entries of the warehouse that carry no comment."""
    missing = [name for name, comment in con.execute(
        "select table_name, comment from duckdb_tables() where database_name = current_database() "
        "and schema_name = current_schema() and not temporary "
        "union all select view_name, comment from duckdb_views() where database_name = current_database() "
        "and schema_name = current_schema() and not internal and not temporary").fetchall() if not comment]
    missing += [f"{t}.{c}" for t, c in con.execute(
        "select table_name, column_name from duckdb_columns() where database_name = current_database() "
        "and schema_name = current_schema() and (comment is null or comment = '') "
        "order by table_name, column_index").fetchall()]
    return missing


def stale_entries(con: duckdb.DuckDBPyConnection, dictionary: Dictionary | None = None) -> list[str]:
    """Dictionary entries that name a table, column or contract column the warehouse does not have."""
    d = dictionary or load()
    present = warehouse_columns(con)
    stale = []
    for name, doc in d.tables.items():
        if name not in present:
            stale.append(name)
            continue
        cols = set(present[name][1])
        stale += [f"{name}.{c}" for c in (*doc.columns, *doc.contract) if c not in cols]
        if doc.inherits and doc.inherits not in d.tables:
            stale.append(f"{name} inherits {doc.inherits}")
    all_cols = {c for _, cols in present.values() for c in cols}
    stale += [f"[common].{c}" for c in d.common if c not in all_cols]
    return stale


def markdown(con: duckdb.DuckDBPyConnection, dictionary: Dictionary | None = None) -> str:
    """The data dictionary as Markdown: a summary table per layer, then every analyst column described.

    Columns come from the warehouse (their real order); descriptions from the dictionary.
    """
    d = dictionary or load()
    present = warehouse_columns(con)
    out = ["_Generated from `flows/newsfacts/rules/dictionary.toml` by `newsfacts dictionary --update-docs`; "
           "the same text is in the database (`select table_name, comment from duckdb_tables()`, "
           "`duckdb_columns()`). **Bold** columns are the contract: extended, never renamed._", ""]
    for layer, heading in LAYERS.items():
        docs = [doc for doc in d.tables.values() if doc.layer == layer and doc.name in present]
        if not docs:
            continue
        out += [f"### {heading}", "", "| table | what it holds | columns |", "|---|---|---|"]
        for doc in docs:
            cols = ", ".join(f"**{c}**" if c in doc.contract else c for c in present[doc.name][1])
            kind = " (view)" if present[doc.name][0] == "view" else ""
            out.append(f"| `{doc.name}`{kind} | {_cell(doc.description)} | {cols} |")
        out.append("")
    out += ["### Every column of the marts, views, documents, quarantine and quality results", "",
            "Lineage and intermediate columns: `newsfacts dictionary TABLE` or `duckdb_columns()`.", ""]
    for layer in DETAILED:
        for doc in (doc for doc in d.tables.values() if doc.layer == layer and doc.name in present):
            out += [f"#### `{doc.name}`", "", _cell(doc.description), "", "| column | description |", "|---|---|"]
            out += [f"| {c} | {_cell(d.describe(doc.name, c) or '')} |" for c in present[doc.name][1]]
            out.append("")
    return "\n".join(out).rstrip("\n")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def replace_section(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the ``start`` and ``end`` markers replaced by ``body``."""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"markers {start} … {end} not found")
    return pattern.sub(lambda _: f"{start}\n{body}\n{end}", text, count=1)


def section(text: str, start: str = START, end: str = END) -> str:
    """What lies between the markers of ``text`` (without them)."""
    m = re.search(re.escape(start) + r"\n?(.*?)\n?" + re.escape(end), text, re.S)
    if m is None:
        raise ValueError(f"markers {start} … {end} not found")
    return m.group(1)


def text(con: duckdb.DuckDBPyConnection, table: str | None = None) -> str:
    """Plain-text dictionary for the terminal: every table, or one table's columns."""
    d = load()
    present = warehouse_columns(con)
    if table is None:
        width = max(map(len, present))
        return "\n".join(f"{name:<{width}}  {d.tables[name].description if name in d.tables else ''}"
                         for name in sorted(present, key=lambda n: (list(LAYERS).index(d.tables[n].layer)
                                                                    if n in d.tables else 9, n)))
    if table not in present:
        raise KeyError(table)
    cols = present[table][1]
    width = max(map(len, cols))
    doc = d.tables.get(table)
    head = f"{table}: {doc.description if doc else ''}"
    return "\n".join([head, *(f"  {c:<{width}}  {d.describe(table, c) or ''}" for c in cols)])


def update_doc(path: Path, con: duckdb.DuckDBPyConnection) -> bool:
    """Rewrite the generated tables section of ``path`` (docs/warehouse.md); returns whether it changed."""
    old = path.read_text(encoding="utf-8")
    new = replace_section(old, START, END, markdown(con))
    if new != old:
        path.write_text(new, encoding="utf-8")
    return new != old
