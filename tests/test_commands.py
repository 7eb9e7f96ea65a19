"""Commands as library calls: each is run_X(options) -> (exit code, document), with click in
cli.py alone, so that a library caller gets codes and documents, never a terminal's prompt
or a SystemExit."""

from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from flickr_exodus.catalog import Catalog
from flickr_exodus.dest import UsageProblem
from flickr_exodus.status import StatusOptions, run_status

PACKAGE = Path(__file__).resolve().parents[1] / "flickr_exodus"


def test_click_is_imported_by_cli_alone():
    importers = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(name.split(".")[0] == "click" for name in names):
                importers.add(str(path.relative_to(PACKAGE)))
    assert importers == {"cli.py"}, importers


def with_item(dest: Path, state: str) -> Path:
    dest.mkdir()
    Catalog.open(dest).close()
    with sqlite3.connect(dest / "catalog.db") as conn:
        conn.execute("INSERT INTO photos (id, title, state) VALUES ('1', 't', ?)", (state,))
    return dest


@pytest.mark.parametrize("state, code", [("downloaded", 0), ("pending", 0), ("needs_manual", 3),
                                         ("original_unavailable", 3), ("failed", 1)])
def test_status_as_a_library_call_gives_the_contract_code_and_its_report(tmp_path, state, code):
    got, report = run_status(StatusOptions(dest=with_item(tmp_path / "dest", state)))
    assert (got, report["counts"][state]) == (code, 1)


def test_status_of_no_backup_is_a_usage_problem_not_an_exit(tmp_path):
    with pytest.raises(UsageProblem, match="no exodus backup|not a folder|catalog"):
        run_status(StatusOptions(dest=tmp_path / "nowhere"))
