"""A stateful property test of the promise the whole tool rests on: nothing is deleted on
Flickr unless exodus holds, at that instant, a regular file in DEST whose sha256 is the hash
verify proved and the hash of Flickr's copy, with a journal row.

Hypothesis drives random sequences of: backup, verify, a replace or an edit on Flickr, a
flipped byte, a truncation, a file swapped for a link or a folder, clocks that lie, the import
of an account export with a truncated file, and delete-remote --yes. The commands run as
library calls (the same functions the CLI calls) against an in-process sandbox, so that many
sequences fit in `make test`; EXODUS_STATEFUL_EXAMPLES raises the count (`make chaos`: 500).
"""

from __future__ import annotations

import hashlib
from collections import Counter
import os
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (RuleBasedStateMachine, initialize, invariant, precondition, rule,
                                 run_state_machine_as_test)

from flickr_exodus.account_export.run import ImportOptions, run_import
from flickr_exodus.backup.run import BackupOptions, run_backup
from flickr_exodus.changes.delete import DeleteOptions, run_delete
from flickr_exodus.flickr import Credentials
from flickr_exodus.dest import UsageProblem
from flickr_exodus.sandbox import Sandbox, SandboxConfig
from flickr_exodus.verify.run import VerifyOptions, run_verify

from conftest import Client

