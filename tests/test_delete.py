"""`exodus delete-remote`: only what is proved safe goes, journaled so exactly that a kill
-9 at any instant is finished by the rerun without a second delete; the sandbox's own
manifest and stats say what really happened on "Flickr"."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import catalog_rows, exodus, exodus_env


def flip_byte(path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def deleted_on_sandbox(client) -> set[str]:
    return {i for i, m in client.manifest().items() if m["deleted"]}


def run(env, dest, *args):
    done = exodus(["delete-remote", str(dest), "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None), done


def prepared(make_sandbox, tmp_path):
    """A backed-up, verified account with one item of every kind that must survive.
    Returns (client, env, dest, the ids that may go, {kind: id} of those that must stay)."""
    client = make_sandbox(photos=14, videos=2, albums=2, seed=81, media_size=(3_000, 5_000),
                          video_size=(20_000, 30_000))  # videos need the session: needs_manual
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 3
    rows = {r["id"]: r for r in catalog_rows(dest)}
    photos = sorted(i for i, r in rows.items() if r["state"] == "downloaded")
    corrupt, edited, altered = photos[:3]
    flip_byte(dest / rows[corrupt]["path"])  # damaged before verify: verify says so
    assert exodus(["verify", str(dest), "--json"], env).returncode == 1
    # Downloaded after verify: never verified.
    unverified = client.control("add", title="after verify")["items"][0]["id"]
    assert exodus(["backup", str(dest), "--json"], env).returncode == 3
    # A photo whose original Flickr withholds: the account is a free one from now on.
    kept = client.control("add", title="withheld")["items"][0]["id"]
    client.control("edit", id=kept, license=0)
    client.control("faults", free_account=True)
    assert exodus(["backup", str(dest), "--json"], env).returncode == 3
    assert catalog_rows(dest, "SELECT state FROM photos WHERE id = ?", [kept])[0]["state"] == "original_unavailable"
    client.control("edit", id=edited, title="edited on Flickr after the backup")
    flip_byte(dest / rows[altered]["path"])  # changed after verify, before delete
    videos = [i for i, r in rows.items() if r["media"] == "video"]
    keep = {"corrupt": corrupt, "edited": edited, "altered": altered, "unverified": unverified,
            "original_unavailable": kept, **{f"needs_manual_{n}": v for n, v in enumerate(videos)}}
    may_go = set(photos) - {corrupt, edited, altered}
    return client, env, dest, may_go, keep


def test_dry_run_changes_nothing_and_shows_why(make_sandbox, tmp_path):
    client, env, dest, may_go, keep = prepared(make_sandbox, tmp_path)
    before = client.stats()
    code, report, _ = run(env, dest)
    after = client.stats()
    assert code == 0 and report["dry_run"]
    assert after["deleted"] == before["deleted"] == 0 and after["writes"] == before["writes"]
    assert "flickr.photos.delete" not in after["api_calls"]
    # The altered file is still counted eligible: only the hash right before its delete can tell.
    assert report["counts"]["eligible"] == len(may_go) + 1
    reasons = report["counts"]["by_reason"]
    assert reasons["needs_manual"] == 2 and reasons["original_unavailable"] == 1
    assert reasons["not_verified"] == 2 and reasons["stale"] == 1  # corrupt + unverified; edited
    kept = {k["id"]: k["reason"] for k in report["kept"]}
    assert kept[keep["edited"]] == "stale" and kept[keep["corrupt"]] == "not_verified"
    assert kept[keep["original_unavailable"]] == "original_unavailable"
    text = exodus(["delete-remote", str(dest)], env)
    assert text.returncode == 0 and "Dry run" in text.stdout and "--yes" in text.stdout


def test_yes_deletes_exactly_the_eligible_set(make_sandbox, tmp_path):
    client, env, dest, may_go, keep = prepared(make_sandbox, tmp_path)
    code, report, done = run(env, dest, "--yes")
    assert code == 1, done.stdout  # the altered file was kept, and that is reported
    assert deleted_on_sandbox(client) == may_go
    assert report["counts"]["deleted"] == len(may_go) and report["counts"]["changed_locally"] == 1
    rows = {r["id"]: r for r in catalog_rows(dest)}
    assert {i for i, r in rows.items() if r["state"] == "deleted_remote"} == may_go
    for item_id in may_go:  # the local copies are untouched
        assert (dest / rows[item_id]["path"]).is_file()
    journal = catalog_rows(dest, "SELECT photo_id, result FROM deletions")
    assert sorted(j["photo_id"] for j in journal) == sorted(may_go)
    assert {j["result"] for j in journal} == {"deleted"}
    assert client.stats()["api_calls"]["flickr.photos.delete"] == len(may_go)
    # A rerun has nothing left to delete.
    code, report, _ = run(env, dest, "--yes")
    assert report["counts"]["deleted"] == 0 and deleted_on_sandbox(client) == may_go


def test_a_read_only_token_deletes_nothing(make_sandbox, tmp_path):
    client, env, dest, may_go, _ = prepared(make_sandbox, tmp_path)
    key, secret = client.token("read")
    done = exodus(["delete-remote", str(dest), "--yes"],
                  {**env, "FLICKR_OAUTH_TOKEN": key, "FLICKR_OAUTH_TOKEN_SECRET": secret})
    assert done.returncode == 2 and "exodus auth --perms delete" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "flickr.photos.delete" not in client.stats()["api_calls"] and not deleted_on_sandbox(client)


def test_kill_9_at_any_point_then_rerun_deletes_each_eligible_item_once(make_sandbox, tmp_path):
    client, env, dest, may_go, _ = prepared(make_sandbox, tmp_path)
    for point in ("delete-intent:2", "delete-call:1", "delete-intent:1", "delete-call:3"):
        killed = exodus(["delete-remote", str(dest), "--yes", "--json"], {**env, "EXODUS_DIE_AT": point})
        assert killed.returncode == -9, (point, killed.stderr)
    code, report, _ = run(env, dest, "--yes")
    assert deleted_on_sandbox(client) == may_go
    assert client.stats()["api_calls"]["flickr.photos.delete"] == len(may_go)  # never twice
    done = {j["photo_id"] for j in catalog_rows(dest, "SELECT photo_id FROM deletions WHERE result = 'deleted'")}
    assert done == may_go  # the journal matches the sandbox one to one
    assert not catalog_rows(dest, "SELECT * FROM deletions WHERE result IS NULL")
    # The last kill struck after Flickr had deleted the item: Flickr's answer settled it.
    assert report["settled_from_earlier_run"] == {"deleted": 1}


def test_limit_album_and_ids_narrow_the_set(make_sandbox, tmp_path):
    client, env, dest, may_go, _ = prepared(make_sandbox, tmp_path)
    chosen = sorted(may_go)[:3]
    ids = tmp_path / "ids.txt"
    ids.write_text("# mine\n" + "\n".join(chosen) + "\n")
    code, report, _ = run(env, dest, "--yes", "--ids", str(ids), "--limit", "2")
    assert deleted_on_sandbox(client) == set(chosen[:2])
    album = catalog_rows(dest, "SELECT album_id FROM album_photos LIMIT 1")[0]["album_id"]
    members = {r["photo_id"] for r in catalog_rows(dest, "SELECT photo_id FROM album_photos WHERE album_id = ?",
                                                   [album])}
    code, report, _ = run(env, dest, "--yes", "--album", album)
    assert deleted_on_sandbox(client) == set(chosen[:2]) | (members & may_go)


DAMAGE = st.sampled_from(["none", "corrupt_before_verify", "alter_after_verify", "remove_after_verify",
                          "edit_on_flickr", "replace_on_flickr", "delete_on_flickr"])


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(damage=st.lists(DAMAGE, min_size=5, max_size=5))
def test_property_no_ineligible_item_is_ever_deleted(make_sandbox, tmp_path_factory, damage):
    home = tmp_path_factory.mktemp("prop")
    client = make_sandbox(photos=5, videos=0, albums=1, seed=90, media_size=(2_000, 3_000))
    env = exodus_env(client, home)
    dest = home / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    rows = {r["id"]: r for r in catalog_rows(dest)}
    ids = sorted(rows)
    for item_id, kind in zip(ids, damage):
        if kind == "corrupt_before_verify":
            flip_byte(dest / rows[item_id]["path"])
    exodus(["verify", str(dest), "--json"], env)
    for item_id, kind in zip(ids, damage):
        path = dest / rows[item_id]["path"]
        if kind == "alter_after_verify":
            flip_byte(path)
        elif kind == "remove_after_verify":
            path.unlink()
        elif kind == "edit_on_flickr":
            client.control("edit", id=item_id, title="changed")
        elif kind == "replace_on_flickr":
            client.control("replace", id=item_id)
        elif kind == "delete_on_flickr":
            client.control("delete", id=item_id)
    gone_before = deleted_on_sandbox(client)
    done = exodus(["delete-remote", str(dest), "--yes", "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    deleted_now = deleted_on_sandbox(client) - gone_before
    eligible = {i for i, kind in zip(ids, damage) if kind == "none"}
    assert deleted_now == eligible, (damage, deleted_now, eligible)


def test_a_delete_whose_answer_was_lost_is_journaled_as_ours(make_sandbox, tmp_path):
    """Connections reset after Flickr carried out the delete: the retry hears 'not found',
    and the journal still says exodus deleted it, as the sandbox's record does."""
    client = make_sandbox(photos=12, videos=0, albums=1, seed=83, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert exodus(["verify", str(dest), "--json"], env).returncode == 0
    client.control("faults", fault_rate=0.4, fault_kinds=["reset"])
    code, report, _ = run({**env, "EXODUS_BACKOFF": "0"}, dest, "--yes")
    assert code == 0, report
    assert client.stats()["faults"].get("api_reset", 0) > 0
    gone = deleted_on_sandbox(client)
    assert len(gone) == 12
    journal = {j["photo_id"]: j["result"] for j in catalog_rows(dest, "SELECT photo_id, result FROM deletions")}
    assert journal == {i: "deleted" for i in gone}
