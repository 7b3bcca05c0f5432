"""The docs stay true: the README's size and links, the warehouse contract, the layout, the settings, the examples.

`make docs-check` runs this file. The contract and the example outputs are compared with a warehouse the
real pipeline builds from the seeds (the session's ``seeds_warehouse``), the layout with the real tree.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest
from newsfacts import cli, dictionary, warehouse
from newsfacts.config import Settings

from tests.conftest import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"
README_MAX_BYTES = 10 * 1024
IMAGE_MAX_BYTES = 300 * 1024
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")
EXAMPLE = re.compile(r"^\$ newsfacts sql --example (\S+)\n(.*?)(?=\n\n\$ |\n```)", re.S | re.M)


def _pages() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {_slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", page.read_text(encoding="utf-8"), re.M)}


def test_readme_is_short():
    size = README.stat().st_size
    assert size <= README_MAX_BYTES, f"README.md is {size} bytes; move detail to docs/ (limit {README_MAX_BYTES})"


def _broken_links(page: Path) -> list[str]:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target):
            continue  # an absolute URL: nothing local to check
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
            broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    return broken


def test_every_link_in_the_readme_resolves():
    assert _broken_links(README) == []


def test_every_link_between_the_docs_resolves():
    assert [b for page in sorted(DOCS.glob("*.md")) for b in _broken_links(page)] == []


def test_images_are_small():
    for target in LINK.findall(README.read_text(encoding="utf-8")):
        if target.endswith(".png"):
            assert (ROOT / target).stat().st_size <= IMAGE_MAX_BYTES, target


def test_make_targets_named_in_the_docs_exist():
    targets = set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.M))
    named = {t for page in _pages() for t in re.findall(r"`make ([\w-]+)", page.read_text(encoding="utf-8"))}
    assert named - targets == set()


def test_every_setting_is_documented_and_every_documented_setting_exists():
    config = (ROOT / "flows" / "newsfacts" / "config.py").read_text()
    settings = {f"NEWSFACTS_{name}" for name in re.findall(r'_env\("([A-Z_]+)"', config)}
    assert settings, "no settings found in config.py"
    operations = (DOCS / "operations.md").read_text(encoding="utf-8")
    assert {s for s in settings if s not in operations} == set()
    # settings the code reads elsewhere, the evaluation scripts' switches (bench/) and the test suite's own
    # (tests/conftest.py)
    readers = [*(ROOT / "flows" / "newsfacts").glob("*.py"), *(ROOT / "bench").glob("*.py"),
               ROOT / "tests" / "conftest.py"]
    code = "\n".join(p.read_text() for p in readers)
    known = settings | set(re.findall(r"NEWSFACTS_[A-Z_]+", code))
    documented = {s.rstrip("_") for page in _pages()
                  for s in re.findall(r"NEWSFACTS_[A-Z_]+", page.read_text(encoding="utf-8"))}
    assert documented - known - {"NEWSFACTS_"} == set()


def test_docs_hold_no_history():
    pattern = re.compile(r"\bsession \d|\bwhat moved\b|\bbefore/after\b|\bearlier runs?\b|\bpreviously\b", re.I)
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in _pages()
             for m in pattern.finditer(p.read_text(encoding="utf-8"))]
    assert found == []


# --- the layout in docs/architecture.md against the tree ---------------------------------------------------

def _layout() -> dict[str, set[str]]:
    """``{folder: {entries}}`` from the Layout section: one table per folder heading, names in column one."""
    text = (DOCS / "architecture.md").read_text(encoding="utf-8")
    layout = text.split("\n## Layout", 1)[1].split("\n## ", 1)[0]
    folders: dict[str, set[str]] = {}
    folder = None
    for line in layout.splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
            m = re.fullmatch(r"`([\w./-]+/)`", heading)
            folder = "" if heading == "Repository root" else (m.group(1) if m else None)
            if folder is not None:
                folders[folder] = set()
        elif folder is not None and (m := re.match(r"\| `([^`]+)` \|", line)):
            folders[folder].add(m.group(1))
    return folders


def _entries(folder: Path) -> set[str]:
    skip = {"__pycache__", "data", "node_modules"}
    return {p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
            if not p.name.startswith(".") and p.name not in skip and not p.name.endswith((".egg-info", ".duckdb"))}


def test_architecture_layout_lists_every_folder_and_module_that_exists():
    layout = _layout()
    assert {"", "flows/newsfacts/", "flows/newsfacts/rules/", "sql/", "bench/"} <= set(layout)
    for folder, listed in layout.items():
        real = _entries(ROOT / folder)
        assert listed - real == set(), f"docs/architecture.md lists what {folder or 'the root'} lacks"
        assert real - listed == set(), f"docs/architecture.md does not list these in {folder or 'the root'}"


def _imports(module: Path, names: set[str]) -> set[str]:
    """The package modules ``module`` imports, at the top or inside functions."""
    found = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module == "newsfacts":
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("newsfacts."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("newsfacts.")}
    return found & names


def test_package_modules_import_each_other_without_cycles():
    package = ROOT / "flows" / "newsfacts"
    names = {p.stem for p in package.glob("*.py")}
    graph = {name: _imports(package / f"{name}.py", names) - {name} for name in names}
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        assert name not in path, f"import cycle: {' -> '.join(path[path.index(name):] + (name,))}"
        if name not in done:
            for dep in sorted(graph[name]):
                visit(dep, path + (name,))
            done.add(name)

    for name in sorted(graph):
        visit(name, ())


# --- the warehouse contract in docs/warehouse.md against real warehouses -----------------------------------

def _documented_tables() -> dict[str, list[str]]:
    """``{table: [columns]}`` from the summary tables of the generated section of docs/warehouse.md."""
    section = dictionary.section((DOCS / "warehouse.md").read_text(encoding="utf-8"))
    tables = {}
    for m in re.finditer(r"^\| `(\w+)`(?: \(view\))? \| .*? \| ([\w*, ]+) \|$", section, re.M):
        tables[m.group(1)] = [c.strip("* ") for c in m.group(2).split(",")]
    return tables


@pytest.fixture(scope="module")
def reference(gazetteer_path):
    con = warehouse.reference_warehouse(Settings().with_overrides(gazetteer=gazetteer_path))
    yield con
    con.close()


def test_warehouse_doc_is_generated_from_the_dictionary(reference):
    text = (DOCS / "warehouse.md").read_text(encoding="utf-8")
    assert dictionary.section(text) == dictionary.markdown(reference), (
        "docs/warehouse.md is out of date: run `newsfacts dictionary --update-docs`")


@pytest.mark.slow
def test_documented_tables_and_columns_are_those_the_pipeline_builds(seeds_warehouse):
    """The analyst file and the working area's intermediate file together hold what the docs list."""
    real = {}
    for path in (seeds_warehouse, Settings().with_overrides(warehouse=str(seeds_warehouse)).intermediate_db):
        con = duckdb.connect(str(path), read_only=True)
        try:
            held = {name: cols for name, (_, cols) in dictionary.warehouse_columns(con).items()}
        finally:
            con.close()
        assert not set(held) & set(real), "a table in both the analyst file and the intermediate file"
        real.update(held)
    documented = _documented_tables()
    assert set(documented) == set(real)
    assert {t: cols for t, cols in documented.items() if cols != real[t]} == {}


@pytest.mark.slow
def test_example_outputs_in_the_docs_are_real(seeds_warehouse, capsys):
    shown = [(page, name, output) for page in (README, DOCS / "warehouse.md")
             for name, output in EXAMPLE.findall(page.read_text(encoding="utf-8"))]
    assert {name for _, name, _ in shown} >= {p.stem for p in (ROOT / "sql" / "examples").glob("*.sql")}
    for page, name, output in shown:
        capsys.readouterr()
        assert cli.main(["sql", "--example", name, "--warehouse", str(seeds_warehouse)]) == 0
        assert capsys.readouterr().out.rstrip() == output.rstrip(), f"{page.name}: example {name}"
