"""The proof delete-remote relies on is bound to bytes: the three ways a review deleted a
Flickr original that exodus did not hold, each closed. The sandbox's manifest says what
was really deleted on "Flickr"."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

from conftest import catalog_rows, exodus, exodus_env, sha256_file


def deleted_on_sandbox(client) -> set[str]:
    return {i for i, m in client.manifest().items() if m["deleted"]}


def delete_remote(env, dest):
    done = exodus(["delete-remote", str(dest), "--yes", "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, json.loads(done.stdout)


def verified(env, dest) -> dict:
    done = exodus(["verify", str(dest), "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def photos(dest) -> dict[str, dict]:
    return {r["id"]: r for r in catalog_rows(dest) if r["media"] == "photo" and r["state"] == "downloaded"}


def test_a_replacement_downloaded_after_verify_is_kept_whatever_the_clocks_say(make_sandbox, tmp_path):
    client = make_sandbox(photos=6, videos=0, albums=1, seed=151, media_size=(3_000, 5_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert verified(env, dest)["ok"]
    replaced = sorted(photos(dest))[0]
    client.control("replace", id=replaced)
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    row = catalog_rows(dest, "SELECT * FROM photos WHERE id = ?", [replaced])[0]
    assert row["sha256"] == client.manifest()[replaced]["sha256"] and row["verified_sha256"] is None
    # Clocks decide nothing: a verify stamped in the future (a clock that ran ahead, or the
    # same second as the download) still proves only the bytes it read.
    every = set(photos(dest))
    conn = __import__("sqlite3").connect(dest / "catalog.db")
    conn.execute("UPDATE photos SET verified_at = '2999-01-01T00:00:00Z'")
    conn.commit()
    conn.close()
    code, report = delete_remote(env, dest)
    assert code == 0, report
    assert {k["id"]: k["reason"] for k in report["kept"]}[replaced] == "not_verified"
    assert deleted_on_sandbox(client) == every - {replaced}
    # Once verify has read the new bytes, the item may go.
    assert verified(env, dest)["ok"]
    code, report = delete_remote(env, dest)
    assert code == 0 and report["counts"]["deleted"] == 1 and replaced in deleted_on_sandbox(client)


def test_a_verified_file_swapped_for_a_link_or_a_folder_stays_on_flickr(make_sandbox, tmp_path):
    client = make_sandbox(photos=8, videos=0, albums=1, seed=152, media_size=(3_000, 5_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 0
    assert verified(env, dest)["ok"]
    rows = photos(dest)
    linked, foldered, *_ = sorted(rows, key=lambda i: rows[i]["path"])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # The same bytes, but outside the backup: removing that copy would lose the photo.
    copy = elsewhere / "copy.jpg"
    shutil.copyfile(dest / rows[linked]["path"], copy)
    (dest / rows[linked]["path"]).unlink()
    os.symlink(copy, dest / rows[linked]["path"])
    (dest / rows[foldered]["path"]).unlink()
    (dest / rows[foldered]["path"]).mkdir()
    # A folder of the path swapped for a link to a copy of it: every file under it is suspect.
    folder = dest / rows[sorted(rows)[-1]]["path"]
    folder = folder.parent
    under = {i for i, r in rows.items() if (dest / r["path"]).parent == folder} - {linked, foldered}
    shutil.copytree(folder, elsewhere / "folder", symlinks=True)
    shutil.rmtree(folder)
    os.symlink(elsewhere / "folder", folder)
    code, report = delete_remote(env, dest)
    assert code == 1 and report["counts"]["changed_locally"] == len({linked, foldered} | under)
    gone = deleted_on_sandbox(client)
    assert not gone & ({linked, foldered} | under)
    assert gone == set(rows) - {linked, foldered} - under
    # Kept on Flickr and no longer proved: verify must prove them again.
    for item_id in {linked, foldered} | under:
        row = catalog_rows(dest, "SELECT verified_sha256, state FROM photos WHERE id = ?", [item_id])[0]
        assert row == {"verified_sha256": None, "state": "downloaded"}


def truncate_entry(zip_path, item_id: str, keep: int) -> str:
    """Rewrite a media zip with one item's original cut to its first `keep` bytes: a whole,
    valid zip whose entry is a truncated file (its CRC and size are those of the cut bytes)."""
    rebuilt = zip_path.with_suffix(".tmp")
    cut = None
    with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename.rsplit("/", 1)[-1].startswith((f"{item_id}_o.",)) or f"_{item_id}_o." in info.filename:
                data, cut = data[:keep], info.filename
            new.writestr(info, data)
    rebuilt.replace(zip_path)
    return cut


def test_a_truncated_export_file_never_verifies_and_stays_on_flickr(make_sandbox, tmp_path):
    client = make_sandbox(photos=12, videos=0, albums=1, seed=153, free_account=True, media_size=(150_000, 190_000))
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    assert exodus(["backup", str(dest), "--json"], env).returncode == 3
    withheld = sorted(r["id"] for r in catalog_rows(dest) if r["state"] == "original_unavailable"
                      and r["media"] == "photo")
    assert len(withheld) >= 2
    client.control("export", dir=str(tmp_path / "export"))
    victim = withheld[0]
    cut = None
    for media_zip in sorted((tmp_path / "export").glob("data-download-*.zip")):
        cut = cut or truncate_entry(media_zip, victim, 2_000)
    assert cut, "the export holds the item"
    done = exodus(["import-export", str(dest), *map(str, sorted((tmp_path / "export").iterdir())), "--json"], env)
    assert "Traceback" not in done.stderr, done.stderr
    row = catalog_rows(dest, "SELECT * FROM photos WHERE id = ?", [victim])[0]
    if row["state"] == "downloaded":  # the import took the cut bytes: verify must refuse them
        assert row["size"] == 2_000 and sha256_file(dest / row["path"]) == row["sha256"]
        report = verified(env, dest)
        assert victim in {p["id"] for p in report["problems"]}, report["problems"]
        assert catalog_rows(dest, "SELECT verified_sha256 FROM photos WHERE id = ?", [victim])[0][
            "verified_sha256"] is None
    delete_remote(env, dest)
    gone = deleted_on_sandbox(client)
    assert victim not in gone
    assert set(withheld[1:]) <= gone  # the whole ones were proved by Flickr's listed shape
