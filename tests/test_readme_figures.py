"""README's figures are measured ones: every figure in it (a number with a unit, or a
ratio) is a value of a results file in benchmarks/results/, and its figure sections are
exactly what benchmarks/report.py makes of those files. Nothing here runs a benchmark."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ROOT / "benchmarks"
README = ROOT / "README.md"


def module(name: str):
    """A benchmarks/ script as a module (they import each other by bare name); the chaos
    test uses it too."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
        loaded = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = loaded  # dataclasses look their module up
        spec.loader.exec_module(loaded)
        return loaded
    finally:
        sys.path.remove(str(BENCHMARKS))


report = module("report")
common = module("common")

# --- what a figure is, and where it may come from ------------------------------------------

# Units the project measures in (decimal, as its bars and summaries are). Binary units (KiB,
# MiB, GiB) are kept for limits and settings, which are not measurements.
FIGURE = re.compile(
    r"(?<![\w.^/-])(\d[\d,]*\d|\d)(\.\d+)?"
    r"(×|%|/item\b| ?x\b(?!\w)| (?:MB/s|GB/s|KB/s|items/s|calls/s|MB|GB|KB|ms|s|h|hours?|minutes?|bytes"
    r"|(?:core |API )?calls(?: per item|/item)?|per item)(?![\w/]))(?!\s*=)")
# Where a figure in a results file may be, by unit: the key path it sits under, and the
# factor from the value stored to the figure shown.
SOURCES = {
    "ratio": [(r"over|times|growth|fewer|ratio", 1)],
    "%": [(r"over|share|ratio|rate", 100)],
    "MB/s": [(r"mb_per_s", 1)], "GB/s": [(r"mb_per_s", 1e-3)], "KB/s": [(r"mb_per_s", 1e3)],
    "items/s": [(r"per_s", 1)], "calls/s": [(r"per_s", 1)],
    "MB": [(r"_mb$", 1), (r"bytes", 1e-6)], "GB": [(r"bytes", 1e-9)], "KB": [(r"bytes", 1e-3)],
    "bytes": [(r"bytes", 1)],
    "ms": [(r"_ms$", 1), (r"seconds|_s$", 1e3)], "s": [(r"seconds|_s$", 1)],
    "h": [(r"hours", 1), (r"seconds|_s$", 1 / 3600)], "minutes": [(r"seconds|_s$", 1 / 60)],
    "calls": [(r"calls", 1)], "per item": [(r"per_item", 1)],
}
SETTING = re.compile(r"`EXODUS_\w+")  # a sentence that names a knob states its settings
SENTENCES = re.compile(r"(?<=[.;])\s+|\n\n|\n(?=- )|\|")


def unit_of(shown: str) -> str:
    shown = shown.strip()
    if shown in ("×", "x"):
        return "ratio"
    if shown.endswith(("per item", "/item")):
        return "per item"
    if shown.endswith("calls"):
        return "calls"
    return {"hour": "h", "hours": "h", "minute": "minutes"}.get(shown, shown)


def figures_in(text: str) -> list[tuple[str, float, int, str]]:
    """Every figure in Markdown text outside code: (as shown, number, decimals, unit).
    A sentence that names an `EXODUS_*` knob states settings and limits, not figures."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    found = []
    for sentence in SENTENCES.split(text):
        if SETTING.search(sentence):
            continue
        prose = re.sub(r"`[^`]*`", "", sentence)
        for m in FIGURE.finditer(prose):
            whole, fraction, shown = m.group(1).replace(",", ""), m.group(2) or "", m.group(3)
            found.append((m.group(0).strip(), float(whole + fraction), max(0, len(fraction) - 1), unit_of(shown)))
    return found


def measured_values(results: Path) -> list[tuple[str, float]]:
    """(key path, number) for every number in every results file (strings are not figures)."""
    out: list[tuple[str, float]] = []

    def walk(value, path: str) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for inner in value:
                walk(inner, path)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out.append((path, float(value)))

    for path in sorted(results.glob("*.json")):
        walk(json.loads(path.read_text()), "")
    return out


def in_results(number: float, decimals: int, unit: str, values: list[tuple[str, float]]) -> bool:
    """A value stored under a key of the unit's kind shows as `number` at its precision."""
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    return any(re.search(pattern, path) and abs(value * factor - number) <= tolerance
               for pattern, factor in SOURCES.get(unit, []) for path, value in values)


