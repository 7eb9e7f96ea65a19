"""Our SigV4 signer (the hot path of S3 pushes) agrees with botocore's, header for header,
on the requests push makes: plain keys, keys that need quoting, session tokens. The S3
servers of test_push.py check the same signatures for real."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import quote

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import ReadOnlyCredentials

from flickr_exodus.targets.s3 import S3Target
from flickr_exodus.targets.sigv4 import Signer

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


@pytest.mark.parametrize("key, token", [
    ("photos/2019/07/04/1_sunset.jpg", None),
    ("photos/2019/07/04/2_мост над рекой (1).jpg.json", None),
    ("faves/3_a+b=c&d~e.jpg", "SESSION/TOKEN+with=signs"),
])
def test_signature_equals_botocore(monkeypatch, key, token):
    url = f"http://127.0.0.1:9000/bucket/{quote(key, safe='/~')}"
    headers = {"Content-Length": "1234", "Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg==",
               "Content-Type": "application/octet-stream"}
    ours = Signer("eu-central-003").sign("PUT", url, headers, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token, now=NOW)

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = AWSRequest("PUT", url, headers=dict(headers))
    request.context["client_config"] = Config(s3={"payload_signing_enabled": False})
    botocore.auth.S3SigV4Auth(ReadOnlyCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", token), "s3",
                              "eu-central-003").add_auth(request)
    theirs = dict(request.headers.items())
    assert ours["Authorization"] == theirs["Authorization"]
    for name in ("X-Amz-Date", "X-Amz-Content-SHA256"):
        assert ours[name] == theirs[name]
    assert ours.get("X-Amz-Security-Token") == theirs.get("X-Amz-Security-Token")


def test_the_signing_key_changes_with_the_day():
    signer = Signer("us-east-1")
    url = "http://127.0.0.1:9000/b/k"
    one = signer.sign("PUT", url, {}, "AK", "SK", now=NOW)["Authorization"]
    two = signer.sign("PUT", url, {}, "AK", "SK", now=NOW.replace(day=3))["Authorization"]
    assert one.split("Signature=")[1] != two.split("Signature=")[1] and "20260103/us-east-1/s3" in two


def test_an_s3_target_is_named_with_its_store_and_never_its_credentials(monkeypatch):
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert S3Target.from_url("s3://b/p").name == "s3://b/p"  # AWS itself
    monkeypatch.setenv("AWS_ENDPOINT_URL", "https://me:hunter2@Minio.Example:9000/")
    assert S3Target.from_url("s3://b/p").name == "s3://b/p (minio.example:9000)"
    # botocore takes the S3-only variable first: so does the name.
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:8333")
    target = S3Target.from_url("s3://b/p/")
    assert (target.name, target.endpoint) == ("s3://b/p (127.0.0.1:8333)", "http://127.0.0.1:8333")
