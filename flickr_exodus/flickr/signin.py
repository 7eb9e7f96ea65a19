"""Signing in to Flickr: OAuth 1.0a out of band, as `exodus auth` and the demo run it.

Flickr gives a request token and an address for the user's browser; the user authorizes
there and Flickr shows a code; that code buys the access token. How the address reaches
the user and the code comes back is the caller's (a terminal, or the demo's own browser)."""

from __future__ import annotations

from typing import Callable

from flickrapi.exceptions import FlickrError as LibraryError

from .client import Endpoints, library_lines, oauth_interface, sign_in_refused, unreachable
from .credentials import Credentials


class SignInFailed(Exception):
    """Flickr refused the sign-in, or could not be reached: one line for the user."""


def sign_in(creds: Credentials, endpoints: Endpoints, perms: str, authorize: Callable[[str], str]) -> Credentials:
    """The API key in `creds`, signed in with `perms`: `authorize(url)` has the user open
    the address and returns the code Flickr showed them. Returns credentials holding the
    access token and the account's username."""
    oauth = oauth_interface(Credentials(creds.api_key, creds.api_secret), endpoints)
    with library_lines() as said:
        try:
            oauth.get_request_token(oauth_callback="oob")
            oauth.verifier = authorize(oauth.auth_url(perms=perms))
            token = oauth.get_access_token()
        except LibraryError:
            raise SignInFailed(sign_in_refused(endpoints.sign_in_host, said)) from None
        except OSError as error:  # requests' connection errors among them
            raise SignInFailed(unreachable(endpoints.sign_in_host, error)) from None
    return Credentials(creds.api_key, creds.api_secret, token.token, token.token_secret, perms, token.username)