EXAMPLES = int(os.environ.get("EXODUS_STATEFUL_EXAMPLES", "50"))
SEEN: Counter = Counter()  # what the sequences did, over all of them
RATE = (100_000, 1.0)
# An earlier or later clock, as the catalog's stamps of a run under it would show.
DAMAGE = ["flip a byte", "truncate", "link", "folder", "folder link"]
SKEWS = [-86_400 * 400, -3_600, -1, 0, 1, 3_600, 86_400 * 400]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class DeleteOnlyWhatIsProved(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.home = Path(tempfile.mkdtemp(prefix="exodus-stateful-"))
        self.dest = self.home / "dest"
        self.sandbox = None
        self.deleted: set[str] = set()
        (self.home / "outside").mkdir()
        # The quota ledger and the backoff, as a user's environment would set them.
        self.saved_env = {k: os.environ.get(k) for k in ("XDG_STATE_HOME", "EXODUS_BACKOFF")}
        os.environ.update(XDG_STATE_HOME=str(self.home / "state"), EXODUS_BACKOFF="0.01")

    @initialize(seed=st.integers(0, 2**16), free=st.booleans())
    def start(self, seed, free):
        # A free account's originals come only from the export (but Creative Commons ones),
        # so both sources' proofs are exercised.
        self.sandbox = Sandbox(SandboxConfig(photos=4, videos=1, albums=1, seed=seed, free_account=free,
                                             media_size=(2_500, 6_000), video_size=(20_000, 40_000))).__enter__()
        self.client = Client(self.sandbox)
        info = self.sandbox.info
        self.creds = Credentials(info["api_key"], info["api_secret"], info["oauth_token"],
                                 info["oauth_token_secret"])
        self.ids = sorted(self.client.manifest())
        self.backup()  # every sequence starts from a backup, as a user's does

    def teardown(self):
        if self.sandbox is not None:
            self.sandbox.__exit__(None, None, None)
        shutil.rmtree(self.home, ignore_errors=True)
        for key, value in self.saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    # --- helpers --------------------------------------------------------------------
    def rows(self) -> dict[str, dict]:
        if not (self.dest / "catalog.db").exists():
            return {}
        conn = sqlite3.connect(self.dest / "catalog.db")
        conn.row_factory = sqlite3.Row
        try:
            return {r["id"]: dict(r) for r in conn.execute("SELECT * FROM photos")}
        finally:
            conn.close()

    def file_of(self, index: int) -> Path | None:
        """The index-th of the items' files present now (so that damage always lands)."""
        present = [self.dest / r["path"] for _, r in sorted(self.rows().items())
                   if r["path"] and r["state"] == "downloaded"]
        real = os.path.realpath(self.dest)
        present = [p for p in present if p.is_file()  # and reached with no link on the way
                   and os.path.realpath(p) == os.path.join(real, os.path.relpath(p, self.dest))]
        return present[index % len(present)] if present else None

    def common(self) -> dict:
        return {"quiet": True, "api_rate": RATE, "api_base": self.client.base, "creds": self.creds}

    # --- rules ------------------------------------------------------------------------
    @rule()
    def backup(self):
        try:
            run_backup(BackupOptions(dest=self.dest, concurrency=2, **self.common()))
        except UsageProblem:
            pass  # e.g. a folder where a file belongs: reported, nothing lost

    @precondition(lambda self: (self.dest / "catalog.db").exists())
    @rule()
    def verify(self):
        run_verify(VerifyOptions(dest=self.dest, jobs=1, quiet=True))

    @rule(index=st.integers(0, 4))
    def replace_on_flickr(self, index):
        item = self.ids[index % len(self.ids)]
        if item not in self.deleted:
            self.client.control("replace", id=item)

    @rule(index=st.integers(0, 4))
    def edit_on_flickr(self, index):
        item = self.ids[index % len(self.ids)]
        if item not in self.deleted:
            self.client.control("edit", id=item, title=f"edited {index}")

    @rule(kind=st.sampled_from(DAMAGE), index=st.integers(0, 4),
          where=st.floats(0, 0.99))
    def damage_a_file(self, kind, index, where):
        """A byte flipped, the file cut short, or swapped for a link to a copy outside DEST
        (the same bytes: only the link gives it away) or for a folder; or its folder swapped
        for a link to a copy of that folder outside DEST."""
        path = self.file_of(index)
        if path is None:
            return
        if kind == "folder link":
            copy = self.home / "outside" / f"folder-{len(os.listdir(self.home))}-{path.parent.name}"
            shutil.copytree(path.parent, copy, symlinks=True)
            shutil.rmtree(path.parent)
            path.parent.symlink_to(copy)
        elif kind == "flip a byte":
            data = bytearray(path.read_bytes())
            if data:
                data[int(where * len(data))] ^= 0x40
                path.write_bytes(bytes(data))
        elif kind == "truncate":
            os.truncate(path, int(path.stat().st_size * where))
        else:
            outside = self.home / "outside" / path.name
            shutil.copyfile(path, outside)
            path.unlink()
            if kind == "folder":
                path.mkdir()
            else:
                path.symlink_to(outside)

    @precondition(lambda self: (self.dest / "catalog.db").exists())
    @rule(kind=st.sampled_from(DAMAGE), index=st.integers(0, 4),
          where=st.floats(0, 0.99))
    def damage_between_proof_and_deletion(self, kind, index, where):
        """Verify, damage, delete-remote: what the last look before each call must catch."""
        self.verify()
        self.damage_a_file(kind, index, where)
        self.delete_remote()

    @precondition(lambda self: (self.dest / "catalog.db").exists())
    @rule(skew=st.sampled_from(SKEWS))
    def clocks_lie(self, skew):
        """Runs made under a clock `skew` seconds off: their stamps, as the catalog keeps them."""
        conn = sqlite3.connect(self.dest / "catalog.db")
        for column in ("verified_at", "downloaded_at"):
            conn.execute(f"UPDATE photos SET {column} = strftime('%Y-%m-%dT%H:%M:%SZ', {column}, ? || ' seconds') "
                         f"WHERE {column} IS NOT NULL", [str(skew)])
        conn.commit()
        conn.close()

    @precondition(lambda self: (self.dest / "catalog.db").exists())
    @rule(index=st.integers(0, 4), keep=st.floats(0.01, 0.99))
    def import_a_truncated_export(self, index, keep):
        folder = self.home / f"export-{len(os.listdir(self.home))}"
        self.client.control("export", dir=str(folder))
        victim = self.ids[index % len(self.ids)]
        for media in folder.glob("data-download-*.zip"):
            cut_one_entry(media, victim, keep)
        try:
            run_import(ImportOptions(dest=self.dest, paths=sorted(folder.iterdir()), quiet=True))
        except UsageProblem:
            pass
        shutil.rmtree(folder)

    @rule()
    def backup_then_verify(self):
        """The flow the README teaches, in one step, so that sequences reach proofs often."""
        self.backup()
        self.verify()

    @precondition(lambda self: (self.dest / "catalog.db").exists())
    @rule()
    def delete_remote(self):
        before = self.rows()
        try:
            run_delete(DeleteOptions(dest=self.dest, yes=True, **self.common()))
        except UsageProblem:
            SEEN["refused"] += 1
        SEEN["delete-remote runs"] += 1
        manifest = self.client.manifest()
        newly = {i for i, m in manifest.items() if m["deleted"]} - self.deleted
        conn = sqlite3.connect(self.dest / "catalog.db")
        journaled = {r[0] for r in conn.execute("SELECT photo_id FROM deletions WHERE result = 'deleted'")}
        conn.close()
        after = self.rows()
        for item in newly:
            row = after[item]
            path = self.dest / row["path"]
            # At the moment of deletion (nothing has touched DEST since): a regular file in
            # DEST, its bytes those verify proved and those of Flickr's copy.
            assert path.is_file() and not path.is_symlink(), (item, row["path"])
            assert Path(os.path.realpath(path)).is_relative_to(os.path.realpath(self.dest))
            assert sha256_of(path) == row["verified_sha256"] == before[item]["sha256"] == manifest[item]["sha256"], item
            assert item in journaled, item
        self.deleted |= newly
        SEEN["deleted"] += len(newly)
        SEEN["deleted from the export"] += sum(1 for i in newly if after[i]["source"] == "export")
        SEEN["deleted videos"] += sum(1 for i in newly if after[i]["media"] == "video")
        event(f"delete-remote deleted {min(len(newly), 2)}+ items" if newly else "delete-remote deleted nothing")
        if any(after[i]["source"] == "export" for i in newly):
            event("deleted an item proved from the export")

    @invariant()
    def only_exodus_deleted_and_every_deletion_is_journaled(self):
        if self.sandbox is None or not (self.dest / "catalog.db").exists():
            return
        gone = {i for i, m in self.client.manifest().items() if m["deleted"]}
        assert gone == self.deleted


def cut_one_entry(zip_path: Path, item_id: str, keep: float) -> None:
    """The item's original in this media zip, cut to a fraction of itself (a valid zip)."""
    rebuilt = zip_path.with_suffix(".tmp")
    with zipfile.ZipFile(zip_path) as old, zipfile.ZipFile(rebuilt, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            name = info.filename.rsplit("/", 1)[-1]
            if name.startswith(f"{item_id}_o.") or f"_{item_id}_o." in name:
                data = data[:max(1, int(len(data) * keep))]
            new.writestr(info, data)
    rebuilt.replace(zip_path)


def test_delete_only_what_is_proved():
    SEEN.clear()
    run_state_machine_as_test(DeleteOnlyWhatIsProved, settings=settings(
        max_examples=EXAMPLES, stateful_step_count=12, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]))
    # A delete-remote that never deleted (or always refused) would pass every sequence.
    assert SEEN["deleted"] > 0 and SEEN["refused"] < SEEN["delete-remote runs"] / 2, dict(SEEN)


# Many sequences in one test: more than the suite's per-test ceiling of 120 s.
test_delete_only_what_is_proved = pytest.mark.timeout(900)(test_delete_only_what_is_proved)
