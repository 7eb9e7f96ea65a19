"""`exodus lockdown --ids FILE [--tag-no-cv]`: exactly the listed items become private, All
Rights Reserved, their location hidden (and tagged no_cv), journaled; `--undo` puts back
exactly what was, removing only the no_cv it added; a kill -9 between intent and result is
settled by the rerun; a bad ids file stops everything on one line. The sandbox's own record
of each item (visibility, license, geo perms, tags with their ids) is the judge."""

from __future__ import annotations

import json

import pytest

from conftest import catalog_rows, exodus, exodus_env

GEO_FLAGS = ("is_public", "is_contact", "is_friend", "is_family")
OPEN = {1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16}  # Creative Commons and public domain


def records(client) -> dict[str, dict]:
    items = client.http.get(f"{client.base}/__sandbox__/records").json()["items"]
    return {r["id"]: r for r in items if not r["deleted"]}


def state(client) -> dict[str, tuple]:
    """What lockdown may touch, per item: visibility, license, geo perms, tags (clean, id)."""
    out = {}
    for item_id, r in records(client).items():
        geo = None if r["geo"] is None else tuple(r["geo"][k] for k in GEO_FLAGS)
        tags = tuple(sorted((t["clean"], t["id"]) for t in r["tags"]))
        out[item_id] = (r["is_public"], r["is_friend"], r["is_family"], r["license"], geo, tags)
    return out


def no_cv_ids(entry: tuple) -> list[str]:
    return [tag_id for clean, tag_id in entry[5] if clean == "no_cv"]


def prepared(make_sandbox, tmp_path, seed):
    """A backed-up account and a selection of its items: public ones with a location (one of
    them hidden by its owner), a private one whose location friends and contacts may see, a private CC one, one already
    private and All Rights Reserved, and one whose owner tagged it no_cv."""
    client = make_sandbox(photos=18, videos=1, albums=1, seed=seed, video_access="oauth",
                          media_size=(2_000, 3_000), video_size=(20_000, 30_000))
    recs = records(client)
    located = sorted(i for i, r in recs.items() if r["geo"])
    public_geo = [i for i in located if recs[i]["is_public"]][:2]
    private_geo = next(i for i in located if not recs[i]["is_public"])
    client.call("flickr.photos.geo.setPerms", photo_id=private_geo, is_public="0", is_contact="1",
                is_friend="1", is_family="0")
    # A public photo whose location its owner already hid: the undo must leave it hidden.
    client.call("flickr.photos.geo.setPerms", photo_id=public_geo[1], is_public="0", is_contact="0",
                is_friend="0", is_family="0")
    private_cc = next(i for i, r in sorted(recs.items()) if not r["is_public"] and r["license"] in OPEN
                      and i not in located)
    tagged = next(i for i in sorted(recs) if recs[i]["is_public"] and i not in public_geo)
    client.control("edit", id=tagged, tags=[t["raw"] for t in recs[tagged]["tags"]] + ["no_cv"])
    plain = next(i for i, r in sorted(recs.items()) if not r["geo"] and i not in (private_cc, tagged))
    client.control("edit", id=plain, ispublic=0, isfriend=0, isfamily=1, license=0)
    chosen = sorted({*public_geo, private_geo, private_cc, plain, tagged})
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    ids = tmp_path / "picked.txt"
    ids.write_text("# saved from the audit sheet\n" + "\n".join(chosen) + "\n\n")
    return client, env, dest, ids, chosen, tagged


def expected(before: dict[str, tuple], chosen, tag: bool, every_license: bool) -> dict[str, tuple]:
    out = dict(before)
    for item_id in chosen:
        public, friend, family, license_id, geo, tags = before[item_id]
        if tag and not no_cv_ids(before[item_id]):
            tags = "no_cv"  # its id is Flickr's to give: compared apart
        license_id = 0 if every_license or license_id in OPEN else license_id
        out[item_id] = (0, friend, family, license_id, None if geo is None else (0, 0, 0, 0), tags)
    return out


