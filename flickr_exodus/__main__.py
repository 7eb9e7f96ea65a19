"""`python -m flickr_exodus` is the same program as `exodus`."""

from .cli import main

main()
