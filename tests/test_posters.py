"""A video's poster: Flickr's own still of it, kept beside the video as {video}.poster.jpg,
known to verify, carried by push, moved with the video, shown by the gallery before the
video plays; a poster that cannot be had is told and never fails the backup."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import requests

from conftest import catalog_rows, exodus, exodus_env
from flickr_exodus.layout.companions import POSTER, companion_of

ACCOUNT = dict(photos=3, videos=2, albums=0, seed=61, video_access="oauth", media_size=(2_000, 3_000),
               video_size=(30_000, 50_000))


def backup(env, dest) -> dict:
    done = exodus(["backup", str(dest), "--json"], env)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return json.loads(done.stdout)


def videos(dest) -> list[dict]:
    return catalog_rows(dest, "SELECT id, path, url_o FROM photos WHERE media = 'video' ORDER BY id")


class Players(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[dict] = []

    def handle_starttag(self, tag, attrs):
        if tag == "video":
            self.found.append(dict(attrs))


def test_each_video_keeps_flickrs_poster_beside_it_once(make_sandbox, tmp_path):
    client = make_sandbox(**ACCOUNT)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"

    summary = backup(env, dest)

    assert summary["this_run"]["posters"] == {"saved": 2, "already": 0, "failed": 0, "none_listed": 0}
    for video in videos(dest):
        poster = dest / (video["path"] + POSTER)
        still = requests.get(video["url_o"], timeout=30)  # the still Flickr lists for the video
        assert still.status_code == 200 and still.content[:3] == b"\xff\xd8\xff"
        assert poster.read_bytes() == still.content
    assert not list(dest.rglob("*.part"))

    checked = exodus(["verify", str(dest), "--json"], env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert json.loads(checked.stdout)["counts"]["stray_files"] == 0

    client.control("reset-stats")
    again = backup(env, dest)
    assert again["this_run"]["posters"] == {"saved": 0, "already": 2, "failed": 0, "none_listed": 0}
    assert client.stats()["bytes_served"] == 0

    # The gallery draws each video's poster and hands it to the player.
    built = exodus(["gallery", str(dest), "--json"], env)
    assert built.returncode == 0, built.stderr
    for video in videos(dest):
        page = Players()
        page.feed((dest / "site/photos" / f"{video['id']}.html").read_text(encoding="utf-8"))
        assert len(page.found) == 1 and page.found[0].get("poster"), page.found
        drawn = dest / "site/photos" / page.found[0]["poster"]
        assert drawn.resolve().is_relative_to((dest / "site/img").resolve())
        assert drawn.read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_poster_flickr_will_not_give_is_told_and_fails_nothing(make_sandbox, tmp_path):
    client = make_sandbox(**ACCOUNT)
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    target = client.manifest()
    video = next(i for i, m in sorted(target.items()) if m["media"] == "video")
    missing = f"{client.info['api_base']}/nothing/{video}_0000000000_o.jpg"
    client.control("hostile", rules=[{"method": "flickr.people.getPhotos", "match": {"id": video},
                                      "set": {"url_o": missing}}])

    summary = backup(env, dest)

    assert summary["ok"] and summary["counts"]["downloaded"] == 5
    assert summary["this_run"]["posters"] == {"saved": 1, "already": 0, "failed": 1, "none_listed": 0}
    assert any("1 video poster could not be fetched" in note for note in summary["notes"])
    path = catalog_rows(dest, "SELECT path FROM photos WHERE id = ?", [video])[0]["path"]
    assert not (dest / (path + POSTER)).exists() and not list(dest.rglob("*.part"))

    client.control("hostile", clear=True)
    again = backup(env, dest)
    assert again["this_run"]["posters"] == {"saved": 1, "already": 1, "failed": 0, "none_listed": 0}
    assert (dest / (path + POSTER)).read_bytes()[:3] == b"\xff\xd8\xff"


def test_a_poster_is_a_companion_only_beside_its_video():
    folder = {"1_beach.mp4", "1_beach.mp4.poster.jpg", "2_film.poster.jpg", "3_x.jpg.json"}
    assert companion_of("1_beach.mp4.poster.jpg", folder)
    assert companion_of("3_x.jpg.json", folder)
    # A photo titled "film.poster" is an original, not a companion of anything.
    assert not companion_of("2_film.poster.jpg", folder)
