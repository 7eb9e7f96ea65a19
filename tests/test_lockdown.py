"""`exodus lockdown`: every public or Creative-Commons item private and All Rights
Reserved, journaled; `--undo` restores exactly what was; a kill -9 midway is finished by
the rerun. The sandbox's own record is the judge."""

from __future__ import annotations

import json

from conftest import catalog_rows, exodus, exodus_env

OPEN = {1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 14, 15, 16}


def state(client) -> dict[str, tuple]:
    items = client.http.get(f"{client.base}/__sandbox__/records").json()["items"]
    return {r["id"]: (r["is_public"], r["is_friend"], r["is_family"], r["license"]) for r in items if not r["deleted"]}


def expected_locked(before: dict[str, tuple]) -> dict[str, tuple]:
    out = {}
    for item_id, (public, friend, family, license_id) in before.items():
        if public or license_id in OPEN:
            out[item_id] = (0, friend, family, 0 if license_id in OPEN else license_id)
        else:
            out[item_id] = (public, friend, family, license_id)
    return out


def backed_up(make_sandbox, tmp_path, seed):
    client = make_sandbox(photos=16, videos=1, albums=1, seed=seed, video_access="oauth",
                          media_size=(2_000, 3_000), video_size=(20_000, 30_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    return client, env, dest


def lockdown(env, dest, *args):
    done = exodus(["lockdown", str(dest), "--json", *args], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, (json.loads(done.stdout) if done.stdout.strip() else None)


def test_lockdown_then_undo_restores_every_item_exactly(make_sandbox, tmp_path):
    client, env, dest = backed_up(make_sandbox, tmp_path, seed=91)
    before = state(client)
    wanted = expected_locked(before)
    assert wanted != before  # the account has public and CC items to lock
    writes = client.stats()["writes"]
    code, report = lockdown(env, dest)
    assert code == 0 and report["dry_run"] and client.stats()["writes"] == writes and state(client) == before
    assert report["counts"]["items"] == sum(1 for i in before if wanted[i] != before[i])

    code, report = lockdown(env, dest, "--yes")
    assert code == 0 and not report["dry_run"]
    assert state(client) == wanted
    journal = catalog_rows(dest, "SELECT photo_id, before, result FROM lockdowns WHERE action = 'lock'")
    assert {j["result"] for j in journal} == {"done"}
    for entry in journal:
        recorded = json.loads(entry["before"])
        assert (recorded["is_public"], recorded["is_friend"], recorded["is_family"], recorded["license"]) == \
            before[entry["photo_id"]]
    # Nothing left to lock.
    code, report = lockdown(env, dest, "--yes")
    assert report["counts"]["items"] == 0

    code, report = lockdown(env, dest, "--undo", "--yes")
    assert code == 0 and state(client) == before
    code, report = lockdown(env, dest, "--undo", "--yes")
    assert report["counts"]["items"] == 0  # undone once, not twice


def test_lockdown_killed_midway_ends_as_an_uninterrupted_run(make_sandbox, tmp_path):
    client, env, dest = backed_up(make_sandbox, tmp_path, seed=92)
    before = state(client)
    for point in ("lockdown-intent:3", "lockdown-call:2", "lockdown-call:4"):
        done = exodus(["lockdown", str(dest), "--yes", "--json"], {**env, "EXODUS_DIE_AT": point})
        assert done.returncode == -9, (point, done.stderr)
    code, report = lockdown(env, dest, "--yes")
    assert code == 0 and state(client) == expected_locked(before)
    assert not catalog_rows(dest, "SELECT * FROM lockdowns WHERE result IS NULL")
    # The undo still knows every item's values from before the first, interrupted run.
    done = exodus(["lockdown", str(dest), "--undo", "--yes", "--json"], {**env, "EXODUS_DIE_AT": "lockdown-call:2"})
    assert done.returncode == -9
    code, report = lockdown(env, dest, "--undo", "--yes")
    assert code == 0 and state(client) == before


def test_lockdown_needs_write_permission(make_sandbox, tmp_path):
    client, env, dest = backed_up(make_sandbox, tmp_path, seed=93)
    key, secret = client.token("read")
    done = exodus(["lockdown", str(dest), "--yes"], {**env, "FLICKR_OAUTH_TOKEN": key,
                                                   "FLICKR_OAUTH_TOKEN_SECRET": secret})
    assert done.returncode == 2 and "exodus auth --perms write" in done.stderr
    assert client.stats()["writes"] == 0
