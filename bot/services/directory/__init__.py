"""Referral directory: where a resident can go (trusted addresses, shelters, legal aid,
police, health), most relevant and nearest first, in words that fit a phone screen.

Places live in the `places` table. index.py finds them (an in-memory index, nearest,
hotlines, the start-up check, the operators' listing), answers.py words the answer
(texts in bot/content/places.yml), csvio.py imports and exports the operators' CSV and
loads the demo places. Place names, distances and opening hours are bot/geo's.
"""

from bot.services.directory.answers import format_ask_place, format_places
from bot.services.directory.csvio import COLUMNS, DEMO_FILE, ImportReport, export_csv, import_csv, seed_demo
from bot.services.directory.index import (
    KINDS,
    Entry,
    Found,
    area_units,
    check_directory,
    hotlines,
    invalidate,
    list_places,
    nearest,
    trusted_addresses,
)

__all__ = [
    "COLUMNS", "DEMO_FILE", "KINDS", "Entry", "Found", "ImportReport", "area_units", "check_directory",
    "export_csv", "format_ask_place", "format_places", "hotlines", "import_csv", "invalidate", "list_places",
    "nearest", "seed_demo", "trusted_addresses",
]
