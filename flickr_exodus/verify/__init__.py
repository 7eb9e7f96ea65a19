"""`exodus verify`: the local check (files whole, of the right kind, agreeing with what
Flickr stated) and the remote check (the backup complete against a fresh listing)."""
