"""Typed findings: the closed set of kinds covers what media/complete.py can report, catalog
items waiting for the user are told apart from those waiting for a run, and a report
counts every finding while it keeps only the first few."""

from __future__ import annotations

import inspect
import re

from flickr_exodus.findings import Finding, Findings, Kind, of_item
from flickr_exodus.media import complete


def test_every_flaw_the_structure_walk_reports_is_a_kind():
    """verify turns a flaw into Kind(flaw.kind); UNCHECKED is no fault and never a finding."""
    named = set(re.findall(r"(?:Flaw\(|_fail\(i, )([A-Z_]+),", inspect.getsource(complete)))
    assert named >= {"TRUNCATED", "MALFORMED", "UNCHECKED"}
    for name in named - {"UNCHECKED"}:
        assert Kind(getattr(complete, name)).value == getattr(complete, name)


def test_catalog_items_become_findings_that_say_who_must_act():
    manual = of_item({"id": "1", "state": "needs_manual", "reason": None})
    failed = of_item({"id": "2", "state": "failed", "reason": "HTTP 500"})
    assert (manual.kind, manual.needs_user, manual.waiting()) == (
        Kind.NEEDS_MANUAL, True, {"id": "1", "state": "needs_manual", "reason": None})
    assert (failed.kind, failed.needs_user, failed.detail) == (Kind.FAILED, False, "HTTP 500")


def test_a_report_counts_every_finding_and_keeps_the_first_few():
    found = Findings(shown=2)
    for n in range(5):
        found.add(Finding(str(n), Kind.STRAY, "a file the catalog does not know"))
    found.add(Finding("9", Kind.UNCONFIRMED, "nothing to check", needs_user=True))
    assert found.total == 5 and found.count(Kind.STRAY) == 5 and found.count(Kind.UNCONFIRMED) == 1
    assert [f.problem()["id"] for f in found.problems] == ["0", "1"]
    assert [f.id for f in found.needs_user] == ["9"]
