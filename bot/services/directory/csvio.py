"""The places CSV (docs/places_csv.md): operators import it all-or-nothing with
line-numbered errors and export it to edit in a spreadsheet; demo mode loads the sample
entries of places_demo.csv, whose names start with "[Mẫu] "."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.geo.hours import parse_hours
from bot.geo.names import gazetteer
from bot.services.directory.index import KINDS, invalidate, split_phones
from bot.storage.db import session_scope
from bot.storage.models import Place, utcnow
from bot.vietnamese import nfc

DEMO_FILE = Path(__file__).with_name("places_demo.csv")
COLUMNS = (
    "key", "name", "kind", "unit", "address", "phones", "hours", "open_24_7", "hours_note",
    "lat", "lon", "services", "verified", "source", "last_verified", "sample", "verified_by", "verified_how",
)
HOWS = ("called", "visited", "official_list")  # how a place was verified
REQUIRED_COLUMNS = ("key", "name", "kind", "verified")
SAMPLE_PREFIX = "[Mẫu] "


@dataclass
class ImportReport:
    """What `import_csv` did; `errors` (English, line-numbered) means nothing was written."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


_KEY = re.compile(r"[a-z0-9][a-z0-9-]{0,63}")
_PHONE = re.compile(r"\+?[0-9][0-9 .()-]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_LIMITS = {"name": 200, "address": 300, "phones": 200, "hours": 200, "hours_note": 300, "verified_by": 64}


def _validate(line: int, record: dict[str, str | None]) -> tuple[dict | None, list[str]]:
    """One CSV row → column values for `Place`, or errors saying line and column."""
    errors: list[str] = []

    def error(column: str, problem: str) -> None:
        errors.append(f"line {line}: {column}: {problem}")

    raw = {c: _uncell(nfc((record.get(c) or "").strip())) for c in COLUMNS}
    values: dict = {c: raw[c] or None for c in ("name", "address", "hours", "hours_note", "services", "source",
                                                "verified_by", "verified_how")}

    def flag(column: str, required: bool = False) -> bool | None:
        text = raw[column].lower()
        if text in ("true", "false"):
            return text == "true"
        if text or required:
            error(column, f"must be true or false, got {raw[column]!r}")
        return None

    if not _KEY.fullmatch(raw["key"]):
        error("key", "required: lowercase letters, digits and '-', at most 64, e.g. 'kim-tra-police'")
    values["key"] = raw["key"]
    if not raw["name"]:
        error("name", "required")
    for column, limit in _LIMITS.items():
        if len(raw[column]) > limit:
            error(column, f"longer than {limit} characters")
    if raw["kind"] not in KINDS:
        error("kind", f"unknown kind {raw['kind']!r}; one of: {', '.join(KINDS)}")
    values["kind"] = raw["kind"]

    values["unit"] = None
    if raw["unit"]:
        unit = gazetteer().resolve(raw["unit"])
        if unit is None:
            error("unit", f"unknown phường/xã {raw['unit']!r} (current or former name, e.g. 'Phường Hương Trà' or 'Tứ Hạ')")
        else:
            values["unit"] = unit.name
    elif raw["kind"] != "hotline":
        error("unit", "required (the phường/xã the place is in); only hotlines may leave it empty")

    phones = split_phones(raw["phones"])
    for phone in phones:
        digits = sum(ch.isdigit() for ch in phone)
        if not _PHONE.fullmatch(phone) or not 3 <= digits <= 15:
            error("phones", f"{phone!r} is not a phone number (digits, spaces, . - ( ) +; several separated by ';')")
    if raw["kind"] == "hotline" and not phones:
        error("phones", "a hotline needs a phone number")
    values["phones"] = ";".join(phones) or None

    if raw["hours"]:
        try:
            parse_hours(raw["hours"])
        except ValueError as exc:
            error("hours", str(exc))
    values["open_24_7"] = bool(flag("open_24_7"))

    values["lat"] = values["lon"] = None
    if bool(raw["lat"]) != bool(raw["lon"]):
        error("lat/lon", "give both or neither")
    elif raw["lat"]:
        for column, bound in (("lat", 90), ("lon", 180)):
            try:
                number = float(raw[column])
            except ValueError:
                error(column, f"not a number: {raw[column]!r}")
                continue
            if not -bound <= number <= bound:
                error(column, f"{number} is outside -{bound}..{bound}")
            values[column] = number

    verified, sample = flag("verified", required=True), bool(flag("sample"))
    values["verified"], values["sample"] = bool(verified), sample
    values["last_verified"] = None
    if raw["last_verified"]:
        try:
            if not _DATE.fullmatch(raw["last_verified"]):
                raise ValueError
            values["last_verified"] = date.fromisoformat(raw["last_verified"])
        except ValueError:
            error("last_verified", f"expected a date YYYY-MM-DD, got {raw['last_verified']!r}")
    if raw["verified_how"] and raw["verified_how"] not in HOWS:
        error("verified_how", f"one of {', '.join(HOWS)}, got {raw['verified_how']!r}")
    if verified and sample:
        error("verified", "a sample entry cannot be verified")
    if verified and not raw["source"]:
        error("source", "a verified entry needs its source (URL or who confirmed it)")
    if verified and not raw["last_verified"]:
        error("last_verified", "a verified entry needs the date it was last checked")
    if sample and not raw["name"].startswith(SAMPLE_PREFIX):
        error("name", f"a sample entry's name must start with {SAMPLE_PREFIX!r}")
    if not sample and raw["name"].startswith(SAMPLE_PREFIX.strip()):
        error("sample", f"name starts with {SAMPLE_PREFIX.strip()!r} but sample is not true")
    return (None if errors else values), errors


def _read(stream: TextIO) -> tuple[list[dict], list[str]]:
    """Validate a whole CSV file; rows are returned only when every row is valid."""
    reader = csv.DictReader(stream)
    header = [h.strip() for h in reader.fieldnames or []]
    if not header:
        return [], ["line 1: empty file; expected a header row: " + ",".join(COLUMNS)]
    reader.fieldnames = header
    errors = [f"line 1: missing column {c!r}" for c in REQUIRED_COLUMNS if c not in header]
    errors += [f"line 1: unknown column {c!r}; columns are: {','.join(COLUMNS)}" for c in header if c not in COLUMNS]
    if errors:
        return [], errors
    rows: list[dict] = []
    first_line: dict[str, int] = {}
    for record in reader:
        # line where the record starts (a quoted field may span lines)
        line = reader.line_num - sum(v.count("\n") for v in record.values() if isinstance(v, str))
        if None in record:
            errors.append(f"line {line}: more fields than columns in the header")
            continue
        values, row_errors = _validate(line, record)
        errors += row_errors
        key = (record.get("key") or "").strip()
        if key in first_line:
            errors.append(f"line {line}: key: {key!r} is also on line {first_line[key]}")
        first_line.setdefault(key, line)
        if values:
            rows.append(values)
    return ([] if errors else rows), errors


def _upsert(session: Session, rows: list[dict], progress: Callable[[int, int], None] | None) -> tuple[int, int, int]:
    """Insert or update by key; rows already identical are left alone (and keep updated_at)."""
    existing = {p.key: p for p in session.scalars(select(Place))}
    inserted = updated = unchanged = 0
    stamp = utcnow()
    total = len(rows)
    step = max(1, -(-total // 100))  # at most ~100 calls
    for done, values in enumerate(rows, 1):
        place = existing.get(values["key"])
        if place is None:
            session.add(Place(**values, updated_at=stamp))
            inserted += 1
        elif any(getattr(place, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(place, k, v)
            place.updated_at = stamp
            updated += 1
        else:
            unchanged += 1
        if progress and (done % step == 0 or done == total):
            progress(done, total)
    session.flush()
    return inserted, updated, unchanged


def import_csv(source: str | Path | TextIO, progress: Callable[[int, int], None] | None = None) -> ImportReport:
    """Validate every row, then upsert all of them by key in one transaction — or, if any
    row is wrong, write nothing and return the errors. `source`: a path or an open text
    stream (the console's upload). `progress(done, total)` is called while writing (at most
    ~100 times) so the CLI can draw a bar."""
    try:
        if isinstance(source, (str, Path)):
            with open(source, encoding="utf-8-sig", newline="") as stream:
                rows, errors = _read(stream)
        else:
            rows, errors = _read(source)
    except UnicodeDecodeError as exc:
        return ImportReport(errors=[f"{source}: not UTF-8 text ({exc.reason} at byte {exc.start})"])
    report = ImportReport(rows=len(rows), errors=errors)
    if errors:
        return report
    with session_scope() as session:
        report.inserted, report.updated, report.unchanged = _upsert(session, rows, progress)
    invalidate()
    return report


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def _cell(value) -> str:
    """A CSV cell; text a spreadsheet would run as a formula (=, +, -, @) gets a leading '
    (the import takes it off again)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def export_csv(out: str | Path | TextIO) -> int:
    """Write every place in the import format (so export → import round-trips); returns the count."""
    with session_scope() as session:
        places = session.scalars(select(Place).order_by(Place.key)).all()
    if isinstance(out, (str, Path)):
        with open(out, "w", encoding="utf-8", newline="") as stream:
            return _write(stream, places)
    return _write(out, places)


def _write(stream: TextIO, places: list[Place]) -> int:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(COLUMNS)
    for place in places:
        writer.writerow([_cell(getattr(place, column)) for column in COLUMNS])
    return len(places)


def seed_demo(session: Session) -> int:
    """Load places_demo.csv into an empty table (demo start-up); returns rows added."""
    if session.scalar(select(func.count(Place.id))):
        return 0
    with open(DEMO_FILE, encoding="utf-8", newline="") as stream:
        rows, errors = _read(stream)
    if errors:
        raise ValueError("places_demo.csv is invalid:\n" + "\n".join(errors))
    inserted, _, _ = _upsert(session, rows, None)
    invalidate()
    return inserted

