"""Referral directory: residents get the most relevant, open, nearest places; operators get
line-numbered import errors and all-or-nothing imports; production never shows unverified
entries."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.find_place import ActionFindPlace
from bot import config
from bot.geo.distance import haversine_km
from bot.geo.names import gazetteer
from bot.services import directory
from bot.services.directory import COLUMNS, csvio, index
from bot.storage.db import session_scope
from bot.storage.models import Place

ROOT = Path(__file__).resolve().parents[2]
ICT = timezone(timedelta(hours=7))
MONDAY_9AM = datetime(2026, 11, 30, 9, 0, tzinfo=ICT)  # a Monday in Huế
HUONG_TRA, KIM_TRA, BINH_DIEN = "Phường Hương Trà", "Phường Kim Trà", "Xã Bình Điền"
CHECKED = (date.today() - timedelta(days=30)).isoformat()  # a verification that is current
EMERGENCY_LINE = "Nếu nguy hiểm ngay lúc này, gọi 113."


@pytest.fixture(autouse=True)
def fresh_index():
    directory.invalidate()
    yield
    directory.invalidate()


def row(key: str, /, **values: str) -> dict[str, str]:
    """A valid verified CSV row; keyword arguments override columns."""
    base = {
        "key": key, "name": f"Nơi {key}", "kind": "trusted_address", "unit": HUONG_TRA,
        "address": "1 Đường Thử", "phones": "0234 000 000", "hours": "", "open_24_7": "true",
        "hours_note": "", "lat": "16.52", "lon": "107.48", "services": "",
        "verified": "true", "source": "https://example.org/checked", "last_verified": CHECKED, "sample": "false",
    }
    return {**base, **values}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def import_rows(tmp_path: Path, rows: list[dict[str, str]]) -> directory.ImportReport:
    report = directory.import_csv(write_csv(tmp_path / "places.csv", rows))
    assert report.errors == []
    return report


def seed_demo() -> int:
    with session_scope() as session:
        return directory.seed_demo(session)


def keys(found) -> list[str]:
    return [f.entry.key for f in found]


@pytest.fixture
def production(monkeypatch):
    monkeypatch.setenv("GBVBOT_MODE", "production")
    monkeypatch.setenv("GBVBOT_ADMIN_TOKEN", "admin-token-0123456789")
    config.settings.cache_clear()
    yield
    config.settings.cache_clear()


# ---------------------------------------------------------------- ranking

def test_places_are_ranked_by_distance_from_a_location(db_url, tmp_path):
    import_rows(tmp_path, [
        row("far", lat="16.60", lon="107.48"),
        row("near", lat="16.5230", lon="107.4810"),
        row("middle", lat="16.55", lon="107.48"),
        row("no-coordinates", lat="", lon=""),
    ])
    found = directory.nearest(lat=16.5216, lon=107.48, kind="trusted_address", now=MONDAY_9AM, limit=4)
    assert keys(found) == ["near", "middle", "far", "no-coordinates"]
    assert found[0].distance_km == pytest.approx(0.19, abs=0.02)
    assert found[3].distance_km is None


def test_requested_kind_comes_first_then_open_places_then_distance(db_url, tmp_path):
    import_rows(tmp_path, [
        row("police-next-door", kind="police", lat="16.5217", lon="107.4801"),
        row("shelter-closed-near", kind="shelter", open_24_7="false", hours="Mon-Fri 13:00-17:00",
            lat="16.5220", lon="107.4800"),
        row("trusted-open-far", lat="16.56", lon="107.48"),
    ])
    found = directory.nearest(lat=16.5216, lon=107.48, kind="shelter", now=MONDAY_9AM)
    assert keys(found) == ["trusted-open-far", "shelter-closed-near", "police-next-door"]
    assert [f.open_now for f in found] == [True, False, True]
    police_first = directory.nearest(lat=16.5216, lon=107.48, kind="police", now=MONDAY_9AM)
    assert keys(police_first)[0] == "police-next-door"
    with pytest.raises(ValueError, match="unknown kind"):
        directory.nearest(lat=16.5216, lon=107.48, kind="hotline")


def test_nothing_known_returns_no_places(db_url):
    seed_demo()
    assert directory.nearest(kind="shelter") == []
    assert directory.nearest(unit="Hà Nội", kind="shelter") == []


@pytest.mark.parametrize("typed, unit", [
    ("tu ha", HUONG_TRA),
    ("Tứ Hạ", HUONG_TRA),
    ("huong van", HUONG_TRA),
    ("Hương Chữ", KIM_TRA),
    ("binh thanh", BINH_DIEN),
    ("Xã Bình Điền", BINH_DIEN),
])
def test_old_and_unaccented_names_find_places_in_the_current_unit(db_url, typed, unit):
    seed_demo()
    found = directory.nearest(unit=typed, kind="shelter", now=MONDAY_9AM)
    assert found[0].entry.unit == unit
    assert found[0].entry.kind in ("trusted_address", "shelter")
    assert found[0].in_unit


def test_places_in_the_named_unit_come_before_nearer_ones_outside(db_url, tmp_path):
    import_rows(tmp_path, [
        # Kim Trà centroid is 16.51, 107.52: the Hương Trà place is nearer to it but outside
        row("outside-but-near", unit=HUONG_TRA, lat="16.5101", lon="107.5201"),
        row("inside-far", unit=KIM_TRA, lat="16.54", lon="107.56"),
    ])
    found = directory.nearest(unit="huong chu", kind="trusted_address", now=MONDAY_9AM)
    assert keys(found) == ["inside-far", "outside-but-near"]
    assert [f.in_unit for f in found] == [True, False]


# ---------------------------------------------------------------- opening hours in Huế

def test_open_now_uses_hue_time_whatever_the_server_clock(db_url, tmp_path):
    import_rows(tmp_path, [row("office", open_24_7="false", hours="Mon-Fri 07:30-11:30,13:30-17:00; Sat 07:30-11:30")])
    office = directory.nearest(unit=HUONG_TRA)[0].entry
    # 00:45 UTC Monday = 07:45 in Huế: open, although it is still night in UTC
    assert office.open_at(datetime(2026, 11, 30, 0, 45, tzinfo=timezone.utc)) is True
    assert office.open_at(datetime(2026, 11, 30, 0, 45)) is True  # a naive server clock is UTC
    # 23:30 UTC Sunday = 06:30 Monday in Huế: not yet open
    assert office.open_at(datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)) is False
    # 05:00 UTC Monday = 12:00 in Huế: lunch break
    assert office.open_at(datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)) is False
    # 09:00 UTC Saturday = 16:00 in Huế: Saturday afternoon closed
    assert office.open_at(datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)) is False
    found = directory.nearest(unit=HUONG_TRA, now=datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc))
    assert found[0].open_now is True


# ---------------------------------------------------------------- who sees what

def test_production_never_shows_unverified_or_sample_places(db_url, tmp_path, production):
    seed_demo()
    with session_scope() as session:  # the demo file's hotlines, checked recently
        for place in session.query(Place).filter(Place.kind == "hotline"):
            place.last_verified = date.today()
    import_rows(tmp_path, [row("real-checked", lat="16.60", lon="107.48")])
    with session_scope() as session:
        session.add(Place(key="draft", name="Nhà chưa kiểm tra", kind="trusted_address", unit=HUONG_TRA,
                          lat=16.5217, lon=107.4801, open_24_7=True, verified=False, sample=False))
    directory.invalidate()
    found = directory.nearest(unit="tu ha", kind="shelter", limit=10)
    assert keys(found) == ["real-checked"]
    assert [e.phones for e in directory.hotlines()] == [("111",), ("113",), ("115",)]  # verified, so shown


def test_demo_mode_shows_sample_places_but_not_unverified_real_ones(db_url):
    seed_demo()
    with session_scope() as session:
        session.add(Place(key="draft", name="Nhà chưa kiểm tra", kind="trusted_address", unit=HUONG_TRA,
                          lat=16.5217, lon=107.4801, open_24_7=True, verified=False, sample=False))
    directory.invalidate()
    found = directory.nearest(unit=HUONG_TRA, kind="shelter", limit=20)
    assert "draft" not in keys(found)
    assert not any(f.entry.kind == "hotline" for f in directory.nearest(unit=HUONG_TRA, limit=50))
    assert all(f.entry.sample or f.entry.verified for f in found)
    assert any(f.entry.sample for f in found)
    assert [e.phones for e in directory.hotlines()] == [("111",), ("113",), ("115",)]


def test_production_without_a_verified_trusted_address_warns_loudly(db_url, tmp_path, production):
    seed_demo()
    warnings = directory.check_directory()
    assert any("NO VERIFIED TRUSTED ADDRESS" in w for w in warnings)
    import_rows(tmp_path, [row("ht-checked")])
    warnings = directory.check_directory()
    assert not any("NO VERIFIED TRUSTED ADDRESS" in w for w in warnings)
    assert "no verified trusted address in Phường Kim Trà" in warnings
    assert HUONG_TRA not in " ".join(warnings)


def test_the_index_notices_changes_made_by_another_process(db_url, tmp_path, monkeypatch):
    import_rows(tmp_path, [row("first")])
    assert keys(directory.nearest(unit=HUONG_TRA)) == ["first"]
    with session_scope() as session:  # like `gbvbot places import` in another process: no invalidate()
        session.add(Place(key="second", name="Nơi hai", kind="trusted_address", unit=HUONG_TRA, lat=16.5216,
                          lon=107.48, open_24_7=True, verified=True, sample=False, updated_at=datetime.now(timezone.utc)))
    monkeypatch.setattr(index, "REFRESH_SECONDS", 0)
    assert keys(directory.nearest(unit=HUONG_TRA)) == ["second", "first"]


# ---------------------------------------------------------------- answers

def test_answer_lists_name_address_phone_hours_distance_and_map(db_url):
    seed_demo()
    found = directory.nearest(unit="tu ha", kind="shelter", now=MONDAY_9AM)
    text = directory.format_places(found, kind="shelter", unit="tu ha")
    first = found[0].entry
    assert text.startswith(EMERGENCY_LINE)
    assert "gần Phường Hương Trà" in text
    assert "(vị trí ước lượng)" in text  # the Hương Trà centroid is an estimate
    assert first.name in text and first.address in text and first.phones[0] in text
    assert "Đang mở cửa" in text and "Đang đóng cửa" in text  # 24/7 place open; night-only place closed
    assert re.search(r"cách khoảng \d+,\d km", text)
    lat, lon = f"{first.lat:.5f}", f"{first.lon:.5f}"
    assert f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}" in text
    assert "[Mẫu] là dữ liệu thử nghiệm" in text


def test_answer_uses_only_phones_from_the_data_or_verified_hotlines(db_url):
    seed_demo()
    allowed = {"113", "115", "111"}
    for unit in (HUONG_TRA, KIM_TRA, BINH_DIEN):
        for kind in ("shelter", "police", "health", "legal_aid"):
            found = directory.nearest(unit=unit, kind=kind, now=MONDAY_9AM)
            text = directory.format_places(found, kind=kind, unit=unit)
            # drop map links, times, distances and "24/7"; numbers of 3+ digits left are phone numbers
            text = re.sub(r"https://\S+|\d\d:\d\d|\d+(,\d)? km|24/7", "", text)
            shown = {n for n in re.findall(r"\d[\d .]*\d", text) if sum(c.isdigit() for c in n) >= 3}
            listed = {p for f in found for p in f.entry.phones}
            assert shown <= allowed | listed, shown - allowed - listed
            assert listed and all(p.startswith("0000 000 ") for p in listed)


# ---------------------------------------------------------------- demo data

def test_demo_data_covers_every_unit_with_marked_sample_entries():
    with open(directory.DEMO_FILE, encoding="utf-8", newline="") as stream:
        rows, errors = csvio._read(stream)
    assert errors == []
    for unit in directory.area_units():
        kinds = {r["kind"] for r in rows if r["unit"] == unit.name}
        assert {"trusted_address", "legal_aid", "police", "health"} <= kinds, unit.name
    samples = [r for r in rows if r["sample"]]
    assert samples and all(r["name"].startswith("[Mẫu] ") and not r["verified"] for r in samples)
    assert all(re.fullmatch(r"0000 000 \d{3}", r["phones"]) for r in samples)
    for r in samples:  # near the unit's centroid, but not on it
        unit = gazetteer().by_name(r["unit"])
        assert 0.2 < haversine_km(unit.lat, unit.lon, r["lat"], r["lon"]) < 5, r["key"]
    real = [r for r in rows if not r["sample"]]
    assert {r["phones"] for r in real} == {"113", "115", "111"}
    assert all(r["kind"] == "hotline" and r["verified"] and r["source"].startswith("https://") for r in real)


def test_demo_seed_loads_only_into_an_empty_table(db_url):
    assert seed_demo() == 20
    assert seed_demo() == 0
    assert len(directory.list_places()) == 20


# ---------------------------------------------------------------- operators: import / export

def test_import_errors_are_line_numbered_and_nothing_is_written(db_url, tmp_path):
    path = write_csv(tmp_path / "bad.csv", [
        row("good-one"),
        row("bad-kind", kind="nha_tro"),
        row("bad-unit", unit="Hà Nội"),
        row("lat-only", lon=""),
        row("bad-phone", phones="gọi chị Lan"),
        row("bad-hours", open_24_7="false", hours="Mon-Fri 8h-17h"),
        row("bad-flag", verified="yes"),
        row("bad-date", last_verified="01/11/2026"),
        row("good-one", name="again"),
    ])
    report = directory.import_csv(path)
    assert not report.ok
    assert [e.split(":")[0] for e in report.errors] == [f"line {n}" for n in range(3, 11)]
    assert report.errors[0].startswith("line 3: kind: unknown kind 'nha_tro'")
    assert report.errors[1].startswith("line 4: unit: unknown phường/xã 'Hà Nội'")
    assert report.errors[2].startswith("line 5: lat/lon: give both or neither")
    assert report.errors[3].startswith("line 6: phones:")
    assert report.errors[4].startswith("line 7: hours:")
    assert report.errors[5].startswith("line 8: verified: must be true or false")
    assert report.errors[6].startswith("line 9: last_verified: expected a date YYYY-MM-DD")
    assert report.errors[7] == "line 10: key: 'good-one' is also on line 2"
    assert directory.list_places() == []  # the valid row was not written either


@pytest.mark.parametrize("values, error", [
    ({"key": "Bad Key"}, "line 2: key:"),
    ({"name": ""}, "line 2: name: required"),
    ({"unit": ""}, "line 2: unit: required"),
    ({"lat": "91"}, "line 2: lat: 91.0 is outside -90..90"),
    ({"lon": "east"}, "line 2: lon: not a number"),
    ({"verified": ""}, "line 2: verified: must be true or false"),
    ({"source": ""}, "line 2: source: a verified entry needs its source"),
    ({"sample": "true", "verified": "false"}, "line 2: name: a sample entry's name must start with '[Mẫu] '"),
    ({"name": "[Mẫu] Nhà thử", "sample": "true"}, "line 2: verified: a sample entry cannot be verified"),
    ({"kind": "hotline", "unit": "", "phones": ""}, "line 2: phones: a hotline needs a phone number"),
])
def test_each_invalid_value_is_reported(db_url, tmp_path, values, error):
    report = directory.import_csv(write_csv(tmp_path / "one.csv", [row("place-1", **values)]))
    assert any(e.startswith(error) for e in report.errors), report.errors


def test_missing_and_unknown_columns_are_reported_on_line_1(db_url, tmp_path):
    path = tmp_path / "columns.csv"
    path.write_text("key,name,phone\nx,y,0234\n", encoding="utf-8")
    errors = directory.import_csv(path).errors
    assert "line 1: missing column 'kind'" in errors
    assert "line 1: missing column 'verified'" in errors
    assert any(e.startswith("line 1: unknown column 'phone'") for e in errors)


def test_former_and_unaccented_unit_names_are_stored_as_the_current_unit(db_url, tmp_path):
    import_rows(tmp_path, [row("a", unit="tu ha"), row("b", unit="Hương Toàn"), row("c", unit="binh tien")])
    assert {p.key: p.unit for p in directory.list_places()} == {"a": HUONG_TRA, "b": KIM_TRA, "c": BINH_DIEN}
    assert [p.key for p in directory.list_places(ward="huong chu")] == ["b"]
    with pytest.raises(ValueError, match="unknown ward"):
        directory.list_places(ward="Hà Nội")


def test_import_upserts_by_key(db_url, tmp_path):
    first = import_rows(tmp_path, [row("a"), row("b")])
    assert (first.inserted, first.updated, first.unchanged) == (2, 0, 0)
    second = import_rows(tmp_path, [row("a", name="Tên mới", phones="0234 111 222;0234 333 444"), row("b"), row("c")])
    assert (second.inserted, second.updated, second.unchanged) == (1, 1, 1)
    places = {p.key: p for p in directory.list_places()}
    assert sorted(places) == ["a", "b", "c"]
    assert places["a"].name == "Tên mới"
    assert places["a"].phones == "0234 111 222;0234 333 444"
    assert directory.nearest(unit=HUONG_TRA, limit=5)[0].entry.phones in [("0234 111 222", "0234 333 444"), ("0234 000 000",)]


def test_export_then_import_round_trips(db_url, tmp_path):
    seed_demo()
    import_rows(tmp_path, [row("real", hours_note="Gọi trước, nói \"cần giúp\"", services="a, b\nc")])
    out = io.StringIO()
    assert directory.export_csv(out) == 21
    exported = out.getvalue()
    (tmp_path / "export.csv").write_text(exported, encoding="utf-8")
    report = directory.import_csv(tmp_path / "export.csv")
    assert (report.errors, report.inserted, report.updated, report.unchanged) == ([], 0, 0, 21)
    directory.export_csv(tmp_path / "again.csv")
    assert (tmp_path / "again.csv").read_text(encoding="utf-8") == exported


def test_import_reports_progress_for_large_files(db_url, tmp_path):
    calls: list[tuple[int, int]] = []
    directory.import_csv(write_csv(tmp_path / "big.csv", [row(f"p-{i}") for i in range(250)]),
                         progress=lambda done, total: calls.append((done, total)))
    assert calls[-1] == (250, 250)
    assert 2 < len(calls) <= 101
    assert [done for done, _ in calls] == sorted(done for done, _ in calls)


def test_example_file_in_the_docs_imports_cleanly(db_url):
    report = directory.import_csv(ROOT / "examples" / "places_example.csv")
    assert report.errors == []
    assert report.inserted >= 4


# ---------------------------------------------------------------- the Rasa action

def run_action(text: str, intent: str, entities: list[dict] | None = None, slots: dict | None = None):
    tracker = Tracker.from_dict({
        "sender_id": "w-test",
        "slots": {"place": None, "service": None, **(slots or {})},
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": 0.98}, "entities": entities or []},
        "events": [],
    })
    dispatcher = CollectingDispatcher()
    events = ActionFindPlace().run(dispatcher, tracker, {})
    return dispatcher.messages, events


def test_action_answers_a_tu_ha_shelter_request_with_a_place_in_huong_tra(db_url):
    seed_demo()
    messages, events = run_action("tìm nhà tạm lánh ở tu ha", "find_shelter",
                                  [{"entity": "place", "value": HUONG_TRA, "start": 20, "end": 25}])
    assert events == [SlotSet("service", "trusted_address"), SlotSet("place", HUONG_TRA)]
    text = messages[0]["text"]
    assert text.startswith(EMERGENCY_LINE)
    first = text.split("\n1. ")[1].split("\n")
    assert first[0].startswith("[Mẫu] Địa chỉ tin cậy")
    assert HUONG_TRA in first[1]
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/find_police", "/find_health", "/menu"]
    # counted for the reports (docs/indicators.md, referrals by kind and unit)
    assert messages[1]["custom"] == {"signal": "referral", "kind": "trusted_address", "unit": HUONG_TRA}


def test_action_finds_the_place_in_the_text_when_no_entity_was_extracted(db_url):
    seed_demo()
    messages, events = run_action("cho em chỗ trú ở huong chu", "find_shelter")
    assert SlotSet("place", KIM_TRA) in events
    assert "gần Phường Kim Trà" in messages[0]["text"]


def test_action_asks_for_the_ward_when_nothing_is_known(db_url):
    seed_demo()
    messages, events = run_action("có chỗ nào an toàn không", "find_shelter")
    assert events == [SlotSet("service", "trusted_address")]
    assert messages[0]["text"].startswith(EMERGENCY_LINE)
    assert "phường, xã nào" in messages[0]["text"] and "gửi vị trí" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        '/inform_place{"place":"Phường Hương Trà"}',
        '/inform_place{"place":"Phường Kim Trà"}',
        '/inform_place{"place":"Xã Bình Điền"}',
    ]
    assert len(messages) == 1  # no referral given, none counted


def test_action_remembers_the_service_when_the_ward_comes_next(db_url):
    seed_demo()
    messages, events = run_action("Xã Bình Điền", "inform_place", [{"entity": "place", "value": BINH_DIEN}],
                                  slots={"service": "police"})
    assert events == [SlotSet("service", "police"), SlotSet("place", BINH_DIEN)]
    assert "\n1. [Mẫu] Công an Xã Bình Điền" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/find_shelter", "/find_health", "/menu"]


def test_action_uses_a_shared_location(db_url):
    seed_demo()
    messages, events = run_action('/share_location{"lat": 16.5043, "lon": 107.5149}', "share_location",
                                  [{"entity": "lat", "value": 16.5043}, {"entity": "lon", "value": "107.5149"}],
                                  slots={"service": "trusted_address", "place": BINH_DIEN})
    assert events == [SlotSet("service", "trusted_address")]
    text = messages[0]["text"]
    assert "gần bạn" in text
    assert "\n1. [Mẫu] Nơi tạm lánh Kim Trà" in text
    assert "cách dưới 100 m" in text
    assert messages[1]["custom"] == {"signal": "referral", "kind": "trusted_address", "unit": None}


def test_action_server_does_not_import_rasa():
    code = "import sys, actions.find_place; print(sorted(m for m in sys.modules if m.split('.')[0] == 'rasa'))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_export_never_hands_a_spreadsheet_a_formula_and_the_import_restores_the_text(db_url, tmp_path):
    import_rows(tmp_path, [row("f", name="=HYPERLINK(\"http://x\")", hours_note="+ gọi trước", services="@all")])
    out = io.StringIO()
    directory.export_csv(out)
    cells = next(r for r in csv.DictReader(io.StringIO(out.getvalue())) if r["key"] == "f")
    assert cells["name"].startswith("'=") and cells["hours_note"].startswith("'+") and cells["services"].startswith("'@")
    (tmp_path / "back.csv").write_text(out.getvalue(), encoding="utf-8")
    assert directory.import_csv(tmp_path / "back.csv").errors == []
    place = next(p for p in directory.list_places() if p.key == "f")
    assert place.name == "=HYPERLINK(\"http://x\")" and place.hours_note == "+ gọi trước"


# ---------------------------------------------------------------- verification

def test_a_verification_is_due_six_calendar_months_later():
    assert index.due_date(date(2026, 6, 1)) == date(2026, 12, 1)
    assert index.due_date(date(2026, 8, 31)) == date(2027, 2, 28)
    assert index.due_date(date(2026, 10, 15)) == date(2027, 4, 15)


def test_production_hides_places_whose_verification_is_overdue(db_url, tmp_path, production):
    overdue = (date.today() - timedelta(days=200)).isoformat()
    import_rows(tmp_path, [row("checked-lately", lat="16.60", lon="107.48"), row("checked-long-ago", last_verified=overdue)])
    assert keys(directory.nearest(unit=HUONG_TRA, kind="shelter", limit=10)) == ["checked-lately"]
    assert any("checked-long-ago" in w and "re-verification" in w for w in directory.check_directory())


def test_editing_what_residents_read_takes_the_verification_away_until_checked_again(db_url, tmp_path, production):
    from bot.services.directory import verification

    import_rows(tmp_path, [row("ht-house")])
    form = {c: "" for c in verification.EDITABLE} | {"name": "Nơi ht-house", "kind": "trusted_address",
                                                      "unit": HUONG_TRA, "address": "1 Đường Thử",
                                                      "phones": "0234 000 000", "open_24_7": "true",
                                                      "lat": "16.52", "lon": "107.48", "services": "Tư vấn"}
    assert verification.save("ht-house", form, "officer:7") == verification.Saved("ht-house", [], False)
    assert keys(directory.nearest(unit=HUONG_TRA, kind="shelter")) == ["ht-house"]  # services only: still verified

    changed = verification.save("ht-house", form | {"phones": "0234 999 999"}, "officer:7")
    assert changed.unverified and directory.nearest(unit=HUONG_TRA, kind="shelter") == []
    assert verification.save("ht-house", form | {"phones": "gọi chị Lan"}, "officer:7").errors[0].startswith("phones:")

    assert verification.verify("ht-house", "officer:7", "phoned", "") == [
        "how: one of called, visited, official_list", "source: who confirmed it, or the list's address (1-300 characters)"]
    assert verification.verify("ht-house", "officer:7", "called", "Chị trực UBND", date.today() + timedelta(days=1))
    assert verification.verify("ht-house", "officer:7", "called", "Chị trực UBND phường") == []
    with session_scope() as session:
        place = session.query(Place).filter_by(key="ht-house").one()
        assert (place.verified, place.verified_how, place.verified_by, place.last_verified) == (
            True, "called", "officer:7", date.today())
    assert keys(directory.nearest(unit=HUONG_TRA, kind="shelter")) == ["ht-house"]


def test_research_leads_load_once_and_never_reach_residents(db_url):
    from bot.services.directory import leads

    assert leads.load() == (39, 0)
    assert leads.load() == (0, 0)
    assert {lead.unit for lead in leads.open_leads()} >= {HUONG_TRA, KIM_TRA, BINH_DIEN, None}
    assert directory.list_places() == []
    assert directory.nearest(unit=HUONG_TRA, limit=50) == []


def test_the_research_file_is_the_shared_one():
    shared = ROOT.parent / "shared" / "knowledge" / "places_research_2026-12.csv"
    if not shared.exists():
        pytest.skip("no ../shared checkout (CI)")
    assert (ROOT / "bot" / "services" / "directory" / "places_research_2026-12.csv").read_bytes() == shared.read_bytes()
