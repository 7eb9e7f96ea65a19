"""Issue 20 as a user meets it: an account whose public Creative-Commons portraits hold real
faces -> exodus backup -> exodus audit (faces found where the sandbox put them, the reasons
named) -> exactly the items at risk taken down with `lockdown --risk high`, then put back
with `--undo`. The sandbox's own record of each item is the judge."""

from __future__ import annotations

import json

from conftest import exodus, exodus_env
from test_lockdown_ids import state

ACCOUNT = dict(photos=14, videos=0, albums=1, seed=71, faces=4, media_size=(20_000, 60_000))


def overlap(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes."""
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0, x2 - x1) * max(0, y2 - y1)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_faces_rank_high_and_exactly_those_items_are_locked_down_then_restored(make_sandbox, tmp_path):
    client = make_sandbox(**ACCOUNT)
    manifest = client.manifest()
    portraits = {i for i, m in manifest.items() if m.get("has_face")}
    assert len(portraits) == 4
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0

    # Before any audit, --risk has nothing to read: one line, nothing changed.
    before = state(client)
    refused = exodus(["lockdown", str(dest), "--risk", "high", "--yes"], env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert "exodus audit" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert state(client) == before

    calls = client.stats()["api_calls_total"]
    audited = exodus(["audit", str(dest), "--json"], env)
    assert audited.returncode == 0, audited.stderr
    assert client.stats()["api_calls_total"] == calls  # the audit asks Flickr nothing
    report = json.loads(audited.stdout)
    assert report["faces_checked"]
    items = {item["id"]: item for item in report["items"]}
    for pid in portraits:
        item = items[pid]
        assert item["risk"] == "high", item
        assert {"public", "reusable licence", "people tagged", "faces"} <= {r["code"] for r in item["reasons"]}
        assert any(overlap(found, manifest[pid]["face_box"]) >= 0.5 for found in item["faces"]), item["faces"]
    at_risk = {pid for pid, item in items.items() if item["risk"] in ("exposed", "high")}
    assert portraits <= at_risk

    dry = exodus(["lockdown", str(dest), "--risk", "high", "--json"], env)
    assert dry.returncode == 0, dry.stderr
    assert state(client) == before  # a dry run changes nothing

    done = exodus(["lockdown", str(dest), "--risk", "high", "--tag-no-cv", "--yes", "--json"], env)
    assert done.returncode == 0, done.stderr
    after = state(client)
    assert {pid for pid in before if after[pid] != before[pid]} == at_risk
    for pid in at_risk:
        public, _, _, license_id, geo, tags = after[pid]
        assert public == 0 and license_id == 0 and "no_cv" in {clean for clean, _ in tags}
        assert geo is None or geo == (0, 0, 0, 0)

    undone = exodus(["lockdown", str(dest), "--undo", "--risk", "high", "--yes", "--json"], env)
    assert undone.returncode == 0, undone.stderr
    assert state(client) == before
