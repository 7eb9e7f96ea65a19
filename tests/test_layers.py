"""The house holds: every import in flickr_exodus/ follows the layer table of ARCHITECTURE.md.

The table is parsed from ARCHITECTURE.md itself, so the document and this test cannot drift:
change a layer there and this test enforces the change. Every import is counted, at module
level, inside functions and under TYPE_CHECKING alike: a lazy import is still an arrow.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "flickr_exodus"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"

# The two files the table does not name, and why: the package's __init__ holds only the
# version (anyone may read it, it imports nothing); __main__ is `exodus` run as a module.
OUTSIDE_TABLE = {"flickr_exodus": frozenset(), "flickr_exodus.__main__": frozenset({"cli.py"})}
SANDBOX = "sandbox/"
SANDBOX_STARTERS = {"cli.py", "demo.py"}  # ARCHITECTURE.md: "only cli.py and demo.py start one"



@dataclass(frozen=True)
class Unit:
    """One cell of the table's package column: a package (`backup/`) or a module (`dest.py`)."""
    name: str
    layer: int
    may_import: str  # the table's raw "may import" cell


def read_table(text: str) -> dict[str, Unit]:
    units = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or not cells[0].isdigit():
            continue
        for name in re.findall(r"`([^`]+)`", cells[1]):
            units[name] = Unit(name, int(cells[0]), cells[3])
    return units


def allowed(unit: Unit, units: dict[str, Unit]) -> set[str]:
    """The units `unit` may import, read from its "may import" cell: `all`, `nothing`,
    `N and below`, `commands and below` (the layer whose row owns "the commands"),
    bare layer numbers, and named packages."""
    cell = unit.may_import
    if cell == "all":
        return set(units) | {SANDBOX}
    layers: set[int] = set()
    named = set(re.findall(r"`([^`]+)`", cell))
    rest = re.sub(r"`[^`]+`", " ", cell)
    if below := re.search(r"(\d+) and below", rest):
        layers |= set(range(int(below.group(1)) + 1))
        rest = rest.replace(below.group(0), " ")
    if "commands and below" in rest:
        layers |= set(range(COMMANDS_LAYER + 1))
        rest = rest.replace("commands and below", " ")
    layers |= {int(n) for n in re.findall(r"\b\d+\b", rest)}
    leftover = re.sub(r"\b\d+\b|nothing|,", " ", rest).strip()
    assert not leftover, f"ARCHITECTURE.md: cannot read the 'may import' cell {cell!r} ({leftover!r})"
    return {u.name for u in units.values() if u.layer in layers} | named | {unit.name}


def unit_of(module: str, units: dict[str, Unit]) -> str | None:
    """`flickr_exodus.backup.run` -> `backup/`; `flickr_exodus.dest` -> `dest.py`."""
    parts = module.split(".")[1:]
    if not parts:
        return None
    if f"{parts[0]}/" in units or f"{parts[0]}/" == SANDBOX:
        return f"{parts[0]}/"
    if len(parts) == 1 and f"{parts[0]}.py" in units:
        return f"{parts[0]}.py"
    return None


def modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def imports_of(module: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `module` imports, relative imports resolved; `from pkg import x`
    names the submodule pkg.x when there is one, else the package pkg."""
    here = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in known else base)
    return {name for name in found if name.split(".")[0] == "flickr_exodus"}


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {module: {m for m in imports_of(module, path, known) if m != module}
            for module, path in found.items()}


UNITS = read_table(ARCHITECTURE.read_text())
COMMANDS_LAYER = next(u.layer for u in UNITS.values() if u.name == "backup/")


def test_the_table_is_read_and_names_every_module():
    assert len(UNITS) >= 15 and {"cli.py", "catalog/", "net/", "progress.py"} <= set(UNITS), UNITS
    orphans = [m for m in graph() if unit_of(m, UNITS) is None and m not in OUTSIDE_TABLE]
    assert not orphans, f"modules in no row of ARCHITECTURE.md's layer table: {orphans}"


def test_no_module_imports_a_layer_above_it_or_beside_it_unnamed():
    wrong = []
    for module, targets in graph().items():
        unit = unit_of(module, UNITS)
        if unit == SANDBOX:
            continue  # the sandbox's own rule is its own test
        permitted = OUTSIDE_TABLE.get(module) if unit is None else allowed(UNITS[unit], UNITS)
        for target in sorted(targets):
            to = unit_of(target, UNITS)
            if to is not None and to not in permitted:
                wrong.append(f"{module} -> {target}")
    assert not wrong, "imports ARCHITECTURE.md does not allow:\n  " + "\n  ".join(wrong)


def test_the_sandbox_imports_nothing_of_the_rest():
    wrong = [f"{module} -> {target}" for module, targets in graph().items()
             if unit_of(module, UNITS) == SANDBOX
             for target in sorted(targets) if unit_of(target, UNITS) != SANDBOX]
    assert not wrong, "the sandbox reaches into the client:\n  " + "\n  ".join(wrong)


def test_only_cli_and_demo_start_a_sandbox():
    wrong = [f"{module} -> {target}" for module, targets in graph().items()
             if unit_of(module, UNITS) not in SANDBOX_STARTERS | {SANDBOX}
             for target in sorted(targets) if unit_of(target, UNITS) == SANDBOX]
    assert not wrong, "imports of the sandbox outside cli.py and demo.py:\n  " + "\n  ".join(wrong)


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected component of more than one module (Tarjan), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(out)


def test_no_import_cycle():
    found = cycles(graph())
    assert not found, "import cycles:\n  " + "\n  ".join(" <-> ".join(c) for c in found)


def test_the_checks_can_fail():
    """The readers see what they must: a cycle, a relative import, a wrong arrow."""
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    known = set(modules())
    cdn = PACKAGE / "sandbox" / "cdn.py"
    assert "flickr_exodus.sandbox.wire" in imports_of("flickr_exodus.sandbox.cdn", cdn, known)
    catalog, cli = UNITS["catalog/"], UNITS["cli.py"]
    assert "backup/" not in allowed(catalog, UNITS) and "net/" in allowed(catalog, UNITS)
    assert SANDBOX in allowed(cli, UNITS) and SANDBOX not in allowed(UNITS["backup/"], UNITS)
    assert "flickr/" in allowed(UNITS["layout/"], UNITS) and "targets/" not in allowed(UNITS["layout/"], UNITS)
