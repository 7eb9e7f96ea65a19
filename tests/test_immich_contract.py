"""Contract with Immich's own client, @immich/sdk (generated from the server's OpenAPI spec),
fetched with `npm pack` for the oldest and newest server lines we support: every call
push makes exists with its method and path, every field it sends or reads exists in
that version's types, every required field is sent, and the fake Immich of the other
tests accepts exactly the SDK's upload and update fields."""

from __future__ import annotations

import re
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from flickr_exodus.targets.immich import CALLS, READ, REMOVED_IN_3, SENT
from immich_fake import UPDATE_FIELDS, UPLOAD_FIELDS, V2_ONLY

VERSIONS = ["1.138.1", "2.7.5", "3.2.2"]


@pytest.fixture(scope="module", params=VERSIONS)
def sdk(request, tmp_path_factory) -> tuple[int, dict[str, dict[str, bool]], dict[str, tuple[str, str]]]:
    """(major version, types: {name: {field: required}}, functions: {name: (method, path)})."""
    npm = shutil.which("npm")
    assert npm, "the contract test needs npm (Node.js) to fetch @immich/sdk"
    folder = tmp_path_factory.mktemp(f"sdk-{request.param}")
    done = subprocess.run([npm, "pack", f"@immich/sdk@{request.param}", "--silent"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"npm pack failed: {done.stderr[-500:]}"
    with tarfile.open(folder / done.stdout.strip().splitlines()[-1]) as archive:
        archive.extractall(folder, filter="data")
    build = folder / "package" / "build"
    return int(request.param.split(".")[0]), types_of(build / "fetch-client.d.ts"), calls_of(build / "fetch-client.js")


def types_of(path: Path) -> dict[str, dict[str, bool]]:
    types = {}
    for name, body in re.findall(r"^export type (\w+) = \{\n(.*?)^\};", path.read_text(), re.M | re.S):
        types[name] = {field: not optional for field, optional in re.findall(r"^    (\w+)(\??):", body, re.M)}
    return types


def calls_of(path: Path) -> dict[str, tuple[str, str]]:
    calls = {}
    text = path.read_text()
    for name, body in re.findall(r"^export function (\w+)\(.*?\{\n(.*?)^\}", text, re.M | re.S):
        where = re.search(r"fetch\w+\((?:\"([^\"]+)\"|`([^`]+)`)", body)
        if not where:
            continue
        route = where.group(1) or where.group(2)
        route = re.sub(r"\$\{QS\.query\(.*", "", route, flags=re.S)
        route = re.sub(r"\$\{encodeURIComponent\((\w+)\)\}", r"{\1}", route)
        method = re.search(r'method: "(\w+)"', body)
        calls[name] = (method.group(1) if method else "GET", route)
    return calls


def test_every_call_exists_with_its_method_and_path(sdk):
    _, _, calls = sdk
    for name, expected in CALLS.items():
        assert calls.get(name) == expected, (name, calls.get(name))


def test_every_field_sent_exists_and_every_required_one_is_sent(sdk):
    major, types, _ = sdk
    for dto, fields in SENT.items():
        assert dto in types, dto
        known = types[dto]
        sent = fields - REMOVED_IN_3 if major >= 3 else fields
        assert sent <= set(known), (dto, sent - set(known))
        required = {f for f, needed in known.items() if needed}
        assert required <= fields, (dto, required - fields)
    upload = types["AssetMediaCreateDto"]
    if major < 3:  # required up to 2.x: why they are always sent
        assert all(upload.get(f) for f in REMOVED_IN_3)
    else:
        assert not REMOVED_IN_3 & set(upload)


def test_every_field_read_exists(sdk):
    _, types, _ = sdk
    for dto, fields in READ.items():
        assert fields <= set(types.get(dto, {})), (dto, fields - set(types.get(dto, {})))


def test_the_fake_immich_takes_the_sdk_fields(sdk):
    major, types, _ = sdk
    if major < 3:
        assert set(types["AssetMediaCreateDto"]) - UPLOAD_FIELDS - V2_ONLY <= {"metadata"}  # 2.x added metadata
        return
    assert set(types["AssetMediaCreateDto"]) == UPLOAD_FIELDS
    assert set(types["UpdateAssetDto"]) == set(UPDATE_FIELDS)
