"""The backup pipeline: crawl (Flickr -> catalog), download (catalog -> files), tree
(sidecars and album/collection views)."""
