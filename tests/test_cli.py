"""The command line: `exodus sandbox`'s one-line JSON contract, signals, errors, the demo."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

import pytest
import requests

from test_figures import demo_figures_agree_with_the_disk

EXODUS = [sys.executable, "-m", "flickr_exodus"]
CONTRACT_KEYS = {"api_base", "api_key", "api_secret", "oauth_token", "oauth_token_secret", "user_nsid",
                 "username", "session_cookie"}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_sandbox_prints_one_json_line_serves_and_stops_on_signal(sig):
    proc = subprocess.Popen([*EXODUS, "sandbox", "--port", "0", "--photos", "3", "--videos", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        info = json.loads(proc.stdout.readline())
        assert set(info) == CONTRACT_KEYS
        assert info["api_base"].startswith("http://127.0.0.1:")
        answer = requests.get(f"{info['api_base']}/services/rest/", timeout=30, params={
            "method": "flickr.test.echo", "api_key": info["api_key"], "format": "json", "nojsoncallback": "1"})
        assert answer.json()["stat"] == "ok"
        assert requests.get(f"{info['api_base']}/__sandbox__/stats", timeout=30).json()["account"]["photos"] == 3
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0
    assert out == "" and err == ""  # exactly one line, then nothing; stderr quiet


@pytest.mark.parametrize("args,needle", [
    (["sandbox", "--rate-limit", "lots"], "CALLS/SECONDS"),
    (["sandbox", "--video-access", "magic"], "magic"),
    (["sandbox", "--fault-kinds", "gremlins"], "gremlins"),
    (["sandbox", "--media-size", "9-1"], "MIN <= MAX"),
    (["nonsense"], "nonsense"),
])
def test_bad_input_is_one_line_and_exit_2(args, needle):
    done = subprocess.run([*EXODUS, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("exodus:") and needle in lines[0]


def test_help_teaches():
    done = subprocess.run([*EXODUS, "sandbox", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--page-drop-rate" in done.stdout and "__sandbox__" in done.stdout


def test_demo_backs_up_the_sandbox_and_checks_every_file(tmp_path):
    """The demo, run once (it takes a while): a real backup checked file by file, figures
    that agree with the disk, and no cookies file left behind in the temporary folder."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "TMPDIR": str(scratch)}
    done = subprocess.run([*EXODUS, "demo", str(tmp_path / "demo")], capture_output=True, text=True,
                          timeout=240, env=env)
    assert done.returncode == 0, done.stderr
    found = re.search(r"(\d+) of (\d+) files match the sandbox's own SHA-256 exactly", done.stdout)
    assert found and found.group(1) == found.group(2) and int(found.group(1)) >= 100
    assert re.search(rf"exodus verify: {found.group(1)} of {found.group(1)} files whole", done.stdout)
    # The user sees what the quota cost (how many 429s depends on this machine's speed;
    # test_backup_faults proves the quota itself).
    assert re.search(r"\d+ API calls? \(\d+ refused with 429\)", done.stdout)
    demo = tmp_path / "demo"
    assert (demo / "catalog.db").is_file() and (demo / "albums").is_dir() and (demo / "links.csv").is_file()
    # Video originals came through the exported browser session; XMP beside every file.
    assert len(list((demo / "photos").rglob("*.mp4"))) + len(list((demo / "photos").rglob("*.mov"))) == 6
    assert len(list((demo / "photos").rglob("*.xmp"))) == int(found.group(1))
    # The gallery, with every video drawn from the poster kept beside it.
    shown = re.search(r"exodus gallery: (\d+) pages, (\d+) items drawn .*; open (\S+) in any browser", done.stdout)
    assert shown and int(shown.group(2)) == int(found.group(1)) and shown.group(3) == str(demo / "index.html")
    assert (demo / "index.html").is_file() and (demo / "README.txt").is_file()
    assert len(list((demo / "photos").rglob("*.poster.jpg"))) == 6
    demo_figures_agree_with_the_disk(done.stdout, demo)
    assert "cookies.txt" in done.stdout and list(scratch.iterdir()) == []


def test_backup_and_status_help_teach():
    for command, needle in (("backup", "resumes"), ("status", "needs"), ("auth", "0600")):
        done = subprocess.run([*EXODUS, command, "--help"], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and needle in done.stdout, done.stdout
