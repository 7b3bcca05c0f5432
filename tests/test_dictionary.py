"""The data dictionary: every contract table and column carries a comment (docs/warehouse.md: tests/test_docs.py)."""

from __future__ import annotations

import duckdb
import pytest
from newsfacts import dictionary, warehouse
from newsfacts.config import Settings


@pytest.fixture(scope="module")
def reference(gazetteer_path):
    """Every stage table and SQL model, built by the real model runner over empty tables."""
    con = warehouse.reference_warehouse(Settings().with_overrides(gazetteer=gazetteer_path))
    yield con
    con.close()


def _contract_tables() -> set[str]:
    schema = {name for name in duckdb.connect().execute(warehouse.SCHEMA.read_text()).execute(
        "select table_name from duckdb_tables()").fetchall() for name in name}
    return schema | {name for name, _, _ in warehouse.discover_models(Settings().sql_dir)}


def test_every_contract_table_and_column_has_a_comment(reference):
    present = dictionary.warehouse_columns(reference)
    assert _contract_tables() <= set(present)
    assert dictionary.undocumented(reference) == []


def test_dictionary_names_only_tables_and_columns_that_exist(reference):
    assert dictionary.stale_entries(reference) == []


def test_comments_match_the_dictionary_and_survive_publishing(tmp_path, gazetteer_path):
    working, published = tmp_path / "working.duckdb", tmp_path / "published.duckdb"
    con = warehouse.connect(working, gazetteer_path)
    warehouse.run_models(con, Settings().sql_dir)
    con.close()
    warehouse.publish(working, published)
    con = duckdb.connect(str(published), read_only=True)
    try:
        assert dictionary.undocumented(con) == []
        d = dictionary.load()
        comment = con.execute("select comment from duckdb_columns() where table_name = 'dim_location' "
                              "and column_name = 'latitude'").fetchone()[0]
        assert comment == d.describe("dim_location", "latitude")
        table_comment = con.execute("select comment from duckdb_views() where view_name = 'actor_counts'").fetchone()[0]
        assert table_comment == d.tables["actor_counts"].description
    finally:
        con.close()


def test_describe_prefers_own_then_inherited_then_common_descriptions():
    d = dictionary.Dictionary(
        common={"doc_id": "common doc", "surface": "common surface"},
        tables={"a": dictionary.TableDoc("a", "lineage", "A", columns={"surface": "a surface", "x": "a x"}),
                "b": dictionary.TableDoc("b", "intermediate", "B", inherits="a", columns={"x": "b x"})})
    assert d.describe("b", "x") == "b x"
    assert d.describe("b", "surface") == "a surface"
    assert d.describe("b", "doc_id") == "common doc"
    assert d.describe("b", "missing") is None