def not_measured(text: str, values: list[tuple[str, float]]) -> list[str]:
    return [shown for shown, number, decimals, unit in figures_in(text)
            if not in_results(number, decimals, unit, values)]


VALUES = measured_values(BENCHMARKS / "results")


# --- the README -------------------------------------------------------------------------------

def test_every_figure_in_the_readme_is_a_value_of_a_results_file():
    text = README.read_text()
    assert len(figures_in(text)) >= 20  # the figure sections are there, and read
    assert not_measured(text, VALUES) == []


def test_readme_figure_sections_are_what_report_py_makes_of_the_results_files():
    gathered = report.gather(BENCHMARKS / "results")
    sections = report.rendered(gathered)
    committed = README.read_text()
    regenerated, missing = report.updated(committed, sections)
    assert missing == []
    stale = ("README's {} section differs from what benchmarks/report.py makes of benchmarks/results/: run it "
             "(a benchmark rewrites its results as it goes, and report.py only once it ends)")
    for name in sections:  # section by section, so that a failure names the one that drifted
        assert report.block(name).search(regenerated).group(0) == report.block(name).search(committed).group(0), \
            stale.format(name)
    assert (BENCHMARKS / "results" / "latest.json").read_text() == report.as_json(gathered)
    assert (BENCHMARKS / "results" / "latest.md").read_text() == sections["bench-table"]


@pytest.mark.parametrize("planted, figure", [
    ("gallery-dl reached 23.1 MB/s one file at a time.", "23.1 MB/s"),  # no results file holds it
    ("exodus over rclone copy: 1.29×.", "1.29×"),  # a rerun's ratio, typed by hand
    ("A rerun with nothing to send took 7.31 s.", "7.31 s"),
    ("The core pass makes 0.41 calls per item.", "0.41 calls per item"),  # contradicting backup.json
])
def test_a_hand_written_figure_is_caught_anywhere_in_the_readme(planted, figure):
    text = README.read_text()
    assert not_measured(text + "\n" + planted + "\n", VALUES) == [figure]


def test_a_figure_changed_inside_a_generated_section_is_caught():
    text = README.read_text()
    gathered = report.gather(BENCHMARKS / "results")
    shown = gathered["scenarios"]["verify"]["figures"]["mb_per_s"]["jobs_2"]
    assert f"{shown} MB/s" in text
    assert set(not_measured(text.replace(f"{shown} MB/s", f"{shown + 100} MB/s"), VALUES)) == {f"{shown + 100} MB/s"}


def test_settings_are_not_figures_but_only_in_a_sentence_naming_their_knob():
    assert figures_in("A call has 600 s in all (`EXODUS_API_DEADLINE`).") == []
    assert [f[0] for f in figures_in("A call has 600 s in all. Then `EXODUS_API_DEADLINE` applies.")] == ["600 s"]
    assert figures_in("Sizes in decimal (1 MB = 10^6 bytes), limits in binary: 64 MiB.") == []


# --- judging a scenario -------------------------------------------------------------------------

def run(**extra) -> dict:
    return {"date": "2026-12-02T03:00:00+00:00", "machine": {"cpus": 2}, "commit": "abc1234", "quick": False,
            **extra}


def scenario(tmp_path: Path, name: str, figures: dict) -> dict:
    source, key = report.SCENARIOS[name].source, report.SCENARIOS[name].key
    (tmp_path / f"{source}.json").write_text(json.dumps({"scenarios": {key: figures}}))
    return report.gather(tmp_path)["scenarios"][name]


