"""AWS Signature Version 4 for one S3 request, as the hot path of a push needs it.

botocore's signer costs about ten times more per request (a generic canonicaliser and
a new signing key each time), which is a fifth of a small-file push's CPU; this one
keeps the day's signing key. The S3 servers in the tests check every signature, and a
test holds this one equal to botocore's."""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone
from urllib.parse import urlsplit

UNSIGNED = "UNSIGNED-PAYLOAD"


class Signer:
    def __init__(self, region: str, service: str = "s3"):
        self.region, self.service = region, service
        self._keys: dict[tuple[str, str], bytes] = {}

    def _key(self, secret: str, day: str) -> bytes:
        key = self._keys.get((secret, day))
        if key is None:
            key = f"AWS4{secret}".encode()
            for part in (day, self.region, self.service, "aws4_request"):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._keys = {(secret, day): key}  # one day at a time
        return key

    def sign(self, method: str, url: str, headers: dict[str, str], access_key: str, secret_key: str,
             token: str | None = None, now: datetime | None = None, payload: str = UNSIGNED) -> dict[str, str]:
        """The headers to send: `headers` plus host, x-amz-date, x-amz-content-sha256, the
        session token if any, and Authorization. The URL's path must be encoded already."""
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
        parts = urlsplit(url)
        out = {**headers, "X-Amz-Date": stamp, "X-Amz-Content-SHA256": payload}
        if token:
            out["X-Amz-Security-Token"] = token
        signed = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
        signed["host"] = parts.netloc
        names = sorted(signed)
        query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
        canonical = "\n".join([method, parts.path or "/", query, *(f"{n}:{signed[n]}" for n in names), "",
                               ";".join(names), payload])
        scope = f"{stamp[:8]}/{self.region}/{self.service}/aws4_request"
        to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        signature = hmac.new(self._key(secret_key, stamp[:8]), to_sign.encode(), hashlib.sha256).hexdigest()
        out["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
                                f"SignedHeaders={';'.join(names)}, Signature={signature}")
        return out
