"""What a newcomer meets first: `exodus --help` and each command's help, where tokens are
kept, and what `make demo` installs."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import tomllib
from pathlib import Path

import pytest

from conftest import EXODUS, exodus, exodus_env, sign_in

ROOT = Path(__file__).resolve().parents[1]
COMMANDS = ("demo", "auth", "backup", "import-export", "verify", "status", "gallery", "push", "audit",
            "lockdown", "delete-remote", "sandbox")


def help_text(*args: str, columns: int = 200) -> str:
    env = {**os.environ, "COLUMNS": str(columns)}
    done = subprocess.run([*EXODUS, *args, "--help"], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("columns", [80, 200])
def test_every_command_has_a_whole_one_line_summary(columns):
    text = help_text(columns=columns)
    listed = text.split("\nCommands:\n")[1].split("\n\n")[0].splitlines()
    names = [line.split()[0] for line in listed]
    assert sorted(names) == sorted(COMMANDS)  # one line each: no summary wrapped onto a second
    assert "…" not in text and "..." not in "\n".join(listed)
    assert all(len(line) <= 80 for line in text.splitlines())


def test_the_overview_names_every_command_in_the_order_a_user_runs_them():
    text = help_text()
    overview = text.split("\nOptions:")[0]
    places = [overview.find(f"exodus {name} ") for name in COMMANDS]
    assert -1 not in places and places == sorted(places)


def test_the_environment_section_names_every_variable():
    text = help_text()
    environment = text.split("Environment:")[1]
    for name in ("FLICKR_API_KEY", "FLICKR_API_SECRET", "FLICKR_OAUTH_TOKEN", "FLICKR_OAUTH_TOKEN_SECRET",
                 "EXODUS_API_BASE", "EXODUS_API_RATE", "--api-rate", "--api-base", "AWS_ACCESS_KEY_ID",
                 "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "IMMICH_API_KEY", "README"):
        assert name in environment, name


def test_push_help_shows_a_local_folder_through_rclone():
    assert "rclone::local:/PATH" in help_text("push")


def test_a_sandbox_sign_in_keeps_the_token_for_flickr(sb, tmp_path):
    env = exodus_env(sb, tmp_path)
    for name in ("FLICKR_OAUTH_TOKEN", "FLICKR_OAUTH_TOKEN_SECRET"):
        env.pop(name)
    token_file = tmp_path / "config" / "flickr-exodus" / "token.json"
    token_file.parent.mkdir(parents=True)
    flickrs = {"api_key": sb.info["api_key"], "api_secret": sb.info["api_secret"], "oauth_token": "real-token",
               "oauth_token_secret": "real-secret", "perms": "delete", "username": "me"}
    token_file.write_text(json.dumps(flickrs))  # the one-token file of earlier versions
    # Before the sign-in, the sandbox is not taken for Flickr: no token for it yet.
    done = exodus(["backup", str(tmp_path / "early")], env)
    assert done.returncode == 2 and f"not signed in to Flickr at {sb.base.split('//')[1]}" in done.stderr

    done = sign_in(sb, env)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(os.stat(token_file).st_mode) == 0o600
    hosts = json.loads(token_file.read_text())["hosts"]
    assert hosts["www.flickr.com"] == flickrs  # the real sign-in survives the sandbox's
    assert hosts[sb.base.split("//")[1]]["oauth_token"] not in ("", None, "real-token")
    # The sandbox's token serves runs against the sandbox...
    done = exodus(["backup", str(tmp_path / "dest"), "--quiet"], env)
    assert done.returncode in (0, 3), done.stderr  # 3: the videos need a browser session
    assert (tmp_path / "dest" / "catalog.db").is_file()
    # ... and without EXODUS_API_BASE exodus still holds the one for Flickr.
    probe = ("from flickr_exodus.flickr import Credentials; c = Credentials.load(); "
             "print(c.token, c.perms)")
    env.pop("EXODUS_API_BASE")
    done = subprocess.run([*EXODUS[:1], "-c", probe], env=env, capture_output=True, text=True, timeout=60,
                          cwd=ROOT)
    assert done.stdout.split() == ["real-token", "delete"], done.stderr


def make_commands(target: str, clone: Path) -> str:
    """What `make TARGET` would run in a fresh clone (make -n: nothing is run)."""
    done = subprocess.run(["make", "-n", target], cwd=clone, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="needs make")
def test_make_demo_installs_only_the_runtime_and_make_test_adds_the_test_extras(tmp_path):
    clone = tmp_path / "clone"
    clone.mkdir()
    (clone / "tests").mkdir()
    for name in ("Makefile", "pyproject.toml", "tests/peers-requirements.txt"):
        shutil.copy(ROOT / name, clone / name)
    demo = make_commands("demo", clone)
    assert "pip install --quiet -e ." in demo and "[test]" not in demo and "exodus demo" in demo
    assert "peers" not in demo  # the tools the sandbox is checked against are the tests' alone
    test = make_commands("test", clone)
    assert "'.[test]'" in test and "-r tests/peers-requirements.txt" in test


def test_the_license_is_an_spdx_string():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == "MIT"
    # The runtime the demo installs runs the demo: nothing in it imports a test extra.
    assert not any(name.startswith(("pytest", "hypothesis", "rclone", "seaweedfs", "wsgidav"))
                   for name in project["dependencies"])
