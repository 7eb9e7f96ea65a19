"""Secrets never leave: after a backup with a browser session, a verify, a dry run of
delete-remote and a status, no API secret, OAuth token or token secret and no session
cookie value is in any file of DEST (catalog, WAL, logs, sidecars, links.csv) or in
anything printed, with --json or without."""

from __future__ import annotations

from conftest import exodus, exodus_env
from test_backup_originals import cookies_file


def test_no_secret_reaches_the_backup_or_the_terminal(make_sandbox, tmp_path):
    client = make_sandbox(photos=5, videos=2, albums=1, seed=161, media_size=(2_000, 3_000),
                          video_size=(30_000, 40_000))  # videos need the browser session
    env = exodus_env(client, tmp_path)
    dest = tmp_path / "dest"
    jar = cookies_file(tmp_path / "cookies.txt", client.info["session_cookie"])
    printed = []
    for args in (["backup", str(dest), "--json", "--cookies", str(jar), "--xmp"],
                 ["backup", str(dest), "--cookies", str(jar)],
                 ["verify", str(dest), "--json"], ["verify", str(dest), "--remote"],
                 ["delete-remote", str(dest), "--json"], ["delete-remote", str(dest)],
                 ["status", str(dest)], ["status", str(dest), "--json"]):
        done = exodus(args, env)
        assert done.returncode in (0, 3), (args, done.stderr)
        printed.append(done.stdout + done.stderr)
    secrets = {
        "api secret": client.info["api_secret"],
        "oauth token": client.info["oauth_token"],
        "oauth token secret": client.info["oauth_token_secret"],
        "session cookie": client.info["session_cookie"].partition("=")[2],
    }
    assert all(len(value) >= 8 for value in secrets.values())  # long enough not to match by chance
    files = [p for p in dest.rglob("*") if p.is_file() and not p.is_symlink()]
    assert any(p.name == "catalog.db" for p in files) and any(p.parent.name == "logs" for p in files)
    for what, value in secrets.items():
        needle = value.encode()
        for path in files:
            assert needle not in path.read_bytes(), f"the {what} is in {path.relative_to(dest)}"
        assert not [out for out in printed if value in out], f"the {what} was printed"
