"""The state of a backup: one SQLite file, DEST/catalog.db (WAL). Knows nothing of HTTP."""

from .store import Catalog, CatalogError, STATES

__all__ = ["Catalog", "CatalogError", "STATES"]
