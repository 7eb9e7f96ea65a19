"""The state of a backup: one SQLite file, DEST/catalog.db (WAL). Knows nothing of HTTP."""

from .items import Item, State, STATES
from .store import Catalog, CatalogError

__all__ = ["Catalog", "CatalogError", "Item", "State", "STATES"]
