"""A faithful local Flickr: REST API, OAuth 1.0a and photo/video CDN, with fault injection.

It shares no code with the client (flickr/, catalog/, backup/): a bug common to both
would pass every test. Start it with `exodus sandbox`, or from Python:

    from flickr_exodus.sandbox import Sandbox, SandboxConfig
    with Sandbox(SandboxConfig(photos=20, videos=2)) as sb:
        print(sb.info["api_base"])
"""

from pathlib import Path

from .config import SandboxConfig, parse_rate, parse_size_range
from .export import DEFECTS, write_export
from .generate import generate
from .running import SandboxState
from .server import Sandbox, serve_forever


def export_account(config: SandboxConfig, folder: Path, defects=()) -> dict:
    """Write the account export of the account `config` describes (a running sandbox
    exports its current state with POST /__sandbox__/export instead)."""
    return write_export(generate(config), Path(folder), defects=set(defects))


__all__ = ["DEFECTS", "Sandbox", "SandboxConfig", "SandboxState", "export_account", "parse_rate",
           "parse_size_range", "serve_forever"]