def assert_locked(now: dict[str, tuple], before: dict[str, tuple], chosen, tag: bool,
                  every_license: bool = True) -> None:
    """The chosen items locked (with --ids every license becomes All Rights Reserved, else
    the open ones), every other item exactly as it was."""
    want = expected(before, chosen, tag, every_license)
    for item_id in now:
        if want[item_id][5] == "no_cv":  # the owner's tags kept, and one no_cv added
            assert now[item_id][:5] == want[item_id][:5], item_id
            kept = [t for t in now[item_id][5] if t[0] != "no_cv"]
            assert kept == list(before[item_id][5]) and len(no_cv_ids(now[item_id])) == 1, item_id
        else:
            assert now[item_id] == want[item_id], item_id


def lockdown(env, dest, *args):
    done = exodus(["lockdown", str(dest), "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None)


def test_ids_lock_exactly_the_listed_items_and_undo_restores_them(make_sandbox, tmp_path):
    client, env, dest, ids, chosen, tagged = prepared(make_sandbox, tmp_path, seed=191)
    before = state(client)
    assert before[tagged] and no_cv_ids(before[tagged])  # the owner's own no_cv
    writes = client.stats()["writes"]
    code, report = lockdown(env, dest, "--ids", str(ids), "--tag-no-cv")
    assert code == 0 and report["dry_run"] and report["selection"] == "ids"
    assert client.stats()["writes"] == writes and state(client) == before
    assert report["counts"]["items"] == len(chosen) and report["counts"]["selected"] == len(chosen)

    code, report = lockdown(env, dest, "--ids", str(ids), "--tag-no-cv", "--yes")
    assert code == 0 and not report["dry_run"] and report["counts"]["changed"] == len(chosen)
    now = state(client)
    assert_locked(now, before, chosen, tag=True)
    assert no_cv_ids(now[tagged]) == no_cv_ids(before[tagged])  # the owner's tag, untouched
    journal = catalog_rows(dest, "SELECT photo_id, before, after, tag_id, result FROM lockdowns")
    assert sorted(j["photo_id"] for j in journal) == chosen and {j["result"] for j in journal} == {"done"}
    for entry in journal:
        recorded = json.loads(entry["before"])
        geo = None if recorded["geo"] is None else tuple(recorded["geo"][k] for k in GEO_FLAGS)
        assert (recorded["is_public"], recorded["is_friend"], recorded["is_family"], recorded["license"], geo) == \
            before[entry["photo_id"]][:5]
        # The id Flickr gave the tag it added, and none for the one the owner had.
        assert entry["tag_id"] == (None if entry["photo_id"] == tagged else no_cv_ids(now[entry["photo_id"]])[0])

    code, report = lockdown(env, dest, "--ids", str(ids), "--tag-no-cv", "--yes")
    assert report["counts"]["items"] == 0 and report["counts"]["already_locked"] == len(chosen)

    code, report = lockdown(env, dest, "--undo", "--yes")
    assert code == 0 and report["counts"]["changed"] == len(chosen)
    assert state(client) == before  # visibility, license, geo perms; the owner's no_cv kept, ours gone
    code, report = lockdown(env, dest, "--undo", "--yes")
    assert report["counts"]["items"] == 0


def test_ids_without_the_tag_and_an_undo_of_some_of_them(make_sandbox, tmp_path):
    client, env, dest, ids, chosen, gone = prepared(make_sandbox, tmp_path, seed=192)
    client.control("delete", id=gone)  # listed, in the backup, and no longer on Flickr
    chosen = [i for i in chosen if i != gone]
    before = state(client)
    code, report = lockdown(env, dest, "--ids", str(ids), "--yes")
    assert code == 0 and report["counts"]["not_on_flickr"] == 1 and report["counts"]["already_locked"] == 1
    assert_locked(state(client), before, chosen, tag=False)
    locked_ids = sorted(r["photo_id"] for r in catalog_rows(dest, "SELECT photo_id FROM lockdowns"))
    assert len(locked_ids) == len(chosen) - 1  # the one already private and All Rights Reserved: no call
    some = tmp_path / "some.txt"
    some.write_text(locked_ids[0] + "\n" + locked_ids[1] + "  # two of them\n")
    code, report = lockdown(env, dest, "--undo", "--ids", str(some), "--yes")
    assert code == 0 and report["counts"]["changed"] == 2
    now = state(client)
    assert {i: now[i] for i in locked_ids[:2]} == {i: before[i] for i in locked_ids[:2]}
    assert_locked(now, before, sorted(set(chosen) - set(locked_ids[:2])), tag=False)


def test_tag_no_cv_without_ids_tags_every_item_lockdown_takes(make_sandbox, tmp_path):
    client, env, dest, _, _, tagged = prepared(make_sandbox, tmp_path, seed=197)
    before = state(client)
    taken = sorted(i for i, (public, _, _, license_id, _, _) in before.items() if public or license_id in OPEN)
    assert tagged in taken and len(taken) < len(before)
    code, report = lockdown(env, dest, "--tag-no-cv", "--yes")
    assert code == 0 and report["selection"] == "public_or_cc" and report["counts"]["changed"] == len(taken)
    assert_locked(state(client), before, taken, tag=True, every_license=False)
    code, report = lockdown(env, dest, "--undo", "--yes")
    assert code == 0 and state(client) == before


def test_a_kill_between_intent_and_result_is_settled_by_the_rerun(make_sandbox, tmp_path):
    client, env, dest, ids, chosen, tagged = prepared(make_sandbox, tmp_path, seed=193)
    before = state(client)
    args = ["lockdown", str(dest), "--ids", str(ids), "--tag-no-cv", "--yes", "--json"]
    # Killed with an intent open, then right after Flickr made the change (tag added) but
    # before the result: the next run carries the open intent out again, then goes on.
    for point in ("lockdown-intent:2", "lockdown-call:1", "lockdown-call:3"):
        done = exodus(args, {**env, "EXODUS_DIE_AT": point})
        assert done.returncode == -9, (point, done.stderr)
    code, report = lockdown(env, dest, "--ids", str(ids), "--tag-no-cv", "--yes")
    assert code == 0
    now = state(client)
    assert_locked(now, before, chosen, tag=True)
    assert not catalog_rows(dest, "SELECT * FROM lockdowns WHERE result IS NULL")
    added = catalog_rows(dest, "SELECT photo_id, tag_id FROM lockdowns WHERE tag_id IS NOT NULL")
    assert {a["photo_id"]: a["tag_id"] for a in added} == \
        {i: no_cv_ids(now[i])[0] for i in chosen if i != tagged}
    # The undo, killed after its first removeTag took effect, still ends where it began.
    for point in ("lockdown-call:1", "lockdown-intent:3"):
        done = exodus(["lockdown", str(dest), "--undo", "--yes", "--json"], {**env, "EXODUS_DIE_AT": point})
        assert done.returncode == -9, (point, done.stderr)
    code, report = lockdown(env, dest, "--undo", "--yes")
    assert code == 0 and state(client) == before
    assert not catalog_rows(dest, "SELECT * FROM lockdowns WHERE result IS NULL")


@pytest.mark.parametrize("content, says", [
    (None, "cannot read --ids"),
    ("{first}\nIMG_0001.jpg\n", "line 2: 'IMG_0001.jpg' is not a Flickr photo id"),
    ("{first}\n99999999999\n", "1 of its ids are not in this backup (99999999999)"),
    ("# nothing but a comment\n\n", "lists no photo id"),
])
def test_a_bad_ids_file_is_one_line_exit_2_and_no_call(make_sandbox, tmp_path, content, says):
    client = make_sandbox(photos=4, videos=0, albums=1, seed=194, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    first = sorted(state(client))[0]
    ids = tmp_path / "picked.txt"
    if content is not None:
        ids.write_text(content.format(first=first))
    calls = sum(client.stats()["api_calls"].values())
    done = exodus(["lockdown", str(dest), "--ids", str(ids), "--yes"], env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert sum(client.stats()["api_calls"].values()) == calls  # refused before any call to Flickr
    # delete-remote reads --ids the same way (after its listing): refused, nothing deleted.
    done = exodus(["delete-remote", str(dest), "--ids", str(ids), "--yes"], env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and says in done.stderr, done.stderr
    assert client.stats()["writes"] == 0 and not any(m["deleted"] for m in client.manifest().values())


def test_undo_with_tag_no_cv_is_refused(make_sandbox, tmp_path):
    client = make_sandbox(photos=3, videos=0, albums=1, seed=195, media_size=(2_000, 3_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    done = exodus(["lockdown", str(dest), "--undo", "--tag-no-cv", "--yes"], env)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "--tag-no-cv" in done.stderr
    assert client.stats()["writes"] == 0
