"""S3-compatible storage (AWS, Backblaze B2, Wasabi, MinIO, R2, SeaweedFS, rclone serve s3)
through aiobotocore: `s3://BUCKET/PREFIX`, endpoint and credentials from the usual AWS_*
variables (AWS_ENDPOINT_URL included). Checksums only where required, because B2 and
others refuse the SDK's default CRC headers; large files in our own multipart.

Single-part PUTs, the bulk of a push, skip botocore's request pipeline (a few ms of
Python each, which made a push of small files CPU-bound): the session's credentials, a
lean SigV4 signer (sigv4.py) and aiohttp, with Content-MD5 signed so that the store
refuses bytes that differ from the file's. With an endpoint and the credentials in the
environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: where botocore
would take them first too), opening is one signed HEAD of the bucket, and botocore's
client (a third of a second of CPU to import and build) is made only when something
needs it: a stat, a listing, a multipart upload, or a HEAD that did not answer 200,
whose failure botocore then tells as before.

An ETag is taken for the object's MD5 only where S3 guarantees it: a single-part PUT
stored in plain or with SSE-S3. Under SSE-KMS (aws:kms, aws:kms:dsse) or SSE-C it is
something else, and a multipart ETag is the MD5 of the parts' MD5s with "-N", which is
checked as such (each part also carries its Content-MD5).

The answer to a signed PUT is read within the bounds of answers.py (speed, average
floor, size cap); botocore's own calls keep its read timeout. botocore's and aiohttp's
failures leave here as net/'s kinds (`_told`): the push knows nothing of botocore."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import AsyncIterator, Iterator
from urllib.parse import quote, urlsplit

import aiohttp
import yarl
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from .answers import Answers
from .base import RemoteObject, Target, TargetProblem, split_url
from .sigv4 import Signer
from ..net.errors import Throttled, Transient, on_the_wire

MULTIPART_ABOVE = 64 * 1024 * 1024
PART_SIZE = 16 * 1024 * 1024
_AUTH_CODES = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "InvalidToken"}
_MD5 = re.compile(r"^[0-9a-f]{32}$")
_NOT_MD5_ENCRYPTION = {"aws:kms", "aws:kms:dsse"}  # SSE-S3 ("AES256") keeps the MD5 ETag
_SLOW_DOWN = {"SlowDown", "TooManyRequests", "RequestLimitExceeded"}  # S3's (and clones') 429


def _encrypted(sse: str | None, customer_algorithm: str | None) -> bool:
    """Stored under SSE-KMS or SSE-C: the ETag is then not an MD5 of the object."""
    return (sse or "").strip().lower() in _NOT_MD5_ENCRYPTION or bool(customer_algorithm)


def etag_md5(etag: str | None, sse: str | None, customer_algorithm: str | None) -> str | None:
    """The MD5 a single-part object's ETag stands for, where S3 guarantees it; else None."""
    etag = (etag or "").strip('"').lower()
    return etag if _MD5.match(etag) and not _encrypted(sse, customer_algorithm) else None


def _b64(hex_digest: str) -> str:
    return base64.b64encode(bytes.fromhex(hex_digest)).decode()


def _environment_credentials() -> tuple[str, str, str | None] | None:
    """The keys in the environment, as botocore's first provider reads them; None when
    they are not both there."""
    access, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if not access or not secret:
        return None
    return access, secret, os.environ.get("AWS_SESSION_TOKEN") or os.environ.get("AWS_SECURITY_TOKEN") or None


def _fatal(error: ClientError) -> bool:
    """Credentials or bucket: no retry will help."""
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return error.response.get("Error", {}).get("Code") in _AUTH_CODES | {"NoSuchBucket"} or status in (403, 404)


def s3_name(bucket: str, prefix: str, endpoint: str | None) -> str:
    """The target's name in the catalog's `pushes`: what was sent where. With an endpoint
    (MinIO, SeaweedFS, any S3-compatible store) its host is part of it, so the same bucket
    and prefix on another store is another target: nothing recorded for one counts as
    pushed to the other (delete-remote's --require-pushed relies on it)."""
    name = f"s3://{bucket}/{prefix}".rstrip("/")
    if endpoint:
        parts = urlsplit(endpoint)  # host and port only: never a user or password written in it
        host = (parts.hostname or "").lower()
        name += f" ({host}:{parts.port})" if host and parts.port else f" ({host or endpoint})"
    return name


