"""What the commands that change Flickr (lockdown, delete-remote) are asked to take:

- `--ids FILE`: one Flickr photo id a line, blank lines and `# comments` skipped. Every line
  must be an id of this backup: a typo or a list made for another account stops the
  command before any call to Flickr, on one line that says which, rather than quietly
  changing less than was asked.
- `--risk LEVEL`: the items the last `exodus audit` ranked at LEVEL or above (its table in
  the catalog); a backup never audited stops the command the same way."""

from __future__ import annotations

from pathlib import Path

from ..catalog import Catalog
from ..catalog.journal import known_ids
from ..dest import UsageProblem
from ..flickr import ids

SHOWN = 3  # unknown ids named in the message
# --risk LEVEL takes LEVEL and every level above it (audit/risk.py's levels, riskiest first).
RISKS = {"exposed": ("exposed",), "high": ("exposed", "high"), "medium": ("exposed", "high", "medium")}


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        why = getattr(error, "strerror", None) or error
        raise UsageProblem(f"cannot read --ids {path}: {why}") from None


def read_ids(cat: Catalog, path: Path) -> frozenset[str]:
    """The ids FILE lists, each known to the catalog; UsageProblem otherwise."""
    listed = set()
    for number, line in enumerate(_lines(path), 1):
        text = line.split("#", 1)[0].strip()
        if text and not ids.is_photo_id(text):
            raise UsageProblem(f"--ids {path}, line {number}: {ids.shown(text)} is not a Flickr photo id "
                               "(one id of digits a line)")
        if text:
            listed.add(text)
    if not listed:
        raise UsageProblem(f"--ids {path} lists no photo id: nothing to do")
    unknown = sorted(listed - known_ids(cat, listed))
    if unknown:
        named = ", ".join(unknown[:SHOWN]) + (f" and {len(unknown) - SHOWN} more" if len(unknown) > SHOWN else "")
        raise UsageProblem(f"--ids {path}: {len(unknown)} of its ids are not in this backup ({named}); "
                           "is it this account's list? nothing was changed")
    return frozenset(listed)


def at_risk(cat: Catalog, level: str) -> frozenset[str]:
    """The ids the last audit ranked at `level` or above; UsageProblem when no audit ranked
    anything in this backup yet."""
    if not cat.audit_ids(RISKS["medium"] + ("low",)):
        raise UsageProblem(f"--risk {level} reads the ranking of 'exodus audit', and this backup has none yet: "
                           f"run 'exodus audit {cat.path.parent}' first; nothing was changed")
    return frozenset(cat.audit_ids(RISKS[level]))
