"""Flickr's own account export ("Request my Flickr data") as a second source of originals
and metadata: `exodus import-export`."""
