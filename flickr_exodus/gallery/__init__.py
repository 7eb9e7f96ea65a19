"""exodus gallery: the backup as a static site that opens from a folder, offline."""
