"""Research leads: places found by desk research (places_research_2026-12.csv, a copy of
../shared/knowledge/places_research_2026-12.csv) for the office to check. They are kept as
written — phones like "NOT FOUND" or a sentence, kinds the directory does not have — in their
own table, which nothing a resident reads ever looks at. A lead becomes a place through the
console's form (prefilled from it), and that place reaches residents only once verified.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import select

from bot.geo.names import gazetteer
from bot.services.escalation import audit
from bot.storage.db import session_scope
from bot.storage.models import PlaceLead, utcnow
from bot.vietnamese import nfc

RESEARCH_FILE = Path(__file__).with_name("places_research_2026-12.csv")
COLUMNS = ("name", "kind", "unit", "address", "phone", "hours", "lat", "lon", "verified", "source_urls",
           "source_date", "notes")
UNITS = {"phuong_huong_tra": "Phường Hương Trà", "phuong_kim_tra": "Phường Kim Trà", "xa_binh_dien": "Xã Bình Điền"}
VERDICTS = ("yes", "partial", "no")


class LeadsError(ValueError):
    """The research file is not what it should be (English, line-numbered)."""


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def load(path: str | Path = RESEARCH_FILE, actor: str = "cli") -> tuple[int, int]:
    """Add the file's leads, or update those already loaded (by name); all or nothing.
    Returns (added, updated)."""
    with open(path, encoding="utf-8-sig", newline="") as stream:
        reader = csv.DictReader(stream)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise LeadsError(f"line 1: missing columns: {', '.join(missing)}")
        rows, errors = [], []
        for line, record in enumerate(reader, start=2):
            record = {k: nfc((v or "").strip()) for k, v in record.items() if k}
            if not record["name"] or len(record["name"]) > 300:
                errors.append(f"line {line}: name: required, at most 300 characters")
            if record["verified"] not in VERDICTS:
                errors.append(f"line {line}: verified: one of {', '.join(VERDICTS)}")
            unit = UNITS.get(record["unit"]) or (gazetteer().resolve(record["unit"]).name
                                                if record["unit"] and gazetteer().resolve(record["unit"]) else None)
            rows.append({
                "name": record["name"], "kind": record["kind"][:32] or "other", "unit": unit,
                "address": record["address"] or None, "phone": record["phone"] or None, "hours": record["hours"] or None,
                "lat": _number(record["lat"]), "lon": _number(record["lon"]), "research": record["verified"],
                "sources": record["source_urls"] or None, "source_date": record["source_date"] or None,
                "notes": record["notes"] or None,
            })
    if errors:
        raise LeadsError("\n".join(errors))
    added = updated = 0
    with session_scope() as session:
        existing = {lead.name: lead for lead in session.scalars(select(PlaceLead))}
        for values in rows:
            lead = existing.get(values["name"])
            if lead is None:
                session.add(PlaceLead(**values, loaded_at=utcnow()))
                added += 1
            elif any(getattr(lead, k) != v for k, v in values.items()):
                for k, v in values.items():
                    setattr(lead, k, v)
                updated += 1
    audit(actor, "place_leads_load")
    return added, updated


def open_leads() -> list[PlaceLead]:
    """Leads no place has been made from yet, the area's first."""
    with session_scope() as session:
        leads = list(session.scalars(select(PlaceLead).where(PlaceLead.place_key.is_(None)).order_by(PlaceLead.id)))
    return sorted(leads, key=lambda lead: lead.unit is None)


def get(lead_id: int) -> PlaceLead | None:
    with session_scope() as session:
        return session.get(PlaceLead, lead_id)


def made_into(lead_id: int, place_key: str) -> None:
    """A place was created from this lead: it leaves the list of leads."""
    with session_scope() as session:
        lead = session.get(PlaceLead, lead_id)
        if lead is not None:
            lead.place_key = place_key
