"""Console accounts (`gbvbot users …`): one table with the duty roster, argon2id passwords,
lockout after failed sign-ins; bad input writes nothing (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot import cli
from bot.services import accounts, roster
from bot.storage.db import session_scope
from bot.storage.models import AuditLog, Officer

PASSWORD = "mật khẩu đủ dài 123"


def users_cli(monkeypatch, *args, password: str | None = PASSWORD) -> int:
    if password is None:
        monkeypatch.delenv("GBVBOT_NEW_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("GBVBOT_NEW_PASSWORD", password)
    return cli.main(["users", *args])


def count_officers() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Officer))


def test_users_add_list_disable_and_reset(db_url, monkeypatch, capsys):
    assert users_cli(monkeypatch, "add", "--username", "Can.Bo.KimTra", "--role", "officer",
                     "--units", "Phường Kim Trà,Xã Bình Điền", "--telegram-id", "4242") == 0
    assert users_cli(monkeypatch, "add", "--username", "lanh.dao", "--role", "official") == 0
    assert users_cli(monkeypatch, "add", "--username", "quan.tri", "--role", "admin") == 0
    capsys.readouterr()
    assert users_cli(monkeypatch, "list") == 0
    listed = capsys.readouterr().out
    assert "can.bo.kimtra\tofficer\tofficer\tPhường Kim Trà;Xã Bình Điền\tactive\tnever" in listed
    assert "lanh.dao\tofficial\t-\t*\tactive" in listed and PASSWORD not in listed
    with session_scope() as session:
        stored = session.scalar(select(Officer).where(Officer.username == "can.bo.kimtra"))
        assert stored.password_hash.startswith("$argon2id$") and stored.role == "officer"
    # officials and admins are not on the duty roster
    assert [o.display_name for o in roster.list_officers()] == ["can.bo.kimtra"]
    assert accounts.sign_in("can.bo.kimtra", PASSWORD) is not None

    assert users_cli(monkeypatch, "reset", "can.bo.kimtra", password="một mật khẩu mới hẳn") == 0
    assert accounts.sign_in("can.bo.kimtra", PASSWORD) is None
    assert accounts.sign_in("can.bo.kimtra", "một mật khẩu mới hẳn") is not None
    assert users_cli(monkeypatch, "disable", "can.bo.kimtra") == 0
    assert accounts.sign_in("can.bo.kimtra", "một mật khẩu mới hẳn") is None
    with session_scope() as session:
        actions = [a for (a,) in session.execute(select(AuditLog.action).where(AuditLog.actor == "cli"))]
    assert actions.count("user_add") == 3 and "user_reset" in actions and "user_disable" in actions


def test_bad_input_is_refused_with_a_clear_error_and_nothing_written(db_url, monkeypatch, capsys):
    before = count_officers()
    cases = [
        (["--username", "ab", "--role", "officer", "--units", "*"], PASSWORD, "username must be 3-32"),
        (["--username", "can.bo", "--role", "chief"], PASSWORD, "invalid choice"),
        (["--username", "can.bo", "--role", "officer", "--units", "Hà Nội"], PASSWORD, "unknown unit"),
        (["--username", "can.bo", "--role", "officer"], PASSWORD, "an officer needs --units"),
        (["--username", "can.bo", "--role", "officer", "--units", "*"], "ngắn", "12-256 characters"),
        (["--username", "can.bo", "--role", "officer", "--units", "*"], None, "GBVBOT_NEW_PASSWORD"),
    ]
    for args, password, message in cases:
        try:
            code = users_cli(monkeypatch, "add", *args, password=password)
        except SystemExit as exit_:  # argparse refuses an unknown role
            code = exit_.code
        assert code != 0
        assert message in capsys.readouterr().err
    assert count_officers() == before
    assert users_cli(monkeypatch, "add", "--username", "can.bo", "--role", "officer", "--units", "*") == 0
    assert users_cli(monkeypatch, "add", "--username", "CAN.BO", "--role", "official") == 1
    assert "is taken" in capsys.readouterr().err
    assert users_cli(monkeypatch, "reset", "nobody") == 1 and users_cli(monkeypatch, "disable", "nobody") == 1


def test_a_roster_officer_becomes_a_user_and_keeps_their_token(db_url, monkeypatch):
    officer_id, token = roster.add_officer("Cán bộ A", "police", "officer", "Kim Trà", telegram_id="77")
    assert users_cli(monkeypatch, "add", "--username", "can.bo.a", "--role", "officer", "--telegram-id", "77",
                     "--units", "*") == 1  # that Telegram id is an officer already: link, do not duplicate
    assert users_cli(monkeypatch, "add", "--username", "can.bo.a", "--role", "officer",
                     "--officer-id", str(officer_id)) == 0
    assert roster.officer_by_token(token).id == officer_id
    user = accounts.sign_in("can.bo.a", PASSWORD)
    assert user.id == officer_id and user.units == ("Phường Kim Trà",) and user.role == "officer"
    assert roster.officer_by_telegram("77").id == officer_id


def test_five_failures_lock_the_account_for_fifteen_minutes(db_url, monkeypatch):
    users_cli(monkeypatch, "add", "--username", "can.bo", "--role", "officer", "--units", "*")
    now = accounts.utcnow()
    for _ in range(5):
        assert accounts.sign_in("can.bo", "sai mật khẩu rồi", now=now) is None
    assert accounts.sign_in("can.bo", PASSWORD, now=now + timedelta(minutes=14)) is None
    assert accounts.sign_in("can.bo", PASSWORD, now=now + timedelta(minutes=16)) is not None
    assert accounts.sign_in("nobody", PASSWORD) is None
    with session_scope() as session:
        actions = [a for (a,) in session.execute(select(AuditLog.action))]
    assert actions.count("sign_in_failed") == 6 and actions.count("locked") == 1
    assert actions.count("sign_in_locked") == 1 and actions.count("sign_in") == 1


def test_migration_0009_keeps_the_roster_its_shifts_cases_and_tokens(tmp_path, monkeypatch):
    """Upgrading a database with officers (0008) to the one users table loses nothing."""
    from sqlalchemy import text

    from bot.storage import db
    from tests.conftest import _reset_caches

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GBVBOT_SECRET_KEY", "test-secret-key-0123456789abcdef-xyz")
    monkeypatch.setenv("GBVBOT_VAR_DIR", str(tmp_path / "var"))
    _reset_caches()
    try:
        db.upgrade(url, "0008")
        with db.engine(url).begin() as conn:
            for officer_id, role in ((1, "officer"), (2, "coordinator")):
                conn.execute(text(
                    "INSERT INTO officers (id, display_name, agency, role, units, token_hash, token_expires_at, active,"
                    " created_at) VALUES (:id, 'Cán bộ', 'police', :role, 'Phường Kim Trà', :hash, :expires, 1, :now)"),
                    {"id": officer_id, "role": role, "hash": roster.token_hash(f"token-{officer_id}"),
                     "expires": accounts.utcnow() + timedelta(days=30), "now": accounts.utcnow()})
            conn.execute(text("INSERT INTO shifts (officer_id, weekday, start, \"end\", off) VALUES (1, 0, '07:00', '17:00', 0)"))
            conn.execute(text(
                "INSERT INTO cases (id, sender, status, severity, category, channel, created_at, rung, reporter, relay,"
                " assigned_officer_id, updated_at) VALUES ('C1', 's', 'acknowledged', 'critical', 'other', 'web', :now,"
                " 0, 'resident', 1, 1, :now)"), {"now": accounts.utcnow()})
        db._engine.cache_clear()
        db._factory.cache_clear()
        db.upgrade(url)
        with session_scope() as session:
            roles = {o.id: o.console_role for o in session.scalars(select(Officer))}
            assert session.scalar(text("SELECT count(*) FROM shifts")) == 1
            assert session.scalar(text("SELECT assigned_officer_id FROM cases WHERE id = 'C1'")) == 1
        assert roles == {1: "officer", 2: "coordinator"}
        assert roster.officer_by_token("token-1").id == 1
    finally:
        db.engine(url).dispose()
        _reset_caches()
