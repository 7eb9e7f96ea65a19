"""Run flickr_download, unmodified, against a Flickr sandbox:
`python flickr_download_at.py BASE ARGS...`.

The one change is where flickr_api (the library flickr_download calls Flickr through) sends
its requests: its REST and OAuth URL constants. `REST_URL` is also bound as `call_api`'s
default `request_url` when flickr_api is imported, so that default is pointed too. Then
flickr_download's own `main()` runs with ARGS; its API key and secret come through its own
options, its OAuth token through its own token file (~/.flickr_token). Run with the peers'
interpreter (.venv-peers), never the project's.
"""

import inspect
import sys

from flickr_api import auth, method_call
from flickr_download.flick_download import main


def point(base: str) -> None:
    base = base.rstrip("/")
    method_call.REST_URL = f"{base}/services/rest/"
    signature = inspect.signature(method_call.call_api)
    method_call.call_api.__defaults__ = tuple(
        method_call.REST_URL if name == "request_url" else p.default
        for name, p in signature.parameters.items() if p.default is not inspect.Parameter.empty)
    auth.TOKEN_REQUEST_URL = f"{base}/services/oauth/request_token"
    auth.AUTHORIZE_URL = f"{base}/services/oauth/authorize"
    auth.ACCESS_TOKEN_URL = f"{base}/services/oauth/access_token"


if __name__ == "__main__":
    point(sys.argv[1])
    sys.argv = ["flickr_download", *sys.argv[2:]]
    sys.exit(main())
