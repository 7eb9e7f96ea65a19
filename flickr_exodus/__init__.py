"""flickr-exodus: get everything out of Flickr, prove it, and only then let go."""

__version__ = "0.1.0"
