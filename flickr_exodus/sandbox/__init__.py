"""A faithful local Flickr: REST API, OAuth 1.0a and photo/video CDN, with fault injection.

It shares no code with the client (flickr/, catalog/, backup/): a bug common to both
would pass every test. Start it with `exodus sandbox`, or from Python:

    from flickr_exodus.sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(photos=20, videos=2)) as sb:
        print(sb.info["api_base"])
"""

from .config import SandboxConfig, parse_rate, parse_size_range
from .server import Sandbox, SandboxState, serve_forever

__all__ = ["Sandbox", "SandboxConfig", "SandboxState", "parse_rate", "parse_size_range", "serve_forever"]