def test_met_only_against_a_bound_the_run_measured(tmp_path):
    # The script's own "met" is not taken: push's ratio is judged against its bound.
    assert scenario(tmp_path, "push", {"exodus_over_rclone": 1.29, "met": True, "run": run()})["verdict"] == "not met"
    assert scenario(tmp_path, "push", {"exodus_over_rclone": 1.2, "run": run()})["verdict"] == "met"
    # A bound whose figure the run did not measure is not met.
    judged = scenario(tmp_path, "push", {"seconds": {"exodus": 1.0}, "run": run()})
    assert judged["verdict"] == "not met" and judged["bounds"][0]["value"] is None
    # A limit measured by the run itself: the floor of calls for the account it backed up.
    calm = {"nothing_changed": {"api_calls": 36, "bytes_downloaded": 0, "ok": True}, "run": run()}
    assert scenario(tmp_path, "incremental", {**calm, "bound_nothing_changed": 35})["verdict"] == "not met"
    assert scenario(tmp_path, "incremental", {**calm, "bound_nothing_changed": 36})["verdict"] == "met"
    assert scenario(tmp_path, "incremental", calm)["verdict"] == "not met"  # no floor measured


def test_no_bound_is_never_met_and_a_quick_run_is_not_judged(tmp_path):
    chaos = {"kills": 4, "kills_recovered": 4, "met": True, "run": run()}
    assert scenario(tmp_path, "chaos", chaos)["verdict"] == "no bound"
    stated = {**chaos, "bounds": [{"label": "kills", "figure": "kills_recovered", "op": ">=", "limit": 4}]}
    assert scenario(tmp_path, "chaos", stated)["verdict"] == "met"
    quick = {"exodus_over_rclone": 1.0, "run": run(quick=True)}
    assert scenario(tmp_path, "push", quick)["verdict"] == "quick run, not judged"
    assert scenario(tmp_path, "push", {"exodus_over_rclone": 1.0})["verdict"] == "no run recorded"


def test_each_row_shows_its_own_run(tmp_path):
    (tmp_path / "verify.json").write_text(json.dumps({"scenarios": {
        "hashing": {"jobs_2_over_sha256sum": 1.0, "run": run(date="2026-12-01T22:00:00+00:00")},
        "remote": {"api_calls": 3, "listing_calls": 1, "ok": True, "run": run(date="2026-11-22T11:00:00+00:00")}}}))
    table = report.table(report.gather(tmp_path))
    rows = {line.split(" | ")[0].strip("| "): line for line in table.splitlines() if line.startswith("| verify")}
    assert "2026-12-01" in rows["verify"] and "2026-11-22" not in rows["verify"]
    assert "2026-11-22" in rows["verify_remote"] and "2026-12-01" not in rows["verify_remote"]


# --- the results files ----------------------------------------------------------------------------

def test_every_scenario_in_the_results_files_carries_its_own_run():
    for path in sorted((BENCHMARKS / "results").glob("*.json")):
        if path.name == "latest.json":
            continue
        document = json.loads(path.read_text())
        assert set(document) == {"scenarios"}, path.name  # no date or machine for the whole file
        for name, figures in document["scenarios"].items():
            stamp = figures["run"]
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", stamp["date"]), (path.name, name)
            assert stamp["machine"]["cpus"] >= 1 and stamp["machine"]["python"], (path.name, name)
            assert stamp["quick"] is False, (path.name, name)  # quick runs are never committed here
            assert re.fullmatch(r"[0-9a-f]{7,}(\+dirty)?|unrecorded", stamp["commit"]), (path.name, name)


def test_saving_a_scenario_replaces_its_own_entry_only(tmp_path):
    path = tmp_path / "backup.json"
    common.save_scenario(path, "quota", {"core_calls": 1}, run(date="2026-11-22T10:00:00+00:00"))
    common.save_scenario(path, "memory", {"growth": 1.1}, run())
    common.save_scenario(path, "memory", {"growth": 1.2}, run(quick=True))
    saved = json.loads(path.read_text())["scenarios"]
    assert saved["quota"] == {"core_calls": 1, "run": run(date="2026-11-22T10:00:00+00:00")}
    assert saved["memory"] == {"growth": 1.2, "run": run(quick=True)}


def test_a_run_is_stamped_with_the_commit_measured_and_a_quick_run_goes_beside_the_full_ones():
    stamp = common.run_stamp(quick=True)
    assert re.fullmatch(r"[0-9a-f]{7,}(\+dirty)?", stamp["commit"]), stamp
    assert stamp["quick"] is True and stamp["machine"]["cpus"] >= 1
    full = BENCHMARKS / "results" / "push.json"
    assert common.for_run(full, quick=False) == full
    assert common.for_run(full, quick=True) == BENCHMARKS / "results" / "quick" / "push.json"