class S3Target(Target):
    def __init__(self, bucket: str, prefix: str, endpoint: str | None):
        self.bucket, self.prefix, self.endpoint = bucket, prefix.strip("/"), endpoint
        self.name = s3_name(bucket, self.prefix, endpoint)
        self._context = None
        self._client = None
        self._session = None     # the aiobotocore session: credentials for the signer
        self._static = _environment_credentials() if endpoint else None  # else botocore's chain
        self._region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self._signer: Signer | None = None
        self._http: aiohttp.ClientSession | None = None
        self._making = asyncio.Lock()  # concurrent first uses make one client, not several
        self.reads = Answers(self.name)

    @classmethod
    def from_url(cls, url: str) -> "S3Target":
        parts = split_url(url, "s3://BUCKET/PREFIX", lambda p: p.netloc)
        # botocore's own order: the S3-only variable before the one for every service.
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None
        return cls(parts.netloc, parts.path, endpoint)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    async def open(self) -> None:
        self._signer = Signer(self._region)
        # No cookies: S3 sets none, and a jar costs a little on every request.
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=120),
                                           cookie_jar=aiohttp.DummyCookieJar())
        try:
            if self._static is not None and await self._bucket_answers():
                return
            await (await self.client()).head_bucket(Bucket=self.bucket)
        except Exception as error:  # noqa: BLE001 - every failure becomes one line for the user
            await self.close()
            raise self._problem(error) from None

    async def _bucket_answers(self) -> bool:
        """One signed HEAD of the bucket: True when it answers 200. Anything else (no
        answer, a refusal, a redirect) is botocore's to tell, with its retries."""
        url = yarl.URL(f"{self.endpoint.rstrip('/')}/{quote(self.bucket, safe='')}", encoded=True)
        headers = self._signer.sign("HEAD", str(url), {}, *self._static)
        try:
            async with self._http.head(url, headers=headers, allow_redirects=False) as answer:
                return answer.status == 200
        except (aiohttp.ClientError, OSError, TimeoutError):
            return False

    async def client(self):
        """botocore's client, made on first use."""
        async with self._making:
            if self._client is None:
                await self._make_client()
        return self._client

    async def _make_client(self) -> None:
        from aiobotocore.session import get_session
        from botocore.config import Config

        config = Config(request_checksum_calculation="when_required",
                        response_checksum_validation="when_required", s3={"addressing_style": "path"},
                        retries={"max_attempts": 6, "mode": "standard"}, connect_timeout=10, read_timeout=120)
        self._session = self._session or get_session()
        self._context = self._session.create_client("s3", endpoint_url=self.endpoint, config=config,
                                                    region_name=self._region)
        self._client = await self._context.__aenter__()

    async def _endpoint_url(self) -> str:
        return self.endpoint.rstrip("/") if self.endpoint else (await self.client()).meta.endpoint_url.rstrip("/")

    async def _credentials(self) -> tuple[str, str, str | None]:
        """(access key, secret key, session token): the environment's, else botocore's
        chain (profiles, SSO, instance roles), refreshed as it needs."""
        if self._static is not None:
            return self._static
        if self._session is None:
            await self.client()
        frozen = await (await self._session.get_credentials()).get_frozen_credentials()
        return frozen.access_key, frozen.secret_key, frozen.token

    def _problem(self, error: Exception) -> TargetProblem:
        where = self.endpoint or "AWS"
        if isinstance(error, EndpointConnectionError):
            return TargetProblem(f"cannot reach {where} for {self.name}")
        if isinstance(error, ClientError):
            code = error.response.get("Error", {}).get("Code", "")
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code in _AUTH_CODES or status == 403:
                return TargetProblem(f"{where} refused the credentials for {self.name} (check AWS_ACCESS_KEY_ID and "
                                     "AWS_SECRET_ACCESS_KEY)")
            if code in ("NoSuchBucket", "404") or status == 404:
                return TargetProblem(f"the bucket {self.bucket} does not exist at {where}")
            return TargetProblem(f"{where}: {code or status} for {self.name}")
        if isinstance(error, BotoCoreError):
            return TargetProblem(f"{where}: {error}")
        return TargetProblem(f"{where}: {type(error).__name__}: {error}")

    @contextmanager
    def _told(self) -> Iterator[None]:
        """What went wrong inside, as net/'s kinds: credentials or bucket are a
        TargetProblem (the push ends), SlowDown is Throttled, anything else (BadDigest,
        a 5xx, a reset) Transient: the push sends the file again."""
        where = self.endpoint or "AWS"
        with on_the_wire(where):
            try:
                yield
            except ClientError as error:
                if _fatal(error):
                    raise self._problem(error) from None
                code = error.response.get("Error", {}).get("Code") or "?"
                said = f"{where}: {code}: {error.response.get('Error', {}).get('Message', '')}"[:300]
                raise (Throttled if code in _SLOW_DOWN else Transient)(said) from error
            except BotoCoreError as error:
                raise Transient(f"{where}: {error}") from error

    async def put(self, key: str, path: Path, md5: str, mtime: float, data: bytes | None = None) -> RemoteObject:
        size = len(data) if data is not None else path.stat().st_size
        with self._told():
            if size <= MULTIPART_ABOVE:
                etag, sse, customer = await self._put_signed(self._key(key), path, size, md5, data)
            else:
                etag, sse, customer = await self._multipart(self._key(key), path, md5)
        # The store accepted our signed Content-MD5 (of the file, or of every part): S3
        # checks the bytes against it before storing them.
        there = RemoteObject(key, size, etag, accepted="content-md5")
        if size <= MULTIPART_ABOVE:
            there.md5, there.md5_by = etag_md5(etag, sse, customer), "etag"
        elif etag and "-" in etag and not _encrypted(sse, customer):
            there.md5, there.md5_by = md5, "multipart-etag"  # _multipart compared it
        return there

    async def _put_signed(self, key: str, path: Path, size: int, md5: str,
                          data: bytes | None) -> tuple[str | None, str | None, str | None]:
        """One PUT, signed here, sent by aiohttp: the ETag the store answers and its
        encryption headers. Content-MD5 (signed) makes the store check the bytes, so the
        payload itself goes unsigned. A redirect is not followed: the signature and the
        credentials are for this endpoint's host only."""
        # Encoded here, as signed: yarl neither parses it again nor re-quotes it.
        url = yarl.URL(f"{await self._endpoint_url()}/{self.bucket}/{quote(key, safe='/~')}", encoded=True)
        headers = self._signer.sign("PUT", str(url), {
            "Content-Length": str(size), "Content-MD5": _b64(md5), "Content-Type": "application/octet-stream"},
            *await self._credentials())
        with (nullcontext(data) if data is not None else open(path, "rb")) as body:
            async with self._http.put(url, data=body, headers=headers, allow_redirects=False) as answer:
                text = (await self.reads.read(answer, f"the answer to the PUT of {key}")).decode("utf-8", "replace")
                if answer.status == 200:
                    return (answer.headers.get("ETag", "").strip('"') or None,
                            answer.headers.get("x-amz-server-side-encryption"),
                            answer.headers.get("x-amz-server-side-encryption-customer-algorithm"))
                if 300 <= answer.status < 400:
                    raise TargetProblem(f"{self.endpoint or 'AWS'} redirected the upload of {key} to "
                                        f"{answer.headers.get('Location', 'elsewhere')!r}: not followed, the "
                                        "credentials are for the endpoint's host only (check AWS_ENDPOINT_URL "
                                        "and AWS_REGION)")
        code = text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else str(answer.status)
        raise ClientError({"Error": {"Code": code, "Message": text[:200]},
                           "ResponseMetadata": {"HTTPStatusCode": answer.status}}, "PutObject")

    async def _multipart(self, key: str, path: Path, md5: str) -> tuple[str | None, str | None, str | None]:
        """Our own multipart upload, each part with its Content-MD5; the ETag and the
        encryption of the result. Unencrypted, the ETag must be the MD5 of the parts'
        MD5s with "-N": a store that assembled other bytes is caught here (BadDigest)."""
        client = await self.client()
        upload = await client.create_multipart_upload(Bucket=self.bucket, Key=key)
        parts, digests = [], []
        try:
            with open(path, "rb") as handle:
                number = 1
                while block := handle.read(PART_SIZE):
                    digest = hashlib.md5(block).digest()
                    answer = await client.upload_part(
                        Bucket=self.bucket, Key=key, PartNumber=number, UploadId=upload["UploadId"], Body=block,
                        ContentMD5=base64.b64encode(digest).decode())
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                    digests.append(digest)
                    number += 1
            done = await client.complete_multipart_upload(Bucket=self.bucket, Key=key,
                                                               UploadId=upload["UploadId"],
                                                               MultipartUpload={"Parts": parts})
        except BaseException:
            try:
                await client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload["UploadId"])
            except Exception:  # noqa: BLE001 - the original error matters more
                pass
            raise
        etag = done.get("ETag", "").strip('"') or None
        sse, customer = done.get("ServerSideEncryption"), done.get("SSECustomerAlgorithm")
        expected = f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"
        if etag and "-" in etag and not _encrypted(sse, customer) and etag.lower() != expected:
            raise ClientError({"Error": {"Code": "BadDigest", "Message": f"multipart ETag {etag}, not {expected}"},
                               "ResponseMetadata": {"HTTPStatusCode": 200}}, "CompleteMultipartUpload")
        return etag, sse, customer

    async def stat(self, key: str) -> RemoteObject | None:
        with self._told():
            try:
                head = await (await self.client()).head_object(Bucket=self.bucket, Key=self._key(key))
            except ClientError as error:
                if error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
                    return None
                raise self._problem(error) from None
        etag = head.get("ETag", "").strip('"') or None
        return RemoteObject(key, head["ContentLength"], etag, md5_by="etag",
                            md5=etag_md5(etag, head.get("ServerSideEncryption"), head.get("SSECustomerAlgorithm")))

    async def list(self, prefix: str = "") -> AsyncIterator[RemoteObject]:
        paginator = (await self.client()).get_paginator("list_objects_v2")
        start = self._key(prefix) if prefix else (self.prefix + "/" if self.prefix else "")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            for entry in page.get("Contents", []):
                key = entry["Key"][len(self.prefix) + 1:] if self.prefix else entry["Key"]
                yield RemoteObject(key, entry["Size"], entry.get("ETag", "").strip('"') or None)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._context is not None:
            await self._context.__aexit__(None, None, None)
            self._context = self._client = None
