"""The wire to Flickr: credentials, the quota ledger, calls under net/'s retry policy, tolerant parsing.

Knows nothing of SQLite or of files other than its own token and ledger.
"""

from .client import Api, Endpoints
from .credentials import Credentials, MissingCredentials
from .errors import FlickrError, Throttled, Transient
from .quota import Quota

__all__ = ["Api", "Credentials", "Endpoints", "FlickrError", "MissingCredentials", "Quota",
           "Throttled", "Transient"]
